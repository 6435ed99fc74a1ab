#pragma once

// How a pod's devices are picked on its node. Whole-GPU pods take the first fully free devices;
// a GPU-sharing pod takes the tightest device that fits (best fit) or a random one.

#include <vector>

#include "control/scheduler/cluster.h"
#include "control/scheduler/node_state.h"
#include "control/scheduler/score_policy.h"

namespace meridian::scheduler {

std::vector<int> FirstFreeGpus(const NodeState& node, const PodSpec& pod);
std::vector<int> BestFitGpus(const NodeState& node, const PodSpec& pod);
std::vector<int> RandomFitGpus(const NodeState& node, const PodSpec& pod, Rng& rng);

}  // namespace meridian::scheduler
