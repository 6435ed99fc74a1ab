#include "control/scheduler/filters.h"

#include <gtest/gtest.h>

namespace meridian::scheduler {
namespace {

NodeSpec GpuNode(int gpus = 4) {
  return NodeSpec{.name = "n", .cpu_milli = 32000, .memory_bytes = 64LL << 30, .gpu_count = gpus, .gpu_model = "A10"};
}

TEST(Filters, ResourcesFitOrNameTheShortage) {
  NodeSpec spec = GpuNode();
  NodeState node = NodeState::Empty(spec);
  EXPECT_EQ(CheckResources(PodSpec{.cpu_milli = 32000}, node), Unfit::kNone);
  EXPECT_EQ(CheckResources(PodSpec{.cpu_milli = 32001}, node), Unfit::kCpu);
  EXPECT_EQ(CheckResources(PodSpec{.memory_bytes = (64LL << 30) + 1}, node), Unfit::kMemory);
  EXPECT_EQ(CheckResources(PodSpec{.gpu_count = 4, .gpu_milli = 1000}, node), Unfit::kNone);
  EXPECT_EQ(CheckResources(PodSpec{.gpu_count = 5, .gpu_milli = 1000}, node), Unfit::kGpu);
  EXPECT_STREQ(UnfitMessage(Unfit::kGpu), "Insufficient nvidia.com/gpu");
}

TEST(Filters, SharedGpuNeedsOneDeviceWithTheShareLeft) {
  NodeSpec spec = GpuNode(2);
  NodeState node = NodeState::Empty(spec);
  node.gpu_free_milli = {300, 600};
  EXPECT_TRUE(GpusFit(PodSpec{.gpu_count = 1, .gpu_milli = 600}, node.gpu_free_milli));
  EXPECT_FALSE(GpusFit(PodSpec{.gpu_count = 1, .gpu_milli = 700}, node.gpu_free_milli));
  // 900 milli free in total, but no device whole: a whole-GPU pod does not fit.
  EXPECT_FALSE(GpusFit(PodSpec{.gpu_count = 1, .gpu_milli = 1000}, node.gpu_free_milli));
  EXPECT_TRUE(GpusFit(PodSpec{}, node.gpu_free_milli));
}

TEST(Filters, GpuModelMustBeAccepted) {
  PodSpec pod{.gpu_count = 1, .gpu_milli = 1000, .accepted_gpu_models = {"V100M16", "V100M32"}};
  EXPECT_EQ(CheckStatic(pod, GpuNode()), Unfit::kGpuModel);
  NodeSpec v100 = GpuNode();
  v100.gpu_model = "V100M32";
  EXPECT_EQ(CheckStatic(pod, v100), Unfit::kNone);
  // A CPU-only pod does not care about the model.
  EXPECT_EQ(CheckStatic(PodSpec{.accepted_gpu_models = {"T4"}}, GpuNode()), Unfit::kNone);
}

TEST(Filters, NodeSelectorMatchesEveryLabel) {
  NodeSpec node = GpuNode();
  node.labels = {{"zone", "a"}, {"disk", "ssd"}};
  EXPECT_EQ(CheckStatic(PodSpec{.node_selector = {{"zone", "a"}}}, node), Unfit::kNone);
  EXPECT_EQ(CheckStatic(PodSpec{.node_selector = {{"zone", "a"}, {"disk", "hdd"}}}, node), Unfit::kNodeSelector);
  EXPECT_EQ(CheckStatic(PodSpec{.node_selector = {{"rack", "1"}}}, node), Unfit::kNodeSelector);
}

TEST(Filters, RequiredAffinityOperatorsAndTerms) {
  using Op = NodeSelectorRequirement::Operator;
  NodeSpec node = GpuNode();
  node.labels = {{"zone", "a"}, {"generation", "5"}};
  auto affinity = [](std::vector<NodeSelectorTerm> terms) {
    PodSpec pod;
    pod.required_node_affinity = std::move(terms);
    return pod;
  };
  EXPECT_EQ(CheckStatic(affinity({{{{"zone", Op::kIn, {"a", "b"}}}}}), node), Unfit::kNone);
  EXPECT_EQ(CheckStatic(affinity({{{{"zone", Op::kNotIn, {"a"}}}}}), node), Unfit::kNodeAffinity);
  EXPECT_EQ(CheckStatic(affinity({{{{"zone", Op::kExists, {}}}}}), node), Unfit::kNone);
  EXPECT_EQ(CheckStatic(affinity({{{{"zone", Op::kDoesNotExist, {}}}}}), node), Unfit::kNodeAffinity);
  EXPECT_EQ(CheckStatic(affinity({{{{"generation", Op::kGt, {"4"}}}}}), node), Unfit::kNone);
  EXPECT_EQ(CheckStatic(affinity({{{{"generation", Op::kLt, {"4"}}}}}), node), Unfit::kNodeAffinity);
  EXPECT_EQ(CheckStatic(affinity({{{{"generation", Op::kGt, {"x"}}}}}), node), Unfit::kNodeAffinity);
  // Terms are ORed, requirements within a term ANDed.
  EXPECT_EQ(CheckStatic(affinity({{{{"zone", Op::kIn, {"b"}}}}, {{{"zone", Op::kIn, {"a"}}}}}), node), Unfit::kNone);
  EXPECT_EQ(CheckStatic(affinity({{{{"zone", Op::kIn, {"a"}}, {"generation", Op::kLt, {"4"}}}}}), node),
            Unfit::kNodeAffinity);
  // An empty term matches nothing.
  EXPECT_EQ(CheckStatic(affinity({NodeSelectorTerm{}}), node), Unfit::kNodeAffinity);
}

TEST(Filters, TaintsNeedTolerations) {
  NodeSpec node = GpuNode();
  node.taints = {{"nvidia.com/gpu", "present", TaintEffect::kNoSchedule}};
  EXPECT_EQ(CheckStatic(PodSpec{}, node), Unfit::kTaint);
  PodSpec equal;
  equal.tolerations = {{.key = "nvidia.com/gpu", .op = Toleration::Operator::kEqual, .value = "present"}};
  EXPECT_EQ(CheckStatic(equal, node), Unfit::kNone);
  PodSpec wrong_value;
  wrong_value.tolerations = {{.key = "nvidia.com/gpu", .op = Toleration::Operator::kEqual, .value = "absent"}};
  EXPECT_EQ(CheckStatic(wrong_value, node), Unfit::kTaint);
  PodSpec exists;
  exists.tolerations = {{.key = "nvidia.com/gpu", .op = Toleration::Operator::kExists}};
  EXPECT_EQ(CheckStatic(exists, node), Unfit::kNone);
  PodSpec other_effect;
  other_effect.tolerations = {{.key = "nvidia.com/gpu", .op = Toleration::Operator::kExists, .any_effect = false,
                               .effect = TaintEffect::kNoExecute}};
  EXPECT_EQ(CheckStatic(other_effect, node), Unfit::kTaint);
  PodSpec everything;
  everything.tolerations = {{.key = "", .op = Toleration::Operator::kExists}};
  EXPECT_EQ(CheckStatic(everything, node), Unfit::kNone);
  // PreferNoSchedule never rejects.
  node.taints = {{"spot", "true", TaintEffect::kPreferNoSchedule}};
  EXPECT_EQ(CheckStatic(PodSpec{}, node), Unfit::kNone);
}

}  // namespace
}  // namespace meridian::scheduler
