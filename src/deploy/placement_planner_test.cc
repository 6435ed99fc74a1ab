#include "deploy/placement_planner.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::deploy {
namespace {

using ::testing::HasSubstr;

const scheduler::NodeSpec kNode{.name = "box", .cpu_milli = 4000, .memory_bytes = 8ll << 30, .gpu_count = 1,
                                .gpu_model = "nvidia", .labels = {{"kubernetes.io/os", "linux"}}};

PlacementDemand Demand(const std::string& key, int32_t priority, int64_t cpu, int replicas, int running = 0,
                       uint64_t order = 0) {
  return {.key = key, .deployment = key, .pod = {.cpu_milli = cpu, .priority = priority}, .replicas = replicas,
          .running = running, .order = order};
}

TEST(PlacementPlannerTest, PlacesWhatFitsAndSaysWhyTheRestWaits) {
  auto plan = PlanPlacement(kNode, {Demand("a", 0, 1500, 3)});
  EXPECT_EQ(plan["a"].placed, 2);
  EXPECT_EQ(plan["a"].reason, "0/1 nodes are available: 1 Insufficient cpu.");
  EXPECT_TRUE(plan["a"].preempted_by.empty());
}

TEST(PlacementPlannerTest, HigherPriorityTakesTheRoomOfLowerPriorityReplicas) {
  auto plan = PlanPlacement(kNode, {Demand("low", -1000, 1000, 3, /*running=*/3, /*order=*/1),
                                    Demand("high", 1000000, 2000, 1, /*running=*/0, /*order=*/2)});
  EXPECT_EQ(plan["high"].placed, 1);
  EXPECT_EQ(plan["low"].placed, 2);
  EXPECT_EQ(plan["low"].preempted_by, "high");
  EXPECT_THAT(plan["low"].reason, HasSubstr("preempted by higher-priority deployment high (priority 1000000 > -1000)"));
}

TEST(PlacementPlannerTest, EqualPriorityNeverPreemptsWhatRuns) {
  auto plan = PlanPlacement(kNode, {Demand("newcomer", 0, 3000, 1, 0, /*order=*/1),
                                    Demand("running", 0, 3000, 1, /*running=*/1, /*order=*/2)});
  EXPECT_EQ(plan["running"].placed, 1);
  EXPECT_EQ(plan["newcomer"].placed, 0);
  EXPECT_TRUE(plan["newcomer"].preempted_by.empty());
}

TEST(PlacementPlannerTest, ConstraintsAndGpus) {
  PlacementDemand gpus = Demand("gpus", 0, 100, 1);
  gpus.pod.gpu_count = 2;
  gpus.pod.gpu_milli = 1000;
  PlacementDemand share = Demand("share", 0, 100, 2);
  share.pod.gpu_count = 1;
  share.pod.gpu_milli = 500;
  PlacementDemand selector = Demand("selector", 0, 100, 1);
  selector.pod.node_selector = {{"kubernetes.io/os", "windows"}};
  auto plan = PlanPlacement(kNode, {gpus, share, selector});
  EXPECT_EQ(plan["gpus"].placed, 0);
  EXPECT_THAT(plan["gpus"].reason, HasSubstr("Insufficient nvidia.com/gpu"));
  EXPECT_EQ(plan["share"].placed, 2);  // two halves of the one GPU
  EXPECT_EQ(plan["selector"].placed, 0);
  EXPECT_THAT(plan["selector"].reason, HasSubstr("didn't match Pod's node selector"));
}

}  // namespace
}  // namespace meridian::deploy

namespace meridian::deploy {
namespace {

TEST(PlacementPlannerTest, QuotasAdmitWithinTheNamespaceTotals) {
  scheduler::ResourceQuotas quotas;
  ASSERT_TRUE(quotas.SetHard("team-a", {{"requests.cpu", 1500}}).ok());
  PlacementDemand a = Demand("team-a/web", 0, 1000, 2);
  a.pod.namespace_name = "team-a";
  PlacementDemand b = Demand("team-b/web", 0, 1000, 2);
  b.pod.namespace_name = "team-b";
  auto plan = PlanPlacement(kNode, {a, b}, &quotas);
  EXPECT_EQ(plan["team-a/web"].placed, 1);
  EXPECT_TRUE(plan["team-a/web"].over_quota);
  EXPECT_THAT(plan["team-a/web"].reason, HasSubstr("exceeded quota in namespace team-a"));
  EXPECT_EQ(plan["team-b/web"].placed, 2);
  EXPECT_EQ(quotas.Used("team-a").at("requests.cpu"), 1000);
}

}  // namespace
}  // namespace meridian::deploy
