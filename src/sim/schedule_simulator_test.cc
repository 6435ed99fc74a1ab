#include "sim/schedule_simulator.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "sim/cluster_trace.h"

namespace meridian::sim {
namespace {

std::vector<scheduler::PodSpec> Workload() {
  std::vector<scheduler::PodSpec> pods;
  for (int i = 0; i < 40; ++i) {
    pods.push_back({.name = "p" + std::to_string(i), .cpu_milli = 2000, .gpu_count = 1, .gpu_milli = i % 2 ? 1000 : 500});
  }
  pods.push_back({.name = "cpu", .cpu_milli = 4000});
  return pods;
}

TEST(ArrivalOrder, InflatesToTheTuneRatioWithClonesAfterTheOriginals) {
  const auto workload = Workload();  // 30 GPUs of demand
  auto pods = ArrivalOrder(workload, 20000, 2.0, 42);
  int64_t demand = 0;
  for (const auto& p : pods) demand += p.total_gpu_milli();
  EXPECT_LE(demand, 40000);
  EXPECT_GT(demand, 38000);
  for (size_t i = 0; i < workload.size(); ++i) EXPECT_EQ(pods[i].name.find("-tuned-"), std::string::npos);
  EXPECT_NE(pods.back().name.find("-tuned-"), std::string::npos);
  // The same seed, the same order; another seed, another.
  EXPECT_EQ(ArrivalOrder(workload, 20000, 2.0, 42)[0].name, pods[0].name);
  auto pruned = ArrivalOrder(workload, 20000, 1.0, 42);  // 30 GPUs of demand pruned to 20
  demand = 0;
  for (const auto& p : pruned) demand += p.total_gpu_milli();
  EXPECT_LE(demand, 20000);
}

TEST(ArrivalOrder, AWorkloadWithoutGpusIsNotInflated) {
  // Only a GPU pod can reach the GPU target: cloning CPU pods would never stop.
  std::vector<scheduler::PodSpec> cpu_only = {{.name = "a", .cpu_milli = 1000}, {.name = "b", .cpu_milli = 2000}};
  EXPECT_EQ(ArrivalOrder(cpu_only, 8000, 1.3, 42).size(), 2u);
}

TEST(SimulateSchedule, RecordsAllocationAgainstArrivedDemand) {
  std::vector<scheduler::NodeSpec> nodes;
  for (int i = 0; i < 5; ++i) {
    nodes.push_back({.name = "n" + std::to_string(i), .cpu_milli = 16000, .memory_bytes = 1LL << 36, .gpu_count = 4,
                     .gpu_model = "A10"});
  }
  auto result = SimulateSchedule(nodes, Workload(), {.policy = "fgd", .seed = 1, .tune = 1.3});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->cluster_gpu_milli, 20000);
  ASSERT_EQ(result->allocation_percent.size(), 131u);
  // Until the cluster fills, what arrives is allocated.
  EXPECT_NEAR(result->allocation_percent[20], 20, 3);
  EXPECT_LE(result->final_allocation_percent(), 100);
  EXPECT_GT(result->final_allocation_percent(), 60);
  EXPECT_LT(result->pods_placed, result->pods);
  EXPECT_FALSE(SimulateSchedule(nodes, Workload(), {.policy = "nope"}).ok());
  EXPECT_FALSE(SimulateSchedule(nodes, Workload(), {.tune = 0}).ok());
}

// The published curves: two seeds of the default workload, FGD and best-fit, land near the
// published medians (the full comparison over ten seeds is a benchmark, docs/benchmarks.md).
TEST(SimulateSchedule, ReproducesThePublishedAllocationOnTheAlibabaTrace) {
  const std::string dir = std::string(TEST_SOURCE_DIR) + "/../shared/data/alibaba-gpu-2023";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no shared trace at " << dir;
  auto nodes = ParseNodeList(*ReadTextFile(dir + "/openb_node_list_gpu_node.csv"), "nodes");
  auto pods = ParsePodList(*ReadTextFile(dir + "/openb_pod_list_default.csv"), "pods");
  ASSERT_TRUE(nodes.ok() && pods.ok());
  for (const auto& [policy, published] : std::vector<std::pair<std::string, double>>{{"fgd", 95.40}, {"best-fit", 93.11}}) {
    double sum = 0;
    for (uint64_t seed : {42, 43}) {
      auto r = SimulateSchedule(*nodes, *pods, {.policy = policy, .seed = seed, .tune = 1.3});
      ASSERT_TRUE(r.ok());
      sum += r->final_allocation_percent();
    }
    EXPECT_NEAR(sum / 2, published, 1.0) << policy;
  }
}

}  // namespace
}  // namespace meridian::sim
