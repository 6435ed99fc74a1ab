#pragma once

// Preemption: when a pod fits nowhere, find the node where evicting the fewest eligible pods
// makes room, as kube-scheduler does: on each node remove every eligible pod, check the pod fits,
// then give back ("reprieve") the eligible pods from the highest priority down while it still
// fits. Nodes are compared by fewest victims, then the lowest highest-victim priority, then the
// lowest sum of victim priorities. Eligibility is a parameter: lower priority for priority
// preemption, "its team is borrowing" for quota reclaim.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "control/scheduler/scheduler.h"

namespace meridian::scheduler {

using VictimFilter = std::function<bool(const BoundPod& victim)>;

// Pods of strictly lower priority than `pod`: never equal or higher.
VictimFilter LowerPriorityThan(const PodSpec& pod);

struct PreemptionPlan {
  int node = -1;
  std::vector<std::string> victims;  // pod keys
  int32_t highest_victim_priority = 0;
};

// Pure: reads the scheduler's state, changes nothing.
std::optional<PreemptionPlan> PlanPreemption(const Scheduler& scheduler, const PodSpec& pod,
                                             const VictimFilter& eligible);

}  // namespace meridian::scheduler
