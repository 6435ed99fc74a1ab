// Each policy's choice on small hand-made clusters, with the reason the paper gives for it.

#include <gtest/gtest.h>

#include <iterator>
#include <random>

#include "control/scheduler/fgd_lookahead_policy.h"
#include "control/scheduler/fragmentation.h"
#include "control/scheduler/reference_policies.h"
#include "control/scheduler/scheduler.h"

namespace meridian::scheduler {
namespace {

NodeSpec Node(std::string name, int64_t cpu, int gpus) {
  return NodeSpec{.name = std::move(name), .cpu_milli = cpu, .memory_bytes = 1LL << 40, .gpu_count = gpus,
                  .gpu_model = gpus > 0 ? "A10" : ""};
}
PodSpec Pod(std::string name, int64_t cpu, int gpus, int milli) {
  return PodSpec{.name = std::move(name), .cpu_milli = cpu, .gpu_count = gpus, .gpu_milli = gpus > 0 ? milli : 0};
}

// Puts `pods` on the named node with best-fit devices, then asks where `pod` goes.
std::string Choose(std::unique_ptr<ScorePolicy> policy, std::vector<NodeSpec> nodes,
                   std::vector<std::pair<std::string, PodSpec>> placed, const PodSpec& pod) {
  Scheduler scheduler(std::move(nodes), std::move(policy));
  Rng rng(1);
  for (auto& [node_name, p] : placed) {
    Decision d;
    for (size_t i = 0; i < scheduler.nodes().size(); ++i) {
      if (scheduler.nodes()[i].spec->name == node_name) d.node = static_cast<int>(i);
    }
    d.scheduled = true;
    d.gpus = MakeBestFitPolicy()->SelectGpus(scheduler.nodes()[static_cast<size_t>(d.node)], p, rng);
    EXPECT_TRUE(scheduler.Bind(p, d).ok());
  }
  Decision d = scheduler.Schedule(pod);
  return d.scheduled ? scheduler.nodes()[static_cast<size_t>(d.node)].spec->name : "none";
}

TEST(Policies, BestFitTakesTheNodeWithLeastLeft) {
  EXPECT_EQ(Choose(MakeBestFitPolicy(), {Node("big", 64000, 8), Node("small", 16000, 2)}, {}, Pod("p", 4000, 1, 1000)),
            "small");
}

TEST(Policies, DotProductAvoidsNodesRichInWhatThePodNeeds) {
  // The pod wants GPU: the node with the smaller (free . request) product is the CPU-heavy one.
  EXPECT_EQ(Choose(MakeDotProductPolicy(), {Node("gpu-rich", 16000, 8), Node("cpu-rich", 64000, 1)}, {},
                   Pod("p", 1000, 1, 1000)),
            "cpu-rich");
}

TEST(Policies, GpuPackingPrefersPartlyUsedGpus) {
  std::vector<NodeSpec> nodes = {Node("a-idle", 32000, 4), Node("b-shared", 32000, 4)};
  EXPECT_EQ(Choose(MakeGpuPackingPolicy(), nodes, {{"b-shared", Pod("x", 1000, 1, 500)}}, Pod("p", 1000, 1, 300)),
            "b-shared");
  // A whole GPU on a used node before one on an idle node.
  EXPECT_EQ(Choose(MakeGpuPackingPolicy(), nodes, {{"b-shared", Pod("x", 1000, 1, 500)}}, Pod("p", 1000, 1, 1000)),
            "b-shared");
}

TEST(Policies, GpuClusteringKeepsPodKindsTogether) {
  std::vector<NodeSpec> nodes = {Node("a", 32000, 8), Node("b", 32000, 8)};
  // "a" runs a 2-GPU pod, "b" a shared one: a new shared pod joins "b".
  EXPECT_EQ(Choose(MakeGpuClusteringPolicy(), nodes,
                   {{"a", Pod("two", 1000, 2, 1000)}, {"b", Pod("share", 1000, 1, 200)}}, Pod("p", 1000, 1, 300)),
            "b");
  EXPECT_EQ(Choose(MakeGpuClusteringPolicy(), nodes,
                   {{"a", Pod("two", 1000, 2, 1000)}, {"b", Pod("share", 1000, 1, 200)}}, Pod("q", 1000, 2, 1000)),
            "a");
}

TEST(Policies, FgdPlacesSharesWhereTheyFragmentLeast) {
  // The workload is whole-GPU pods. A 0.3 share on idle "a" would strand 0.7 GPU that no typical
  // pod can use; on "b", whose GPU has 0.4 left and is already useless to them, it strands
  // nothing new and even shrinks the stranded part.
  std::vector<PodSpec> whole(10, Pod("w", 1000, 1, 1000));
  std::vector<NodeSpec> nodes = {Node("a", 32000, 1), Node("b", 32000, 1)};
  EXPECT_EQ(Choose(MakeFgdPolicy(TypicalPods(whole)), nodes, {{"b", Pod("x", 1000, 1, 600)}}, Pod("p", 1000, 1, 300)),
            "b");
}

TEST(Policies, FgdPicksTheDeviceThatFragmentsLeast) {
  // Whole-GPU workload: the share goes on the half-used device, keeping device 0 whole.
  std::vector<PodSpec> workload(10, Pod("w", 1000, 1, 1000));
  auto fgd = MakeFgdPolicy(TypicalPods(workload));
  NodeSpec spec = Node("n", 32000, 2);
  NodeState node = NodeState::Empty(spec);
  node.gpu_free_milli = {1000, 500};
  Rng rng(1);
  EXPECT_EQ(fgd->SelectGpus(node, Pod("p", 1000, 1, 500), rng), std::vector<int>{1});
}

TEST(Policies, FgdPackBreaksFgdTiesTowardUsedNodes) {
  // A CPU-only workload makes every placement of a CPU pod fragment nothing: FGD ties, and takes
  // the first name ("a", idle); fgd-pack takes "b", which already runs a pod.
  std::vector<PodSpec> workload(10, Pod("w", 1000, 0, 0));
  std::vector<NodeSpec> nodes = {Node("a", 32000, 2), Node("b", 32000, 2)};
  const PodSpec pod = Pod("p", 1000, 0, 0);
  EXPECT_EQ(Choose(MakeFgdPolicy(TypicalPods(workload)), nodes, {{"b", Pod("x", 1000, 1, 1000)}}, pod), "a");
  EXPECT_EQ(Choose(MakeFgdPackPolicy(TypicalPods(workload)), nodes, {{"b", Pod("x", 1000, 1, 1000)}}, pod), "b");
}

TEST(Policies, FgdLookaheadLeavesTheNextPodAnExactFit) {
  // A third of the pods take no GPU, a third half a GPU, a third three quarters. Node "a" has a
  // half GPU and a whole one free, "b" one whole GPU. A quarter-GPU pod fragments both nodes
  // alike in FGD's measure (score 52 on both), so FGD takes "a" by name, and leaves a quarter GPU
  // there or spoils the whole one. The look-ahead takes "b": its 750 left are an exact fit for
  // the next three-quarter pod, and "a" keeps its half GPU for the next half pod.
  std::vector<PodSpec> workload = {Pod("c", 1000, 0, 0), Pod("h", 1000, 1, 500), Pod("t", 1000, 1, 750)};
  std::vector<NodeSpec> nodes = {Node("a", 32000, 2), Node("b", 32000, 1)};
  const std::vector<std::pair<std::string, PodSpec>> placed = {{"a", Pod("x", 1000, 1, 500)}};
  const PodSpec pod = Pod("p", 1000, 1, 250);
  EXPECT_EQ(Choose(MakeFgdPolicy(TypicalPods(workload)), nodes, placed, pod), "a");
  EXPECT_EQ(Choose(MakeFgdLookaheadPolicy(TypicalPods(workload)), nodes, placed, pod), "b");
  // Nodes alike leave the next pod alike: the scheduler's tie-break (the first name) decides.
  EXPECT_EQ(Choose(MakeFgdLookaheadPolicy(TypicalPods(workload)), {Node("b", 32000, 1), Node("a", 32000, 1)}, {}, pod),
            "a");
}

TEST(Policies, FgdLookaheadPrefersAUsedNodeWhenTheNextPodFaresAlike) {
  // Whole-GPU pods only: a whole GPU on either node leaves the next pod a whole GPU, so the node
  // in use ("b") goes before the idle one ("a"), which the name order alone would pick.
  std::vector<PodSpec> workload(10, Pod("w", 1000, 1, 1000));
  std::vector<NodeSpec> nodes = {Node("a", 32000, 2), Node("b", 32000, 2)};
  const std::vector<std::pair<std::string, PodSpec>> placed = {{"b", Pod("x", 1000, 1, 1000)}};
  EXPECT_EQ(Choose(MakeFgdPolicy(TypicalPods(workload)), nodes, placed, Pod("p", 1000, 1, 1000)), "a");
  EXPECT_EQ(Choose(MakeFgdLookaheadPolicy(TypicalPods(workload)), nodes, placed, Pod("p", 1000, 1, 1000)), "b");
}

TEST(Policies, FgdLookaheadPutsCpuPodsWhereNoGpuIsLeft) {
  // Both nodes have CPU to spare, so a CPU pod fragments neither in FGD's measure and FGD takes
  // "a" by name, eating CPU that the GPU still free there will need. The look-ahead takes "b",
  // whose GPUs are all taken.
  std::vector<PodSpec> workload = {Pod("c", 1000, 0, 0), Pod("w", 1000, 1, 1000)};
  std::vector<NodeSpec> nodes = {Node("a", 32000, 2), Node("b", 32000, 2)};
  const std::vector<std::pair<std::string, PodSpec>> placed = {{"a", Pod("x", 1000, 1, 1000)},
                                                               {"b", Pod("y", 1000, 2, 1000)}};
  EXPECT_EQ(Choose(MakeFgdPolicy(TypicalPods(workload)), nodes, placed, Pod("p", 4000, 0, 0)), "a");
  EXPECT_EQ(Choose(MakeFgdLookaheadPolicy(TypicalPods(workload)), nodes, placed, Pod("p", 4000, 0, 0)), "b");
  // Among nodes with as much GPU free, the name order decides.
  EXPECT_EQ(Choose(MakeFgdLookaheadPolicy(TypicalPods(workload)), nodes,
                   {{"a", Pod("x", 1000, 2, 1000)}, {"b", Pod("y", 1000, 2, 1000)}}, Pod("p", 4000, 0, 0)),
            "a");
}

TEST(Policies, FgdLookaheadKeptUpToDateDecidesAsAFreshOne) {
  // The look-ahead keeps each node's figures between decisions and updates only changed nodes.
  // Through random placements and evictions, each decision must equal that of a new scheduler
  // with a new policy given the same placements.
  std::mt19937 rng(7);
  std::vector<PodSpec> shapes = {Pod("c", 4000, 0, 0),   Pod("q", 2000, 1, 250), Pod("h", 4000, 1, 500),
                                 Pod("t", 6000, 1, 750), Pod("w", 8000, 1, 1000), Pod("d", 12000, 2, 1000)};
  std::vector<NodeSpec> nodes;
  for (int i = 0; i < 12; ++i) nodes.push_back(Node("n" + std::to_string(i), 16000 + 16000 * (i % 3), 1 + i % 4));
  const std::vector<TypicalPod> typical = TypicalPods(shapes);
  Scheduler kept(nodes, MakeFgdLookaheadPolicy(typical));
  int placed = 0;
  for (int step = 0; step < 400; ++step) {
    if (!kept.pods().empty() && rng() % 3 == 0) {  // evict a random pod
      auto it = kept.pods().begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng() % kept.pods().size()));
      ASSERT_TRUE(kept.Evict(it->first).ok());
      continue;
    }
    PodSpec pod = shapes[rng() % shapes.size()];
    pod.name = "p" + std::to_string(step);
    Scheduler fresh(nodes, MakeFgdLookaheadPolicy(typical));
    for (const auto& [key, bound] : kept.pods()) {
      Decision d;
      d.scheduled = true;
      d.node = bound.node;
      d.gpus = bound.gpus;
      ASSERT_TRUE(fresh.Bind(bound.spec, d).ok());
    }
    const Decision expected = fresh.Schedule(pod);
    const Decision got = kept.Schedule(pod);
    ASSERT_EQ(got.scheduled, expected.scheduled) << "step " << step;
    ASSERT_EQ(got.node, expected.node) << "step " << step;
    if (got.scheduled) {
      ASSERT_TRUE(kept.Bind(pod, got).ok());
      ++placed;
    }
  }
  EXPECT_GT(placed, 100);
}

