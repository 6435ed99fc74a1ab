#pragma once

// Admission and placement of every deployment's replicas on this machine through the scheduler
// core: replicas are placed highest priority first (and, within a priority, those already running
// before newcomers, then oldest deployment first), so that when the node is full a higher-priority
// deployment takes the room of lower-priority replicas (preemption) and never the reverse. Each
// deployment learns how many replicas it may run and, when fewer than it wants, why, in the
// scheduler's words ("0/1 nodes are available: 1 Insufficient nvidia.com/gpu.") or the quota's
// ("exceeded quota in namespace team-a, requested: requests.cpu=1000, ...").

#include <map>
#include <string>
#include <vector>

#include "control/scheduler/cluster.h"
#include "control/scheduler/resource_quota.h"

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
  bool over_quota = false;   // the reason is the namespace's quota
  std::string preempted_by;  // namespace/name of the higher-priority deployment that took the room
};

// With `quotas`, a replica is admitted only within its namespace's quota, and what is placed is
// charged to it (so that quotas->Used(ns) afterwards is the namespace's usage).
std::map<std::string, PlacementResult> PlanPlacement(const scheduler::NodeSpec& node,
                                                     const std::vector<PlacementDemand>& demands,
                                                     scheduler::ResourceQuotas* quotas = nullptr);

}  // namespace meridian::deploy
