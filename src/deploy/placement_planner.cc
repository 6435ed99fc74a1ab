#include "deploy/placement_planner.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "control/scheduler/reference_policies.h"
#include "control/scheduler/scheduler.h"

namespace meridian::deploy {

std::map<std::string, PlacementResult> PlanPlacement(const scheduler::NodeSpec& node,
                                                     const std::vector<PlacementDemand>& demands,
                                                     scheduler::ResourceQuotas* quotas) {
  struct Slot {
    const PlacementDemand* demand;
    int index;
  };
  std::vector<Slot> slots;
  for (const PlacementDemand& d : demands) {
    for (int i = 0; i < d.replicas; ++i) slots.push_back({&d, i});
  }
  std::stable_sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
    if (a.demand->pod.priority != b.demand->pod.priority) return a.demand->pod.priority > b.demand->pod.priority;
    const bool a_running = a.index < a.demand->running;
    const bool b_running = b.index < b.demand->running;
    if (a_running != b_running) return a_running;
    if (a.demand->order != b.demand->order) return a.demand->order < b.demand->order;
    return a.index < b.index;
  });
  scheduler::Scheduler sched({node}, scheduler::MakeBestFitPolicy());
  std::map<std::string, PlacementResult> results;
  for (const PlacementDemand& d : demands) results[d.key];
  for (const Slot& slot : slots) {
    scheduler::PodSpec pod = slot.demand->pod;
    pod.name = absl::StrCat(slot.demand->key, "#", slot.index);
    PlacementResult& result = results[slot.demand->key];
    if (quotas != nullptr) {
      if (absl::Status admitted = quotas->Admit(pod); !admitted.ok()) {
        if (result.reason.empty()) {
          result.reason = std::string(admitted.message());
          result.over_quota = true;
        }
        continue;
      }
    }
    scheduler::Decision decision = sched.Place(pod);
    if (decision.scheduled) {
      ++result.placed;
      if (quotas != nullptr) quotas->Charge(pod);
    } else if (result.reason.empty()) {
      result.reason = decision.Explain(sched.nodes());
    }
  }
  // A deployment that lost replicas it was running gave way to a higher-priority newcomer.
  for (const PlacementDemand& d : demands) {
    PlacementResult& result = results[d.key];
    if (result.placed >= std::min(d.running, d.replicas)) continue;
    const PlacementDemand* winner = nullptr;
    for (const PlacementDemand& other : demands) {
      if (other.pod.priority <= d.pod.priority || results[other.key].placed <= other.running) continue;
      if (winner == nullptr || other.pod.priority > winner->pod.priority) winner = &other;
    }
    if (winner != nullptr) {
      result.preempted_by = winner->deployment;
      result.reason = absl::StrCat("preempted by higher-priority deployment ", winner->deployment, " (priority ",
                                   winner->pod.priority, " > ", d.pod.priority, "): ", result.reason);
    }
  }
  return results;
}

}  // namespace meridian::deploy
