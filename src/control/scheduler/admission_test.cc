// Quotas, priority classes and fair share with borrowing and reclaim.

#include <gtest/gtest.h>

#include "control/scheduler/fair_share.h"
#include "control/scheduler/priority_class.h"
#include "control/scheduler/reference_policies.h"
#include "control/scheduler/resource_quota.h"
#include "control/scheduler/scheduling_cycle.h"

namespace meridian::scheduler {
namespace {

PodSpec Pod(std::string name, std::string ns, int64_t cpu, int gpus, int32_t priority = 0) {
  return PodSpec{.name = std::move(name), .namespace_name = std::move(ns), .cpu_milli = cpu, .gpu_count = gpus,
                 .gpu_milli = gpus > 0 ? 1000 : 0, .priority = priority};
}

TEST(ResourceQuota, AdmitsWithinHardLimitsAndSaysWhatIsExceeded) {
  ResourceQuotas quotas;
  ASSERT_TRUE(quotas.SetHard("team-a", {{"requests.nvidia.com/gpu", 2000}, {"requests.cpu", 8000}}).ok());
  PodSpec p1 = Pod("p1", "team-a", 2000, 1);
  ASSERT_TRUE(quotas.Admit(p1).ok());
  quotas.Charge(p1);
  PodSpec p2 = Pod("p2", "team-a", 2000, 2);
  absl::Status s = quotas.Admit(p2);
  EXPECT_TRUE(absl::IsResourceExhausted(s));
  EXPECT_EQ(s.message(),
            "exceeded quota in namespace team-a, requested: requests.nvidia.com/gpu=2000, used: "
            "requests.nvidia.com/gpu=1000, limited: requests.nvidia.com/gpu=2000");
  EXPECT_TRUE(quotas.Admit(Pod("other", "team-b", 64000, 8)).ok());  // no quota there
  quotas.Release(p1);
  EXPECT_TRUE(quotas.Admit(p2).ok());
}

TEST(ResourceQuota, LimitsQuotaRequiresPodLimits) {
  ResourceQuotas quotas;
  ASSERT_TRUE(quotas.SetHard("t", {{"limits.cpu", 4000}}).ok());
  PodSpec pod = Pod("p", "t", 1000, 0);
  EXPECT_TRUE(absl::IsFailedPrecondition(quotas.Admit(pod)));
  pod.cpu_limit_milli = 2000;
  EXPECT_TRUE(quotas.Admit(pod).ok());
  pod.cpu_limit_milli = 5000;
  EXPECT_TRUE(absl::IsResourceExhausted(quotas.Admit(pod)));
}

TEST(ResourceQuota, RejectsUnknownResources) {
  ResourceQuotas quotas;
  EXPECT_TRUE(absl::IsInvalidArgument(quotas.SetHard("t", {{"requests.tpu", 1}})));
  EXPECT_TRUE(absl::IsInvalidArgument(quotas.SetHard("t", {{"requests.cpu", -1}})));
}

TEST(PriorityClasses, ResolveNamesDefaultsAndReservedValues) {
  PriorityClasses classes;
  ASSERT_TRUE(classes.Add({.name = "ai-high-priority", .value = 1000000}).ok());
  ASSERT_TRUE(classes.Add({.name = "batch", .value = 100, .global_default = true}).ok());
  EXPECT_EQ(*classes.Resolve("ai-high-priority"), 1000000);
  EXPECT_EQ(*classes.Resolve(""), 100);
  EXPECT_EQ(*classes.Resolve("system-node-critical"), 2000001000);
  EXPECT_TRUE(absl::IsNotFound(classes.Resolve("nope").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(classes.Add({.name = "huge", .value = 1000000001})));
  EXPECT_TRUE(absl::IsInvalidArgument(classes.Add({.name = "second-default", .value = 1, .global_default = true})));
  EXPECT_TRUE(absl::IsAlreadyExists(classes.Add({.name = "batch", .value = 1})));
}

// 16 GPUs and 64 CPUs; team "a" is guaranteed 8 GPUs, team "b" 8 GPUs, team "c" weight 2.
FairShare Cluster() {
  return FairShare({.cpu_milli = 64000, .memory_bytes = 1LL << 40, .gpu_milli = 16000},
                   {{.namespace_name = "a", .weight = 1, .nominal = {32000, 1LL << 39, 8000}},
                    {.namespace_name = "b", .weight = 1, .nominal = {32000, 1LL << 39, 8000}}});
}

TEST(FairShare, ServesTheTeamWithTheLowestDominantShareFirst) {
  FairShare share = Cluster();
  share.Charge(Pod("running", "a", 1000, 4));  // a holds 4/16 GPUs
  std::vector<PodSpec> pending = {Pod("a1", "a", 1000, 1), Pod("a2", "a", 1000, 1), Pod("b1", "b", 1000, 1),
                                  Pod("b2", "b", 1000, 1), Pod("b3", "b", 1000, 1)};
  std::vector<std::string> order;
  for (const PodSpec& p : share.Order(pending)) order.push_back(p.name);
  // b catches up with a before a gets more: b1 b2 b3 (b at 3/16 < a's 4/16), then a1 b? ...
  EXPECT_EQ(order, (std::vector<std::string>{"b1", "b2", "b3", "a1", "a2"}));
}

TEST(FairShare, WeightsScaleTheShare) {
  FairShare share({.cpu_milli = 64000, .memory_bytes = 1LL << 40, .gpu_milli = 16000},
                  {{.namespace_name = "heavy", .weight = 2}, {.namespace_name = "light", .weight = 1}});
  share.Charge(Pod("h", "heavy", 1000, 4));
  share.Charge(Pod("l", "light", 1000, 3));
  EXPECT_LT(share.DominantShare("heavy"), share.DominantShare("light"));  // 4/16/2 < 3/16
  std::vector<PodSpec> pending = {Pod("l1", "light", 1000, 1), Pod("h1", "heavy", 1000, 1)};
  EXPECT_EQ(share.Order(pending)[0].name, "h1");
}

TEST(FairShare, HigherPriorityFirstWithinATeam) {
  FairShare share = Cluster();
  std::vector<PodSpec> pending = {Pod("low", "a", 1000, 1, 1), Pod("high", "a", 1000, 1, 100)};
  EXPECT_EQ(share.Order(pending)[0].name, "high");
}

TEST(FairShare, BorrowsIdleShareAndTheOwnerReclaimsIt) {
  FairShare share = Cluster();
  Scheduler scheduler({NodeSpec{.name = "n1", .cpu_milli = 32000, .memory_bytes = 1LL << 39, .gpu_count = 8,
                                .gpu_model = "A10"},
                       NodeSpec{.name = "n2", .cpu_milli = 32000, .memory_bytes = 1LL << 39, .gpu_count = 8,
                                .gpu_model = "A10"}},
                      MakeBestFitPolicy());
  // Team a uses its 8 GPUs and borrows b's 8 while b is idle.
  for (int i = 0; i < 16; ++i) {
    PodSpec p = Pod("a" + std::to_string(i), "a", 1000, 1);
    FairShareDecision admit = share.Admit(p);
    ASSERT_NE(admit.admission, FairShareAdmission::kWait) << admit.reason;
    EXPECT_EQ(admit.admission, i < 8 ? FairShareAdmission::kWithinNominal : FairShareAdmission::kBorrowing);
    ASSERT_TRUE(scheduler.Place(p).scheduled);
    share.Charge(p);
  }
  EXPECT_TRUE(share.IsBorrowing("a"));
  // Nothing left to borrow for a 17th.
  EXPECT_EQ(share.Admit(Pod("a16", "a", 1000, 1)).admission, FairShareAdmission::kWait);
  // Team b wants 2 of its own GPUs back: it may evict a's borrowing pods, whatever their priority.
  PodSpec b = Pod("b0", "b", 1000, 2);
  EXPECT_EQ(share.Admit(b).admission, FairShareAdmission::kWithinNominal);
  EXPECT_FALSE(scheduler.Schedule(b).scheduled);
  auto plan = PlanPreemption(scheduler, b, share.ReclaimFrom(b));
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->victims.size(), 2u);
  for (const std::string& victim : plan->victims) {
    share.Release(scheduler.pods().at(victim).spec);
    ASSERT_TRUE(scheduler.Evict(victim).ok());
  }
  ASSERT_TRUE(scheduler.Place(b).scheduled);
  share.Charge(b);
  // A borrower cannot reclaim: a pod of a (over its nominal) gets no victims.
  PodSpec more = Pod("a-more", "a", 1000, 1);
  EXPECT_FALSE(PlanPreemption(scheduler, more, share.ReclaimFrom(more)).has_value());
}

NodeSpec GpuNode(std::string name, int gpus) {
  return NodeSpec{.name = std::move(name), .cpu_milli = 64000, .memory_bytes = 1LL << 39, .gpu_count = gpus,
                  .gpu_model = "A10"};
}

TEST(SchedulingCycle, PlacesPreemptsAndSaysWhyOthersWait) {
  Scheduler scheduler({GpuNode("n1", 4)}, MakeBestFitPolicy());
  ResourceQuotas quotas;
  ASSERT_TRUE(quotas.SetHard("capped", {{"requests.nvidia.com/gpu", 1000}}).ok());
  SchedulingCycle cycle(&scheduler, &quotas, nullptr);
  auto first = cycle.Run({Pod("low-1", "batch", 1000, 2, 10), Pod("low-2", "batch", 1000, 2, 10)});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].result, PodOutcome::Result::kPlaced);
  EXPECT_EQ(first[0].reason, "Scheduled on n1");
  auto second = cycle.Run({Pod("urgent", "serving", 1000, 2, 1000000), Pod("same", "batch", 1000, 2, 10),
                           Pod("big", "capped", 1000, 2, 0), Pod("huge", "serving", 1000, 8, 5)});
  ASSERT_EQ(second.size(), 4u);
  EXPECT_EQ(second[0].result, PodOutcome::Result::kPlaced);
  EXPECT_EQ(second[0].evicted.size(), 1u);
  EXPECT_EQ(second[0].reason, "Preempted lower-priority pods (" + second[0].evicted[0] + ") on n1");
  // Equal priority never preempts.
  EXPECT_EQ(second[1].result, PodOutcome::Result::kWaiting);
  EXPECT_EQ(second[1].reason, "Unschedulable: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu.");
  EXPECT_EQ(second[2].reason,
            "QuotaExceeded: exceeded quota in namespace capped, requested: requests.nvidia.com/gpu=2000, used: "
            "requests.nvidia.com/gpu=0, limited: requests.nvidia.com/gpu=1000");
  EXPECT_EQ(second[3].result, PodOutcome::Result::kWaiting);  // 8 GPUs exist nowhere
  EXPECT_TRUE(second[3].evicted.empty());
  EXPECT_EQ(quotas.Used("batch")["requests.nvidia.com/gpu"], 2000);  // the evicted pod was released
}

