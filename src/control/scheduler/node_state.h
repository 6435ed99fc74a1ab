#pragma once

// What is left on one node while pods come and go: free CPU, memory and per-device GPU milli,
// plus the kinds of GPU pods it runs (GpuClustering reads them). `generation` changes on every
// change, so that scores cached for the old state are known to be stale.

#include <array>
#include <cstdint>
#include <vector>

#include "control/scheduler/cluster.h"

namespace meridian::scheduler {

// A GPU pod's kind: a share of one GPU (0) or the number of whole GPUs (1..8; 9 for more).
inline constexpr int kGpuPodKinds = 10;
int GpuPodKind(const PodSpec& pod);

struct NodeState {
  const NodeSpec* spec = nullptr;
  int64_t cpu_free = 0;
  int64_t memory_free = 0;
  std::vector<int32_t> gpu_free_milli;  // one entry per device, 0..1000
  std::array<int32_t, kGpuPodKinds> gpu_pods_by_kind{};
  uint32_t generation = 1;

  static NodeState Empty(const NodeSpec& spec);

  int64_t gpu_free_total() const;
  int fully_free_gpus() const;
  int distinct_gpu_pod_kinds() const;

  // Takes or returns the pod's resources on the given devices.
  void Take(const PodSpec& pod, const std::vector<int>& gpus);
  void Give(const PodSpec& pod, const std::vector<int>& gpus);
};

}  // namespace meridian::scheduler
