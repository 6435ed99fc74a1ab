#include "serving/traffic_router.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::serving {
namespace {

using ::testing::HasSubstr;

TEST(TrafficStatsTest, CountsErrorsAndReadsPercentilesOfAnInterval) {
  TrafficStats stats;
  for (int i = 0; i < 90; ++i) stats.Record(true, absl::Milliseconds(1));
  for (int i = 0; i < 10; ++i) stats.Record(false, absl::Milliseconds(100));
  const TrafficStats::Snapshot first = stats.Read();
  EXPECT_EQ(first.requests, 100);
  EXPECT_EQ(first.errors, 10);
  EXPECT_DOUBLE_EQ(first.error_rate(), 0.1);
  // Bucket bounds grow by 1.2x: a percentile is within 20 % above the true value.
  EXPECT_GE(first.Percentile(0.5), absl::Milliseconds(1));
  EXPECT_LE(first.Percentile(0.5), absl::Microseconds(1200));
  EXPECT_GE(first.Percentile(0.95), absl::Milliseconds(100));
  EXPECT_LE(first.Percentile(0.95), absl::Milliseconds(120));

  for (int i = 0; i < 10; ++i) stats.Record(true, absl::Microseconds(10));
  const TrafficStats::Snapshot window = stats.Read().Since(first);
  EXPECT_EQ(window.requests, 10);
  EXPECT_EQ(window.errors, 0);
  EXPECT_LE(window.Percentile(0.95), absl::Microseconds(50));
  EXPECT_EQ(TrafficStats::Snapshot{}.Percentile(0.95), absl::ZeroDuration());
}

TEST(ShadowComparisonTest, ComparesWhicheverAnswerArrivesLast) {
  auto tensor = [](float v) {
    return Tensor::Owned("y", DataType::kFp32, {1}, std::string(reinterpret_cast<const char*>(&v), sizeof(v)));
  };
  std::vector<std::string> verdicts;
  auto report = [&](absl::string_view verdict, absl::Duration) { verdicts.emplace_back(verdict); };
  {
    ShadowComparison c(report);
    c.ShadowDone(InferenceResponse{.outputs = {tensor(1.0f)}}, absl::Milliseconds(1));
    EXPECT_TRUE(verdicts.empty());
    c.PrimaryDone(InferenceResponse{.outputs = {tensor(1.0f + 1e-7f)}});
  }
  {
    ShadowComparison c(report);
    c.PrimaryDone(InferenceResponse{.outputs = {tensor(1.0f)}});
    c.ShadowDone(InferenceResponse{.outputs = {tensor(2.0f)}}, absl::Milliseconds(1));
  }
  {
    ShadowComparison c(report);
    c.PrimaryDone(InferenceResponse{.outputs = {tensor(1.0f)}});
    c.ShadowDone(absl::InternalError("boom"), absl::Milliseconds(1));
  }
  EXPECT_THAT(verdicts, ::testing::ElementsAre("same", "different", "error"));
}

TEST(TrafficStatsTest, ARequestDroppedBecauseItsClientLeftIsNotTheVersions) {
  EXPECT_TRUE(TrafficStats::CountsForTheVersion(absl::OkStatus()));
  EXPECT_TRUE(TrafficStats::CountsForTheVersion(absl::InvalidArgumentError("wrong shape")));
  EXPECT_TRUE(TrafficStats::CountsForTheVersion(absl::InternalError("the model failed")));
  EXPECT_TRUE(TrafficStats::CountsForTheVersion(absl::DeadlineExceededError("past its timeout")));
  EXPECT_TRUE(TrafficStats::CountsForTheVersion(absl::ResourceExhaustedError("queue full")));
  EXPECT_FALSE(TrafficStats::CountsForTheVersion(absl::CancelledError("the client went away")));
}

TEST(TrafficRouterTest, OnlyDeploymentsAreRouted) {
  TrafficRouter router;
  InferenceRequest request;
  request.model = "mlp";
  EXPECT_FALSE(router.Route(request).has_value());

  auto table = std::make_shared<RoutingTable>();
  (*table)["mlp"] = DeploymentRoute{.deployment = "mlp", .stable = {.version = "1.0.0"},
                                    .canary = RouteTarget{.version = "1.1.0"}, .canary_percent = 50};
  router.Publish(table);
  auto routed = router.Route(request);
  ASSERT_TRUE(routed.has_value());
  EXPECT_EQ(routed->status().code(), absl::StatusCode::kUnavailable);  // no ready replica
  request.version = "3.0.0";
  routed = router.Route(request);
  ASSERT_TRUE(routed.has_value());
  EXPECT_EQ(routed->status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(routed->status().message(), HasSubstr("serves 1.0.0, 1.1.0"));
  request.model = "other";
  EXPECT_FALSE(router.Route(request).has_value());
}

}  // namespace
}  // namespace meridian::serving
