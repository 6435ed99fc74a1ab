#include "control/rollout/canary_analysis.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::control {
namespace {

using ::testing::HasSubstr;

const TrafficWindow kStable{.requests = 1000, .errors = 1, .p95 = absl::Milliseconds(10)};

TEST(CanaryAnalysisTest, WaitsForEnoughRequests) {
  auto j = JudgeCanaryStep({.requests = 5, .errors = 5}, kStable, {.min_requests = 20}, /*step_over=*/true);
  EXPECT_EQ(j.verdict, CanaryVerdict::kContinue);
  EXPECT_THAT(j.reason, HasSubstr("waiting for 20"));
}

TEST(CanaryAnalysisTest, FailsOnErrorRateWithoutWaitingForTheStepToEnd) {
  auto j = JudgeCanaryStep({.requests = 40, .errors = 20, .p95 = absl::Milliseconds(5)}, kStable,
                           {.max_error_rate = 0.05, .min_requests = 20}, /*step_over=*/false);
  EXPECT_EQ(j.verdict, CanaryVerdict::kFail);
  EXPECT_THAT(j.reason, HasSubstr("error rate 50.0% > 5.0% over 40 requests"));
}

TEST(CanaryAnalysisTest, FailsOnAbsoluteAndRelativeLatency) {
  TrafficWindow slow{.requests = 100, .errors = 0, .p95 = absl::Milliseconds(30)};
  EXPECT_EQ(JudgeCanaryStep(slow, kStable, {.max_latency_p95 = absl::Milliseconds(20)}, false).verdict,
            CanaryVerdict::kFail);
  auto ratio = JudgeCanaryStep(slow, kStable, {.max_latency_ratio = 2}, false);
  EXPECT_EQ(ratio.verdict, CanaryVerdict::kFail);
  EXPECT_THAT(ratio.reason, HasSubstr("3.00x"));
  EXPECT_EQ(JudgeCanaryStep(slow, kStable, {.max_latency_ratio = 4}, false).verdict, CanaryVerdict::kContinue);
}

TEST(CanaryAnalysisTest, PassesOnlyWhenTheStepIsOver) {
  TrafficWindow good{.requests = 100, .errors = 0, .p95 = absl::Milliseconds(9)};
  EXPECT_EQ(JudgeCanaryStep(good, kStable, {}, false).verdict, CanaryVerdict::kContinue);
  EXPECT_EQ(JudgeCanaryStep(good, kStable, {}, true).verdict, CanaryVerdict::kPass);
  // Exactly at the limit holds.
  EXPECT_EQ(JudgeCanaryStep({.requests = 100, .errors = 1}, kStable, {.max_error_rate = 0.01}, true).verdict,
            CanaryVerdict::kPass);
}

}  // namespace
}  // namespace meridian::control