TEST(Fragmentation, LeastGrowthTriesEachDeviceAndSaysWhenThePodDoesNotFit) {
  std::vector<TypicalPod> typical = {{.cpu_milli = 1000, .gpu_count = 1, .gpu_milli = 500, .frequency = 1}};
  NodeSpec spec = Node("n", 8000, 2);
  const TypicalPod half = typical[0];
  // Into the 600 (100 left, stranded) or the 1000 (500 left, usable): the latter grows nothing.
  EXPECT_DOUBLE_EQ(*LeastFragmentationGrowth(spec, 8000, {600, 1000}, half, typical), 0);
  // Into the 500: the 300 beside it is stranded before and after, so nothing grows.
  EXPECT_DOUBLE_EQ(*LeastFragmentationGrowth(spec, 8000, {500, 300}, half, typical), 0);
  EXPECT_FALSE(LeastFragmentationGrowth(spec, 8000, {400, 300}, half, typical).has_value());  // no device
  EXPECT_FALSE(LeastFragmentationGrowth(spec, 500, {1000, 1000}, half, typical).has_value());  // no CPU
  const TypicalPod two_gpus = {.cpu_milli = 1000, .gpu_count = 2, .gpu_milli = 1000, .frequency = 1};
  EXPECT_FALSE(LeastFragmentationGrowth(spec, 8000, {1000, 600}, two_gpus, typical).has_value());
  // Both whole GPUs taken: nothing is left to strand.
  EXPECT_DOUBLE_EQ(*LeastFragmentationGrowth(spec, 8000, {1000, 1000}, two_gpus, typical), 0);
  // Taking the last CPU strands every GPU left: growth is all the free GPU.
  EXPECT_DOUBLE_EQ(*LeastFragmentationGrowth(spec, 1500, {1000, 1000}, half, typical), 1500);
}

