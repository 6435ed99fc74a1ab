#include "control/scheduler/preemption.h"

#include <algorithm>
#include <tuple>

namespace meridian::scheduler {

VictimFilter LowerPriorityThan(const PodSpec& pod) {
  const int32_t priority = pod.priority;
  return [priority](const BoundPod& victim) { return victim.spec.priority < priority; };
}

std::optional<PreemptionPlan> PlanPreemption(const Scheduler& scheduler, const PodSpec& pod,
                                             const VictimFilter& eligible) {
  std::vector<std::vector<const BoundPod*>> by_node(scheduler.nodes().size());
  for (const auto& [key, bound] : scheduler.pods()) {
    if (eligible(bound)) by_node[static_cast<size_t>(bound.node)].push_back(&bound);
  }
  std::optional<PreemptionPlan> best;
  int64_t best_sum = 0;
  for (size_t n = 0; n < scheduler.nodes().size(); ++n) {
    const NodeState& node = scheduler.nodes()[n];
    if (CheckStatic(pod, *node.spec) != Unfit::kNone || by_node[n].empty()) continue;
    NodeState state = node;
    for (const BoundPod* victim : by_node[n]) state.Give(victim->spec, victim->gpus);
    if (CheckResources(pod, state) != Unfit::kNone) continue;
    // Reprieve: highest priority first (then the oldest), as many as still leave room.
    std::vector<const BoundPod*> candidates = by_node[n];
    std::sort(candidates.begin(), candidates.end(), [](const BoundPod* a, const BoundPod* b) {
      return std::tie(b->spec.priority, a->sequence) < std::tie(a->spec.priority, b->sequence);
    });
    PreemptionPlan plan{.node = static_cast<int>(n)};
    int64_t sum = 0;
    bool first_victim = true;
    for (const BoundPod* candidate : candidates) {
      state.Take(candidate->spec, candidate->gpus);
      if (CheckResources(pod, state) == Unfit::kNone) continue;  // reprieved
      state.Give(candidate->spec, candidate->gpus);
      plan.victims.push_back(Scheduler::PodKey(candidate->spec));
      sum += candidate->spec.priority;
      if (first_victim || candidate->spec.priority > plan.highest_victim_priority) {
        plan.highest_victim_priority = candidate->spec.priority;
        first_victim = false;
      }
    }
    const auto rank = [](const PreemptionPlan& p, int64_t s) {
      return std::make_tuple(p.victims.size(), p.highest_victim_priority, s);
    };
    if (!best || rank(plan, sum) < rank(*best, best_sum)) {
      best = std::move(plan);
      best_sum = sum;
    }
  }
  return best;
}

}  // namespace meridian::scheduler
