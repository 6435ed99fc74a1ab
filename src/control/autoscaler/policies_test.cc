#include "control/autoscaler/kpa.h"
#include "control/autoscaler/slo_policy.h"
#include "control/autoscaler/step_policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::control {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST(KpaTest, FollowsTheStableWindowAverage) {
  KpaSpec spec{.target_concurrency = 10};
  KpaState state;
  KpaDecision d;
  for (int s = 0; s < 60; ++s) {
    d = DecideKpa(spec, 3, 30, 0, state, kT0 + absl::Seconds(s));
    state = d.state;
  }
  EXPECT_EQ(d.desired_replicas, 3);
  EXPECT_FALSE(d.panicking);
}

TEST(KpaTest, PanicsOnABurstAndNeverScalesDownWhilePanicking) {
  KpaSpec spec{.target_concurrency = 10};
  KpaState state;
  auto tick = [&](int s, int ready, double concurrency) {
    auto d = DecideKpa(spec, ready, concurrency, 0, state, kT0 + absl::Seconds(s));
    state = d.state;
    return d;
  };
  for (int s = 0; s < 60; ++s) tick(s, 2, 20);
  auto burst = tick(60, 2, 200);  // 6 s average jumps: (5*20+200)/6 = 50 -> 5 replicas, 250 % of 2
  EXPECT_TRUE(burst.panicking);
  EXPECT_EQ(burst.desired_replicas, 5);
  auto later = tick(61, 5, 200);  // more of the burst
  EXPECT_GT(later.desired_replicas, 5);
  const int peak = later.desired_replicas;
  // The burst ends: still panicking (no trigger for less than a stable window) and not going down.
  for (int s = 62; s < 120; ++s) {
    auto d = tick(s, peak, 5);
    EXPECT_GE(d.desired_replicas, peak) << s;
  }
  auto calm = tick(125, peak, 5);
  EXPECT_FALSE(calm.panicking);
  EXPECT_LT(calm.desired_replicas, peak);
}

TEST(KpaTest, ScalesToZeroAfterTheGracePeriodAndWakesOnARequest) {
  KpaSpec spec{.target_concurrency = 10, .scale_to_zero_grace = absl::Seconds(30)};
  KpaState state;
  auto tick = [&](int s, int ready, double concurrency, int pending) {
    auto d = DecideKpa(spec, ready, concurrency, pending, state, kT0 + absl::Seconds(s));
    state = d.state;
    return d;
  };
  tick(0, 1, 5, 0);
  // Traffic stops; the stable window still remembers it for 60 s, then the grace period runs.
  int replicas = 1;
  int zero_at = -1;
  for (int s = 1; s < 200 && zero_at < 0; ++s) {
    replicas = tick(s, replicas, 0, 0).desired_replicas;
    if (replicas == 0) zero_at = s;
  }
  EXPECT_GE(zero_at, 60 + 30);
  EXPECT_EQ(tick(zero_at + 1, 0, 0, 0).desired_replicas, 0);
  auto wake = tick(zero_at + 2, 0, 0, 1);
  EXPECT_EQ(wake.desired_replicas, 1);
  EXPECT_THAT(wake.reason, ::testing::HasSubstr("waking"));

  KpaSpec keep_one = spec;
  keep_one.allow_scale_to_zero = false;
  KpaState s2;
  for (int s = 0; s < 200; ++s) {
    auto d = DecideKpa(keep_one, 1, 0, 0, s2, kT0 + absl::Seconds(s));
    s2 = d.state;
    EXPECT_EQ(d.desired_replicas, 1);
  }
}

TEST(SloTest, ErlangCMatchesKnownValues) {
  EXPECT_NEAR(ErlangC(1, 0.5), 0.5, 1e-9);     // M/M/1: P(wait) = rho
  EXPECT_NEAR(ErlangC(2, 1.0), 1.0 / 3, 1e-9);  // textbook value
  EXPECT_EQ(ErlangC(2, 2.0), 1.0);
  EXPECT_EQ(ErlangC(3, 0.0), 0.0);
}

