#include "control/scheduler/fragmentation.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/str_join.h"

namespace meridian::scheduler {

std::vector<TypicalPod> TypicalPods(const std::vector<PodSpec>& workload, double coverage) {
  // key: cpu, gpu milli, gpu count, accepted models
  using Shape = std::tuple<int64_t, int32_t, int32_t, std::string>;
  std::map<Shape, std::pair<double, std::vector<std::string>>> counts;
  for (const PodSpec& pod : workload) {
    const int32_t milli = pod.wants_gpu() ? pod.gpu_milli : 0;
    auto& entry = counts[{pod.cpu_milli, milli, pod.gpu_count, absl::StrJoin(pod.accepted_gpu_models, "|")}];
    entry.first += 1;
    entry.second = pod.accepted_gpu_models;
  }
  std::vector<std::pair<Shape, std::pair<double, std::vector<std::string>>>> shapes(counts.begin(), counts.end());
  // Most frequent first; equal counts: the larger shape first (a stable, documented order).
  std::stable_sort(shapes.begin(), shapes.end(), [](const auto& a, const auto& b) {
    if (a.second.first != b.second.first) return a.second.first > b.second.first;
    return a.first > b.first;
  });
  const double total = static_cast<double>(workload.size());
  std::vector<TypicalPod> typical;
  double kept = 0;
  for (const auto& [shape, entry] : shapes) {
    if (kept >= coverage * total) break;
    kept += entry.first;
    typical.push_back(TypicalPod{.cpu_milli = std::get<0>(shape),
                                 .gpu_count = std::get<2>(shape),
                                 .gpu_milli = std::get<1>(shape),
                                 .accepted_gpu_models = entry.second,
                                 .frequency = entry.first});
  }
  for (TypicalPod& t : typical) t.frequency /= kept;
  return typical;
}

namespace {

bool Accessible(const TypicalPod& pod, const NodeSpec& node) {
  if (pod.accepted_gpu_models.empty()) return true;
  if (node.gpu_model.empty()) return false;
  return std::find(pod.accepted_gpu_models.begin(), pod.accepted_gpu_models.end(), node.gpu_model) !=
         pod.accepted_gpu_models.end();
}

}  // namespace

double GpuFragmentation(const NodeSpec& node, int64_t cpu_free, const std::vector<int32_t>& gpu_free_milli,
                        const std::vector<TypicalPod>& typical) {
  int64_t free_total = 0;
  for (int32_t free : gpu_free_milli) free_total += free;
  if (free_total == 0) return 0;
  double fragmentation = 0;
  for (const TypicalPod& pod : typical) {
    double unusable = static_cast<double>(free_total);
    if (pod.gpu_milli > 0 && Accessible(pod, node) && cpu_free >= pod.cpu_milli) {
      int32_t fitting = 0;
      int64_t too_small = 0;
      for (int32_t free : gpu_free_milli) {
        if (free >= pod.gpu_milli) {
          ++fitting;
        } else {
          too_small += free;
        }
      }
      if (fitting >= pod.gpu_count) unusable = static_cast<double>(too_small);
    }
    fragmentation += pod.frequency * unusable;
  }
  return fragmentation;
}

std::optional<double> LeastFragmentationGrowth(const NodeSpec& node, int64_t cpu_free,
                                               const std::vector<int32_t>& gpu_free_milli, const TypicalPod& pod,
                                               const std::vector<TypicalPod>& typical) {
  if (cpu_free < pod.cpu_milli) return std::nullopt;
  if (pod.gpu_milli > 0 && !Accessible(pod, node)) return std::nullopt;
  const int64_t cpu_after = cpu_free - pod.cpu_milli;
  const double before = GpuFragmentation(node, cpu_free, gpu_free_milli, typical);
  std::vector<int32_t> gpus = gpu_free_milli;
  if (pod.gpu_milli == 0) return GpuFragmentation(node, cpu_after, gpus, typical) - before;
  if (pod.gpu_count == 1 && pod.gpu_milli < kMilliPerGpu) {
    std::optional<double> least;
    for (size_t i = 0; i < gpus.size(); ++i) {
      if (gpus[i] < pod.gpu_milli) continue;
      bool seen = false;  // devices with equal free give equal results
      for (size_t j = 0; j < i && !seen; ++j) seen = gpus[j] == gpus[i];
      if (seen) continue;
      gpus[i] -= pod.gpu_milli;
      const double growth = GpuFragmentation(node, cpu_after, gpus, typical) - before;
      gpus[i] += pod.gpu_milli;
      if (!least || growth < *least) least = growth;
    }
    return least;
  }
  int32_t needed = pod.gpu_count;  // the first devices with room, as FirstFreeGpus
  for (int32_t& free : gpus) {
    if (needed > 0 && free >= pod.gpu_milli) {
      free -= pod.gpu_milli;
      --needed;
    }
  }
  if (needed > 0) return std::nullopt;
  return GpuFragmentation(node, cpu_after, gpus, typical) - before;
}

}  // namespace meridian::scheduler
