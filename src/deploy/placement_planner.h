#pragma once

// Admission and placement of every deployment's replicas on this machine through the scheduler
// core: replicas are placed highest priority first (and, within a priority, those already running
// before newcomers, then oldest deployment first), so that when the node is full a higher-priority
// deployment takes the room of lower-priority replicas (preemption) and never the reverse. Each
// deployment learns how many replicas it may run and, when fewer than it wants, why, in the
// scheduler's words ("0/1 nodes are available: 1 Insufficient nvidia.com/gpu.").

#include <map>
#include <string>
#include <vector>

#include "control/scheduler/cluster.h"

namespace meridian::deploy {

struct PlacementDemand {
  std::string key;         // what the result is keyed by, e.g. "team-a/mlp" or "team-a/mlp canary"
  std::string deployment;  // namespace/name, for "preempted by"
  scheduler::PodSpec pod;  // one replica: requests, priority, placement constraints
  int replicas = 0;        // wanted
  int running = 0;         // placed in the previous plan
  uint64_t order = 0;      // creation order
};

struct PlacementResult {
  int placed = 0;
  std::string reason;        // why not all were placed (empty when they were)
  std::string preempted_by;  // namespace/name of the higher-priority deployment that took the room
};

std::map<std::string, PlacementResult> PlanPlacement(const scheduler::NodeSpec& node,
                                                     const std::vector<PlacementDemand>& demands);

}  // namespace meridian::deploy
