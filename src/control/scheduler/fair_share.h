#pragma once

// Fair share between teams (namespaces) by Dominant Resource Fairness with weights, and
// borrowing: each team has a nominal (guaranteed) share of CPU, memory and GPU; a team may run
// beyond it on what other teams leave unused, and that borrowed capacity is reclaimed, by
// evicting the borrowers' pods, when its owner needs it back.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "control/scheduler/cluster.h"
#include "control/scheduler/preemption.h"

namespace meridian::scheduler {

struct ResourceAmounts {
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  int64_t gpu_milli = 0;
};

struct Team {
  std::string namespace_name;
  double weight = 1;
  ResourceAmounts nominal;
};

enum class FairShareAdmission { kWithinNominal, kBorrowing, kWait };

struct FairShareDecision {
  FairShareAdmission admission = FairShareAdmission::kWait;
  std::string reason;
};

class FairShare {
 public:
  FairShare(ResourceAmounts capacity, std::vector<Team> teams);

  // max over resources of used/capacity, divided by the team's weight.
  double DominantShare(const std::string& namespace_name) const;
  // The order DRF serves pending pods: repeatedly the pod whose team has the lowest weighted
  // dominant share (counting the pods already picked); within a team, higher priority first,
  // then the given order.
  std::vector<PodSpec> Order(const std::vector<PodSpec>& pending) const;

  FairShareDecision Admit(const PodSpec& pod) const;
  bool IsBorrowing(const std::string& namespace_name) const;
  // Victims a pod may reclaim its team's nominal share from: pods of other teams that borrow.
  // Empty-handed (matches nothing) when the pod would itself borrow.
  VictimFilter ReclaimFrom(const PodSpec& pod) const;

  void Charge(const PodSpec& pod);
  void Release(const PodSpec& pod);

 private:
  const Team* TeamOf(const std::string& namespace_name) const;
  ResourceAmounts UsedBy(const std::string& namespace_name) const;

  ResourceAmounts capacity_;
  std::map<std::string, Team> teams_;
  std::map<std::string, ResourceAmounts> used_;
};

}  // namespace meridian::scheduler
