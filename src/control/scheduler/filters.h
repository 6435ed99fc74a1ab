#pragma once

// The filters: can this pod run on this node? Each answers with the reason it cannot, in the
// words kube-scheduler uses, so that a waiting pod's status explains itself.
// Static filters depend only on the node's spec (model, labels, taints) and never change with
// load, so preemption cannot help a pod they reject; resource filters depend on what is free.

#include <string_view>
#include <vector>

#include "control/scheduler/cluster.h"
#include "control/scheduler/node_state.h"

namespace meridian::scheduler {

enum class Unfit {
  kNone,
  kGpuModel,
  kNodeSelector,
  kNodeAffinity,
  kTaint,
  kCpu,
  kMemory,
  kGpu,
};
inline constexpr int kUnfitReasons = 8;

// "Insufficient cpu", "node(s) had untolerated taint", ...
const char* UnfitMessage(Unfit reason);
bool IsResourceShortage(Unfit reason);

bool AcceptsGpuModel(const PodSpec& pod, const std::string& model);
bool MatchesNodeSelector(const PodSpec& pod, const NodeSpec& node);
bool MatchesRequiredAffinity(const PodSpec& pod, const NodeSpec& node);
bool ToleratesTaints(const PodSpec& pod, const NodeSpec& node);

// The first static reason the pod cannot run on the node, or kNone.
Unfit CheckStatic(const PodSpec& pod, const NodeSpec& node);

// Whether `gpu_free_milli` has the devices the pod asks for: one device with the share left, or
// `gpu_count` fully free devices.
bool GpusFit(const PodSpec& pod, const std::vector<int32_t>& gpu_free_milli);

// The first resource the node lacks for the pod, or kNone.
Unfit CheckResources(const PodSpec& pod, const NodeState& node);

inline Unfit CheckNode(const PodSpec& pod, const NodeState& node) {
  Unfit reason = CheckStatic(pod, *node.spec);
  return reason != Unfit::kNone ? reason : CheckResources(pod, node);
}

}  // namespace meridian::scheduler
