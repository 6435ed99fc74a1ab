#include "control/scheduler/scheduling_cycle.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/scheduler/preemption.h"

namespace meridian::scheduler {

SchedulingCycle::SchedulingCycle(Scheduler* scheduler, ResourceQuotas* quotas, FairShare* fair_share)
    : scheduler_(scheduler), quotas_(quotas), fair_share_(fair_share) {}

std::vector<PodOutcome> SchedulingCycle::Run(const std::vector<PodSpec>& pending) {
  const std::vector<PodSpec> order = fair_share_ != nullptr ? fair_share_->Order(pending) : pending;
  std::vector<PodOutcome> outcomes;
  outcomes.reserve(order.size());
  for (const PodSpec& pod : order) outcomes.push_back(Admit(pod));
  return outcomes;
}

void SchedulingCycle::Evict(const std::string& pod_key) {
  auto it = scheduler_->pods().find(pod_key);
  if (it == scheduler_->pods().end()) return;
  const PodSpec victim = it->second.spec;
  if (!scheduler_->Evict(pod_key).ok()) return;
  quotas_->Release(victim);
  if (fair_share_ != nullptr) fair_share_->Release(victim);
}

PodOutcome SchedulingCycle::Admit(const PodSpec& pod) {
  PodOutcome outcome{.pod = Scheduler::PodKey(pod)};
  if (absl::Status quota = quotas_->Admit(pod); !quota.ok()) {
    outcome.reason = absl::StrCat("QuotaExceeded: ", quota.message());
    return outcome;
  }
  FairShareDecision share;
  if (fair_share_ != nullptr) {
    share = fair_share_->Admit(pod);
    if (share.admission == FairShareAdmission::kWait) {
      outcome.reason = absl::StrCat("FairShare: ", share.reason);
      return outcome;
    }
  }
  Decision decision = scheduler_->Schedule(pod);
  if (!decision.scheduled && decision.only_resource_shortage()) {
    // Room by priority first; then, for a team within its nominal share, by reclaiming it.
    std::optional<PreemptionPlan> plan = PlanPreemption(*scheduler_, pod, LowerPriorityThan(pod));
    std::string how = "lower-priority pods";
    if (!plan && fair_share_ != nullptr && share.admission == FairShareAdmission::kWithinNominal) {
      plan = PlanPreemption(*scheduler_, pod, fair_share_->ReclaimFrom(pod));
      how = "pods borrowing its team's share";
    }
    if (plan) {
      for (const std::string& victim : plan->victims) Evict(victim);
      outcome.evicted = plan->victims;
      decision = scheduler_->Schedule(pod);
      if (decision.scheduled) {
        outcome.reason = absl::StrCat("Preempted ", how, " (", absl::StrJoin(plan->victims, ", "), ") on ",
                                      scheduler_->nodes()[static_cast<size_t>(plan->node)].spec->name);
      }
    }
  }
  if (!decision.scheduled) {
    outcome.reason = absl::StrCat("Unschedulable: ", decision.Explain(scheduler_->nodes()));
    return outcome;
  }
  if (absl::Status bound = scheduler_->Bind(pod, decision); !bound.ok()) {
    outcome.reason = absl::StrCat("Unschedulable: ", bound.message());
    return outcome;
  }
  quotas_->Charge(pod);
  if (fair_share_ != nullptr) fair_share_->Charge(pod);
  outcome.result = PodOutcome::Result::kPlaced;
  outcome.node = scheduler_->nodes()[static_cast<size_t>(decision.node)].spec->name;
  outcome.gpus = decision.gpus;
  if (outcome.reason.empty()) {
    outcome.reason = absl::StrCat("Scheduled on ", outcome.node,
                                  share.admission == FairShareAdmission::kBorrowing ? " (borrowing idle share)" : "");
  }
  return outcome;
}

}  // namespace meridian::scheduler
