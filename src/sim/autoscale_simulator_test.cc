#include "sim/autoscale_simulator.h"

#include <fstream>

#include "sim/timeline_plot.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::sim {
namespace {

TEST(LoadTraceTest, GeneratorsAreSeededAndShaped) {
  auto step = StepTrace(300, 10, 100);
  EXPECT_EQ(step.rps[0], 10);
  EXPECT_EQ(step.rps[150], 100);
  EXPECT_EQ(step.rps[299], 10);
  EXPECT_EQ(SpikeTrace(600, 10, 7).rps, SpikeTrace(600, 10, 7).rps);
  auto diurnal = DiurnalTrace(1000, 10, 100, 3);
  EXPECT_LT(diurnal.rps[0], 20);
  EXPECT_GT(diurnal.rps[500], 80);
}

TEST(LoadTraceTest, CsvWithHeaderAndGaps) {
  auto t = CsvTrace("second,rps\n0,5\n3,9\n", "trace.csv");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->rps, (std::vector<double>{5, 5, 5, 9}));
  EXPECT_FALSE(CsvTrace("0,5\nbad\n", "x").ok());
  EXPECT_FALSE(CsvTrace("", "x").ok());
  EXPECT_FALSE(CsvTrace("0,-1\n", "x").ok());
}

TEST(AutoscaleSimulatorTest, IsDeterministicAndAccountsForEveryRequest) {
  auto trace = StepTrace(300, 20, 200);
  auto a = Simulate(trace, AutoscalePolicy::kHpa, {});
  auto b = Simulate(trace, AutoscalePolicy::kHpa, {});
  EXPECT_EQ(a.requests, b.requests);
  EXPECT_EQ(a.replica_seconds, b.replica_seconds);
  EXPECT_NEAR(static_cast<double>(a.requests), 20 * 200 + 200 * 100, 1000);
  EXPECT_EQ(a.timeline.size(), 300u);
}

TEST(AutoscaleSimulatorTest, EveryPolicyScalesUpForAStep) {
  auto trace = StepTrace(600, 20, 300);  // 300 req/s x 20 ms = 6 busy replicas
  for (auto policy : {AutoscalePolicy::kHpa, AutoscalePolicy::kKpa, AutoscalePolicy::kSlo, AutoscalePolicy::kStep}) {
    auto r = Simulate(trace, policy, {});
    int peak = 0;
    for (const auto& s : r.timeline) peak = std::max(peak, s.replicas);
    EXPECT_GE(peak, 7) << PolicyName(policy);
    EXPECT_GT(r.scaling_actions, 0) << PolicyName(policy);
  }
}

TEST(AutoscaleSimulatorTest, SloPolicyServesAStepBestOfAll) {
  // 20 -> 300 req/s: whatever arrives before new replicas finish starting (10 s) waits, about
  // 4 % of this trace and the backlog it leaves, so no reactive policy gets near 100 %.
  auto trace = StepTrace(900, 20, 300);
  auto slo = Simulate(trace, AutoscalePolicy::kSlo, {});
  EXPECT_GE(slo.within_objective, 0.9);
  for (auto other : {AutoscalePolicy::kHpa, AutoscalePolicy::kStep}) {
    EXPECT_GE(slo.within_objective, Simulate(trace, other, {}).within_objective) << PolicyName(other);
  }
}

TEST(TimelinePlotTest, WritesAPng) {
  auto trace = StepTrace(120, 20, 200);
  std::vector<SimulationResult> results = {Simulate(trace, AutoscalePolicy::kHpa, {}),
                                           Simulate(trace, AutoscalePolicy::kSlo, {})};
  const std::string path = ::testing::TempDir() + "/meridian-plot-test.png";
  ASSERT_TRUE(WriteTimelinePng(path, results, absl::Milliseconds(100)).ok());
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 10000u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  EXPECT_FALSE(WriteTimelinePng("/nonexistent-dir/x.png", results, absl::Milliseconds(100)).ok());
  EXPECT_FALSE(WriteTimelinePng(path, {}, absl::Milliseconds(100)).ok());
}

}  // namespace
}  // namespace meridian::sim
