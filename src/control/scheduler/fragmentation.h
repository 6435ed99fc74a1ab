#pragma once

// GPU fragmentation as the FGD paper (USENIX ATC'23) defines it: the expected amount of a node's
// free GPU that a pod drawn from the target workload could not use, because the node lacks CPU,
// lacks a device with that much free, or has the wrong GPU model. The target workload is its
// "typical pods": the most frequent pod shapes covering 95 % of the workload, with frequencies.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/scheduler/cluster.h"
#include "control/scheduler/node_state.h"

namespace meridian::scheduler {

struct TypicalPod {
  int64_t cpu_milli = 0;
  int32_t gpu_count = 0;
  int32_t gpu_milli = 0;  // 0 for CPU-only pods
  std::vector<std::string> accepted_gpu_models;
  double frequency = 0;  // sums to 1 over the list
};

// Shapes ordered by frequency, most frequent first, until `coverage` of the pods are counted;
// frequencies renormalized over the kept shapes.
std::vector<TypicalPod> TypicalPods(const std::vector<PodSpec>& workload, double coverage = 0.95);

// The expected unusable GPU milli of a node with this much free, in the paper's measure: for each
// typical pod, all free GPU milli counts if the pod cannot run on the node at all (CPU-only pods
// included: they never use GPUs), otherwise only the devices too small for it.
double GpuFragmentation(const NodeSpec& node, int64_t cpu_free, const std::vector<int32_t>& gpu_free_milli,
                        const std::vector<TypicalPod>& typical);

// How much a node's fragmentation grows at least when `pod` is placed on it (over the devices it
// could take; whole-GPU pods take the first free ones), or nullopt when it does not fit there.
std::optional<double> LeastFragmentationGrowth(const NodeSpec& node, int64_t cpu_free,
                                               const std::vector<int32_t>& gpu_free_milli, const TypicalPod& pod,
                                               const std::vector<TypicalPod>& typical);

}  // namespace meridian::scheduler
