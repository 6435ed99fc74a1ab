#include "control/scheduler/scheduler.h"

#include <gtest/gtest.h>

#include "control/scheduler/preemption.h"
#include "control/scheduler/reference_policies.h"

namespace meridian::scheduler {
namespace {

NodeSpec Node(std::string name, int64_t cpu, int gpus) {
  return NodeSpec{.name = std::move(name), .cpu_milli = cpu, .memory_bytes = 1LL << 40, .gpu_count = gpus,
                  .gpu_model = gpus > 0 ? "A10" : ""};
}
PodSpec Pod(std::string name, int64_t cpu, int gpus, int32_t priority = 0) {
  return PodSpec{.name = std::move(name), .cpu_milli = cpu, .gpu_count = gpus, .gpu_milli = gpus > 0 ? 1000 : 0,
                 .priority = priority};
}

TEST(Scheduler, TiesGoToTheLowestNodeNameByDefault) {
  Scheduler scheduler({Node("node-b", 8000, 1), Node("node-a", 8000, 1)}, MakeBestFitPolicy());
  Decision d = scheduler.Schedule(Pod("p", 1000, 1));
  ASSERT_TRUE(d.scheduled);
  EXPECT_EQ(scheduler.nodes()[static_cast<size_t>(d.node)].spec->name, "node-a");
  EXPECT_EQ(d.Explain(scheduler.nodes()), "placed on node-a (score 97)");
}

TEST(Scheduler, RandomTieBreakUsesEveryTiedNode) {
  std::set<int> seen;
  for (uint64_t seed = 1; seed < 40; ++seed) {
    Scheduler scheduler({Node("a", 8000, 1), Node("b", 8000, 1), Node("c", 8000, 1)}, MakeBestFitPolicy(),
                        {.seed = seed, .tie_break = TieBreak::kRandom});
    seen.insert(scheduler.Schedule(Pod("p", 1000, 1)).node);
  }
  EXPECT_EQ(seen.size(), 3u);
}

TEST(Scheduler, ExplainsWhyAPodWaits) {
  NodeSpec tainted = Node("t", 64000, 8);
  tainted.taints = {{"dedicated", "infra", TaintEffect::kNoSchedule}};
  Scheduler scheduler({Node("small-1", 8000, 1), Node("small-2", 8000, 1), Node("cpu", 64000, 0), tainted},
                      MakeBestFitPolicy());
  Decision d = scheduler.Schedule(Pod("big", 16000, 4));
  EXPECT_FALSE(d.scheduled);
  EXPECT_EQ(d.Explain(scheduler.nodes()),
            "0/4 nodes are available: 1 node(s) had untolerated taint, 2 Insufficient cpu, 1 Insufficient nvidia.com/gpu.");
  EXPECT_FALSE(d.only_resource_shortage());
  auto verdicts = scheduler.ExplainNodes(Pod("small", 1000, 1));
  ASSERT_EQ(verdicts.size(), 4u);
  EXPECT_EQ(verdicts[2].reason, Unfit::kGpu);
  EXPECT_EQ(verdicts[3].reason, Unfit::kTaint);
  EXPECT_EQ(verdicts[0].reason, Unfit::kNone);
}

TEST(Scheduler, BindTakesAndEvictReturnsResources) {
  Scheduler scheduler({Node("n", 8000, 2)}, MakeBestFitPolicy());
  PodSpec pod = Pod("p", 3000, 1);
  Decision d = scheduler.Place(pod);
  ASSERT_TRUE(d.scheduled);
  EXPECT_EQ(scheduler.nodes()[0].cpu_free, 5000);
  EXPECT_EQ(scheduler.nodes()[0].fully_free_gpus(), 1);
  EXPECT_TRUE(absl::IsAlreadyExists(scheduler.Bind(pod, d)));  // same key twice
  ASSERT_TRUE(scheduler.Evict("default/p").ok());
  EXPECT_EQ(scheduler.nodes()[0].cpu_free, 8000);
  EXPECT_EQ(scheduler.nodes()[0].fully_free_gpus(), 2);
  EXPECT_TRUE(absl::IsNotFound(scheduler.Evict("default/p")));
}

TEST(Scheduler, BindRefusesAStaleDecision) {
  Scheduler scheduler({Node("n", 8000, 1)}, MakeBestFitPolicy());
  Decision first = scheduler.Schedule(Pod("a", 1000, 1));
  Decision second = scheduler.Schedule(Pod("b", 1000, 1));
  ASSERT_TRUE(scheduler.Bind(Pod("a", 1000, 1), first).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(scheduler.Bind(Pod("b", 1000, 1), second)));
  EXPECT_EQ(scheduler.pods().size(), 1u);
}

TEST(Scheduler, BindRefusesBadDevices) {
  Scheduler scheduler({Node("n", 8000, 2)}, MakeBestFitPolicy());
  const PodSpec two = Pod("two", 1000, 2);
  EXPECT_TRUE(absl::IsInvalidArgument(scheduler.Bind(two, Decision{.scheduled = true, .node = 0, .gpus = {0, 0}})));
  EXPECT_TRUE(absl::IsInvalidArgument(scheduler.Bind(two, Decision{.scheduled = true, .node = 0, .gpus = {0}})));
  EXPECT_TRUE(absl::IsInvalidArgument(scheduler.Bind(two, Decision{.scheduled = true, .node = 0, .gpus = {0, 7}})));
  EXPECT_TRUE(absl::IsFailedPrecondition(scheduler.Bind(two, Decision{.scheduled = true, .node = 3, .gpus = {0, 1}})));
  EXPECT_TRUE(scheduler.pods().empty());
  EXPECT_EQ(scheduler.nodes()[0].fully_free_gpus(), 2);
}

TEST(Scheduler, CachedScoresFollowNodeChanges) {
  // best-fit prefers the fuller node; after the fuller one fills up the choice must change.
  Scheduler scheduler({Node("a", 8000, 2), Node("b", 8000, 4)}, MakeBestFitPolicy());
  EXPECT_EQ(scheduler.Place(Pod("p1", 1000, 1)).node, 0);
  EXPECT_EQ(scheduler.Place(Pod("p2", 1000, 1)).node, 0);
  EXPECT_EQ(scheduler.Place(Pod("p3", 1000, 1)).node, 1);
  ASSERT_TRUE(scheduler.Evict("default/p1").ok());
  EXPECT_EQ(scheduler.Place(Pod("p4", 1000, 1)).node, 0);
}

TEST(Scheduler, ManyDistinctShapesStillScoreCorrectly) {
  // Past the cache's bound on shapes, scores are computed uncached: the choice must not change.
  Scheduler scheduler({Node("a", 4000000, 0), Node("b", 8000000, 0)}, MakeBestFitPolicy());
  for (int i = 1; i <= 1100; ++i) {
    Decision d = scheduler.Place(Pod("p" + std::to_string(i), i, 0));
    ASSERT_TRUE(d.scheduled) << i;
    ASSERT_EQ(d.node, 0) << "best fit is the smaller node, pod " << i;
  }
}

TEST(Preemption, EvictsTheFewestLowerPriorityPods) {
  // Two nodes of 4 GPUs. "a" runs four 1-GPU pods of priority 10; "b" runs one 2-GPU pod of
  // priority 10 and one 2-GPU pod of priority 1000. A 2-GPU pod of priority 100 fits by evicting
  // two pods on "a" or one on "b": "b" wins (fewest victims), and the priority-1000 pod stays.
  Scheduler scheduler({Node("a", 64000, 4), Node("b", 64000, 4)}, MakeBestFitPolicy());
  for (int i = 0; i < 4; ++i) {
    PodSpec p = Pod("a" + std::to_string(i), 1000, 1, 10);
    ASSERT_TRUE(scheduler.Bind(p, Decision{.scheduled = true, .node = 0, .gpus = {i}}).ok());
  }
  ASSERT_TRUE(scheduler.Bind(Pod("b-low", 1000, 2, 10), Decision{.scheduled = true, .node = 1, .gpus = {0, 1}}).ok());
  ASSERT_TRUE(scheduler.Bind(Pod("b-high", 1000, 2, 1000), Decision{.scheduled = true, .node = 1, .gpus = {2, 3}}).ok());
  PodSpec incoming = Pod("incoming", 1000, 2, 100);
  Decision d = scheduler.Schedule(incoming);
  ASSERT_FALSE(d.scheduled);
  EXPECT_TRUE(d.only_resource_shortage());
  auto plan = PlanPreemption(scheduler, incoming, LowerPriorityThan(incoming));
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->node, 1);
  EXPECT_EQ(plan->victims, std::vector<std::string>{"default/b-low"});
  for (const auto& victim : plan->victims) ASSERT_TRUE(scheduler.Evict(victim).ok());
  EXPECT_TRUE(scheduler.Place(incoming).scheduled);
}

TEST(Preemption, ReprievesWhatIsNotNeededAndPrefersLowerPriorityVictims) {
  // One node, 4 GPUs, pods of priority 1, 2, 3 on one GPU each: a 2-GPU pod of priority 5 needs
  // one more GPU than is free; the cheapest victim is the priority-1 pod.
  Scheduler scheduler({Node("n", 64000, 4)}, MakeBestFitPolicy());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(scheduler.Bind(Pod("p" + std::to_string(i + 1), 1000, 1, i + 1),
                               Decision{.scheduled = true, .node = 0, .gpus = {i}})
                    .ok());
  }
  PodSpec incoming = Pod("x", 1000, 2, 5);
  auto plan = PlanPreemption(scheduler, incoming, LowerPriorityThan(incoming));
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->victims, std::vector<std::string>{"default/p1"});
  EXPECT_EQ(plan->highest_victim_priority, 1);
}

TEST(Preemption, NeverEqualOrHigherPriorityAndNeverForStaticReasons) {
  Scheduler scheduler({Node("n", 64000, 1)}, MakeBestFitPolicy());
  ASSERT_TRUE(scheduler.Place(Pod("same", 1000, 1, 100)).scheduled);
  PodSpec incoming = Pod("x", 1000, 1, 100);
  EXPECT_FALSE(PlanPreemption(scheduler, incoming, LowerPriorityThan(incoming)).has_value());
  PodSpec selective = Pod("y", 1000, 1, 1000);
  selective.node_selector = {{"zone", "b"}};
  EXPECT_FALSE(PlanPreemption(scheduler, selective, LowerPriorityThan(selective)).has_value());
}

}  // namespace
}  // namespace meridian::scheduler