TEST(SloTest, BurstHeadroomPlansForAMultipleOfTheRate) {
  SloObservation obs{.arrival_rate = 100, .mean_service_time = absl::Milliseconds(20),
                     .service_time_percentile = absl::Milliseconds(40)};
  SloSpec plain{.latency_target = absl::Milliseconds(100), .max_replicas = 50};
  SloSpec reserve = plain;
  reserve.burst_headroom = 5;
  SloObservation five_times = obs;
  five_times.arrival_rate = 500;
  const SloDecision d = DecideSlo(reserve, obs);
  EXPECT_EQ(d.desired_replicas, DecideSlo(plain, five_times).desired_replicas);
  EXPECT_GT(d.desired_replicas, DecideSlo(plain, obs).desired_replicas);
  EXPECT_THAT(d.reason, ::testing::HasSubstr("planned for 500.0"));
  reserve.burst_headroom = 0.5;  // below 1 means none
  EXPECT_EQ(DecideSlo(reserve, obs).desired_replicas, DecideSlo(plain, obs).desired_replicas);
}

TEST(SloTest, PicksTheFewestReplicasThatMeetTheTarget) {
  SloSpec spec{.latency_target = absl::Milliseconds(100), .percentile = 0.95, .max_replicas = 50};
  // 100 req/s at 20 ms: load 2; p95 of service 40 ms.
  auto d = DecideSlo(spec, {.arrival_rate = 100, .mean_service_time = absl::Milliseconds(20),
                            .service_time_percentile = absl::Milliseconds(40)});
  EXPECT_GE(d.desired_replicas, 3);
  EXPECT_LE(d.predicted_latency, absl::Milliseconds(100));
  // One fewer replica would miss the target (or be unstable).
  auto fewer = DecideSlo({.latency_target = absl::Milliseconds(100), .percentile = 0.95,
                          .min_replicas = d.desired_replicas - 1, .max_replicas = d.desired_replicas - 1},
                         {.arrival_rate = 100, .mean_service_time = absl::Milliseconds(20),
                          .service_time_percentile = absl::Milliseconds(40)});
  EXPECT_GT(fewer.predicted_latency, absl::Milliseconds(100));
  // A step in load is answered at once.
  auto step = DecideSlo(spec, {.arrival_rate = 1000, .mean_service_time = absl::Milliseconds(20),
                               .service_time_percentile = absl::Milliseconds(40)});
  EXPECT_GE(step.desired_replicas, 21);
  // Unreachable and idle cases.
  EXPECT_EQ(DecideSlo(spec, {.arrival_rate = 10, .mean_service_time = absl::Milliseconds(150),
                             .service_time_percentile = absl::Milliseconds(200)})
                .desired_replicas,
            50);
  EXPECT_EQ(DecideSlo(spec, {}).desired_replicas, 1);
}

TEST(StepPolicyTest, TheSeedsRule) {
  StepPolicySpec spec;
  auto up = DecideStep(spec, 4, 0.9, std::nullopt, kT0);
  EXPECT_EQ(up.desired_replicas, 6);
  auto wait = DecideStep(spec, 6, 0.9, up.last_check, kT0 + absl::Seconds(30));
  EXPECT_EQ(wait.desired_replicas, 6);
  EXPECT_EQ(DecideStep(spec, 19, 0.95, up.last_check, kT0 + absl::Seconds(61)).desired_replicas, 20);
  EXPECT_EQ(DecideStep(spec, 2, 0.1, std::nullopt, kT0).desired_replicas, 2);
  EXPECT_EQ(DecideStep(spec, 5, 0.1, std::nullopt, kT0).desired_replicas, 4);
  EXPECT_EQ(DecideStep(spec, 5, 0.5, std::nullopt, kT0).desired_replicas, 5);
}

}  // namespace
}  // namespace meridian::control