TEST(Policies, RandomSpreadsOverFeasibleNodes) {
  std::map<std::string, int> chosen;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    Scheduler scheduler({Node("a", 1000, 1), Node("b", 1000, 1), Node("c", 1000, 0)}, MakeRandomPolicy(), {.seed = seed});
    Decision d = scheduler.Schedule(Pod("p", 100, 1, 1000));
    ASSERT_TRUE(d.scheduled);
    ++chosen[scheduler.nodes()[static_cast<size_t>(d.node)].spec->name];
  }
  EXPECT_GT(chosen["a"], 10);
  EXPECT_GT(chosen["b"], 10);
  EXPECT_EQ(chosen.count("c"), 0u);  // no GPU there
}

TEST(Fragmentation, TypicalPodsCoverTheWorkloadByFrequency) {
  std::vector<PodSpec> workload;
  for (int i = 0; i < 90; ++i) workload.push_back(Pod("a", 1000, 1, 1000));
  for (int i = 0; i < 8; ++i) workload.push_back(Pod("b", 2000, 1, 500));
  for (int i = 0; i < 2; ++i) workload.push_back(Pod("c", 4000, 0, 0));
  std::vector<TypicalPod> typical = TypicalPods(workload, 0.95);
  ASSERT_EQ(typical.size(), 2u);  // 90 % + 8 % reach 95 %; the rare CPU pod is left out
  EXPECT_EQ(typical[0].gpu_milli, 1000);
  EXPECT_NEAR(typical[0].frequency, 90.0 / 98, 1e-9);
  EXPECT_NEAR(typical[1].frequency, 8.0 / 98, 1e-9);
}

TEST(Fragmentation, CountsWhatTypicalPodsCannotUse) {
  std::vector<TypicalPod> typical = {{.cpu_milli = 1000, .gpu_count = 1, .gpu_milli = 1000, .frequency = 1}};
  NodeSpec spec = Node("n", 8000, 2);
  EXPECT_DOUBLE_EQ(GpuFragmentation(spec, 8000, {1000, 1000}, typical), 0);
  EXPECT_DOUBLE_EQ(GpuFragmentation(spec, 8000, {1000, 400}, typical), 400);  // the 0.4 GPU is stranded
  EXPECT_DOUBLE_EQ(GpuFragmentation(spec, 500, {1000, 400}, typical), 1400);  // no CPU: everything is
}

}  // namespace
}  // namespace meridian::scheduler
