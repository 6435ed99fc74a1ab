#include "control/scheduler/gpu_selection.h"

namespace meridian::scheduler {

std::vector<int> FirstFreeGpus(const NodeState& node, const PodSpec& pod) {
  std::vector<int> devices;
  for (size_t i = 0; i < node.gpu_free_milli.size() && static_cast<int32_t>(devices.size()) < pod.gpu_count; ++i) {
    if (node.gpu_free_milli[i] >= kMilliPerGpu) devices.push_back(static_cast<int>(i));
  }
  return devices;
}

std::vector<int> BestFitGpus(const NodeState& node, const PodSpec& pod) {
  if (!pod.wants_gpu()) return {};
  if (!pod.shares_gpu()) return FirstFreeGpus(node, pod);
  int best = -1;
  for (size_t i = 0; i < node.gpu_free_milli.size(); ++i) {
    const int32_t free = node.gpu_free_milli[i];
    if (free >= pod.gpu_milli && (best < 0 || free < node.gpu_free_milli[static_cast<size_t>(best)])) {
      best = static_cast<int>(i);
    }
  }
  return best < 0 ? std::vector<int>{} : std::vector<int>{best};
}

std::vector<int> RandomFitGpus(const NodeState& node, const PodSpec& pod, Rng& rng) {
  if (!pod.wants_gpu()) return {};
  if (!pod.shares_gpu()) return FirstFreeGpus(node, pod);
  int chosen = -1;
  int fitting = 0;
  for (size_t i = 0; i < node.gpu_free_milli.size(); ++i) {
    if (node.gpu_free_milli[i] < pod.gpu_milli) continue;
    ++fitting;  // reservoir sampling: each fitting device ends up chosen with probability 1/n
    if (std::uniform_int_distribution<int>(0, fitting - 1)(rng) == 0) chosen = static_cast<int>(i);
  }
  return chosen < 0 ? std::vector<int>{} : std::vector<int>{chosen};
}

std::vector<int> ScorePolicy::SelectGpus(const NodeState& node, const PodSpec& pod, Rng&) const {
  return BestFitGpus(node, pod);
}

}  // namespace meridian::scheduler
