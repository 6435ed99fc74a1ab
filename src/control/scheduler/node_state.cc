#include "control/scheduler/node_state.h"

#include <algorithm>

namespace meridian::scheduler {

int GpuPodKind(const PodSpec& pod) {
  if (pod.shares_gpu()) return 0;
  return std::min<int>(pod.gpu_count, kGpuPodKinds - 1);
}

NodeState NodeState::Empty(const NodeSpec& spec) {
  NodeState s;
  s.spec = &spec;
  s.cpu_free = spec.cpu_milli;
  s.memory_free = spec.memory_bytes;
  s.gpu_free_milli.assign(static_cast<size_t>(std::max(spec.gpu_count, 0)), kMilliPerGpu);
  return s;
}

int64_t NodeState::gpu_free_total() const {
  int64_t total = 0;
  for (int32_t free : gpu_free_milli) total += free;
  return total;
}

int NodeState::fully_free_gpus() const {
  return static_cast<int>(std::count(gpu_free_milli.begin(), gpu_free_milli.end(), kMilliPerGpu));
}

int NodeState::distinct_gpu_pod_kinds() const {
  return static_cast<int>(
      std::count_if(gpu_pods_by_kind.begin(), gpu_pods_by_kind.end(), [](int32_t n) { return n > 0; }));
}

void NodeState::Take(const PodSpec& pod, const std::vector<int>& gpus) {
  cpu_free -= pod.cpu_milli;
  memory_free -= pod.memory_bytes;
  for (int device : gpus) gpu_free_milli[static_cast<size_t>(device)] -= pod.gpu_milli;
  if (pod.wants_gpu()) ++gpu_pods_by_kind[static_cast<size_t>(GpuPodKind(pod))];
  ++generation;
}

void NodeState::Give(const PodSpec& pod, const std::vector<int>& gpus) {
  cpu_free += pod.cpu_milli;
  memory_free += pod.memory_bytes;
  for (int device : gpus) gpu_free_milli[static_cast<size_t>(device)] += pod.gpu_milli;
  if (pod.wants_gpu()) --gpu_pods_by_kind[static_cast<size_t>(GpuPodKind(pod))];
  ++generation;
}

}  // namespace meridian::scheduler