TEST(SchedulingCycle, TeamsShareByDrfAndReclaimWhatTheyLent) {
  Scheduler scheduler({GpuNode("n1", 8), GpuNode("n2", 8)}, MakeBestFitPolicy());
  ResourceQuotas quotas;
  FairShare share = Cluster();  // a and b: 8 GPUs each nominal
  SchedulingCycle cycle(&scheduler, &quotas, &share);
  std::vector<PodSpec> a_pods;
  for (int i = 0; i < 12; ++i) a_pods.push_back(Pod("a" + std::to_string(i), "a", 1000, 1));
  auto first = cycle.Run(a_pods);
  int borrowing = 0;
  for (const auto& o : first) {
    ASSERT_EQ(o.result, PodOutcome::Result::kPlaced) << o.reason;
    borrowing += o.reason.find("borrowing") != std::string::npos;
  }
  EXPECT_EQ(borrowing, 4);
  // b comes for its 8 GPUs: 4 are free, 4 come back from a's borrowed pods.
  std::vector<PodSpec> b_pods;
  for (int i = 0; i < 8; ++i) b_pods.push_back(Pod("b" + std::to_string(i), "b", 1000, 1));
  auto second = cycle.Run(b_pods);
  size_t evicted = 0;
  for (const auto& o : second) {
    EXPECT_EQ(o.result, PodOutcome::Result::kPlaced) << o.reason;
    evicted += o.evicted.size();
  }
  EXPECT_EQ(evicted, 4u);
  EXPECT_FALSE(share.IsBorrowing("a"));
  EXPECT_FALSE(share.IsBorrowing("b"));
  // a asking for more now waits: nothing idle to borrow.
  auto third = cycle.Run({Pod("a-more", "a", 1000, 1)});
  EXPECT_EQ(third[0].result, PodOutcome::Result::kWaiting);
  EXPECT_EQ(third[0].reason.rfind("FairShare: team a is over its nominal", 0), 0u) << third[0].reason;
}

}  // namespace
}  // namespace meridian::scheduler
