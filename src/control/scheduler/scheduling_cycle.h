#pragma once

// One scheduling cycle over the pending pods, putting the parts together the way the deployments
// controller needs them: pods are served in fair-share order (DRF, then priority); each must pass
// its namespace's quota and its team's share (nominal, or borrowed when others leave it idle);
// then it is placed, or room is made by evicting lower-priority pods (never equal or higher), or
// by reclaiming a team's nominal share from borrowers. Every pod comes back with what happened and
// why, in words a status condition can carry. Pure: the caller owns the state objects and
// requeues the evicted pods.

#include <string>
#include <vector>

#include "control/scheduler/fair_share.h"
#include "control/scheduler/resource_quota.h"
#include "control/scheduler/scheduler.h"

namespace meridian::scheduler {

struct PodOutcome {
  enum class Result { kPlaced, kWaiting };
  std::string pod;  // namespace/name
  Result result = Result::kWaiting;
  std::string node;
  std::vector<int> gpus;
  std::vector<std::string> evicted;  // pods removed to make room (namespace/name)
  std::string reason;
};

class SchedulingCycle {
 public:
  // `fair_share` may be null (no teams configured).
  SchedulingCycle(Scheduler* scheduler, ResourceQuotas* quotas, FairShare* fair_share);

  // Placed pods and evictions are applied to the scheduler, the quotas and the fair share.
  std::vector<PodOutcome> Run(const std::vector<PodSpec>& pending);

 private:
  PodOutcome Admit(const PodSpec& pod);
  void Evict(const std::string& pod_key);

  Scheduler* scheduler_;
  ResourceQuotas* quotas_;
  FairShare* fair_share_;
};

}  // namespace meridian::scheduler
