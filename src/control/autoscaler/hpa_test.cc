#include "control/autoscaler/hpa.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::control {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

// `values`: one per pod; NaN marks a pod without metrics.
MetricObservation Metric(double target, std::vector<double> values, int not_ready = 0) {
  MetricObservation o{.metric = "cpu", .target = target};
  for (size_t i = 0; i < values.size(); ++i) {
    PodSample p{.pod = "pod-" + std::to_string(i)};
    if (!std::isnan(values[i])) p.value = values[i];
    o.pods.push_back(p);
  }
  for (int i = 0; i < not_ready; ++i) o.pods.push_back(PodSample{.pod = "new", .ready = false, .value = 0.0});
  return o;
}

const double kMissing = std::nan("");

// The worked example of the Kubernetes documentation: 200m against 100m doubles, 50m halves.
TEST(ReplicaCalculatorTest, DocumentedRatios) {
  EXPECT_EQ(*CalculateReplicas(Metric(100, {200, 200, 200}), 3, 0.1).replicas, 6);
  EXPECT_EQ(*CalculateReplicas(Metric(100, {50, 50, 50, 50}), 4, 0.1).replicas, 2);
  // desired = ceil(current * ratio): 3 pods at 70 % against 50 % -> ceil(4.2) = 5.
  EXPECT_EQ(*CalculateReplicas(Metric(50, {70, 70, 70}), 3, 0.1).replicas, 5);
}

TEST(ReplicaCalculatorTest, WithinToleranceNothingChanges) {
  auto r = CalculateReplicas(Metric(100, {108, 105, 104}), 3, 0.1);
  EXPECT_EQ(*r.replicas, 3);
  EXPECT_THAT(r.reason, ::testing::HasSubstr("tolerance"));
  EXPECT_EQ(*CalculateReplicas(Metric(100, {111, 111, 111}), 3, 0.1).replicas, 4);
  EXPECT_EQ(*CalculateReplicas(Metric(100, {108, 108, 108}), 3, 0.05).replicas, 4);
}

TEST(ReplicaCalculatorTest, MissingMetricsAreConservative) {
  // Scale up: missing pods count as idle. (150*3 + 0) / 4 = 112.5 % -> ceil(1.125 * 4) = 5.
  EXPECT_EQ(*CalculateReplicas(Metric(100, {150, 150, 150, kMissing}), 4, 0.1).replicas, 5);
  // Scale down: missing pods count as at the target. (50*3 + 100) / 4 = 62.5 % -> ceil(2.5) = 3.
  EXPECT_EQ(*CalculateReplicas(Metric(100, {50, 50, 50, kMissing}), 4, 0.1).replicas, 3);
  // A scale up that the assumption would reverse does not happen: (120*2 + 0*2) / 4 = 60 %.
  EXPECT_EQ(*CalculateReplicas(Metric(100, {120, 120, kMissing, kMissing}), 4, 0.1).replicas, 4);
  // Nor one that lands within tolerance: (130 + 0 + 100... ) -> (130*3 + 0) / 4 = 97.5 %.
  EXPECT_EQ(*CalculateReplicas(Metric(100, {130, 130, 130, kMissing}), 4, 0.1).replicas, 4);
}

TEST(ReplicaCalculatorTest, NotReadyPodsCountAsIdleWhenScalingUp) {
  // 3 ready at 200 %, 1 starting: (600 + 0) / 4 = 150 % -> ceil(1.5 * 4) = 6.
  EXPECT_EQ(*CalculateReplicas(Metric(100, {200, 200, 200}, 1), 4, 0.1).replicas, 6);
  // Scaling down, not-ready pods are simply left out: 2 ready at 25 % -> ceil(0.5) = 1.
  EXPECT_EQ(*CalculateReplicas(Metric(100, {25, 25}, 1), 3, 0.1).replicas, 1);
}

TEST(ReplicaCalculatorTest, TerminatingPodsAndEmptyMetrics) {
  MetricObservation o = Metric(100, {200, 200});
  o.pods.push_back(PodSample{.pod = "going", .terminating = true, .value = 1000.0});
  EXPECT_EQ(*CalculateReplicas(o, 3, 0.1).replicas, 4);
  EXPECT_FALSE(CalculateReplicas(Metric(100, {kMissing, kMissing}), 2, 0.1).replicas.has_value());
}

TEST(HpaTest, LargestMetricRecommendationWins) {
  HpaSpec spec{.min_replicas = 1, .max_replicas = 20};
  MetricObservation cpu = Metric(70, {140, 140});          // -> 4
  MetricObservation memory = Metric(80, {80, 80});          // -> 2 (within tolerance)
  memory.metric = "memory";
  auto d = DecideReplicas(spec, 2, {cpu, memory}, {}, kT0);
  EXPECT_EQ(d.desired_replicas, 4);
  EXPECT_THAT(d.reason, ::testing::HasSubstr("cpu"));
  ASSERT_EQ(d.metrics.size(), 2u);
}

TEST(HpaTest, ScaleDownWaitsForTheStabilizationWindow) {
  HpaSpec spec{.min_replicas = 1, .max_replicas = 20};
  HpaState state;
  // Busy at first: recommendation 6 with 6 running.
  auto d = DecideReplicas(spec, 6, {Metric(100, {100, 100, 100, 100, 100, 100})}, state, kT0);
  EXPECT_EQ(d.desired_replicas, 6);
  state = d.state;
  // Load drops: the recommendation is 3, but 6 was recommended within 300 s.
  for (int s = 15; s < 300; s += 15) {
    d = DecideReplicas(spec, 6, {Metric(100, {50, 50, 50, 50, 50, 50})}, state, kT0 + absl::Seconds(s));
    EXPECT_EQ(d.desired_replicas, 6) << s;
    EXPECT_THAT(d.reason, ::testing::HasSubstr("stabilization")) << s;
    state = d.state;
  }
  d = DecideReplicas(spec, 6, {Metric(100, {50, 50, 50, 50, 50, 50})}, state, kT0 + absl::Seconds(301));
  EXPECT_EQ(d.desired_replicas, 3);
}

TEST(HpaTest, DefaultScaleUpPolicyIsTheLargerOfDoublingAndFourPods) {
  HpaSpec spec{.min_replicas = 1, .max_replicas = 100};
  // From 2 pods at 1000 % -> wants 20; allowed max(2 * 2, 2 + 4) = 6.
  auto d = DecideReplicas(spec, 2, {Metric(10, {100, 100})}, {}, kT0);
  EXPECT_EQ(d.desired_replicas, 6);
  EXPECT_EQ(d.reason, "scale-up policy limit");
  // Within the same 15 s period the limit counts from the period's start (2): still 6.
  auto again = DecideReplicas(spec, 6, {Metric(10, std::vector<double>(6, 100))}, d.state, kT0 + absl::Seconds(5));
  EXPECT_EQ(again.desired_replicas, 6);
  // After the period: from 6, max(12, 10) = 12.
  auto later = DecideReplicas(spec, 6, {Metric(10, std::vector<double>(6, 100))}, again.state, kT0 + absl::Seconds(16));
  EXPECT_EQ(later.desired_replicas, 12);
  // From 10 pods the percentage dominates: max(20, 14) = 20.
  EXPECT_EQ(DecideReplicas(spec, 10, {Metric(10, std::vector<double>(10, 100))}, {}, kT0).desired_replicas, 20);
}

TEST(HpaTest, CustomScaleDownPolicyRemovesOnePodPerMinute) {
  HpaSpec spec{.min_replicas = 1, .max_replicas = 20};
  spec.scale_down = ScalingRules{.stabilization_window = absl::ZeroDuration(),
                                 .policies = {{ScalingPolicy::Type::kPods, 1, absl::Seconds(60)}}};
  HpaState state;
  int replicas = 10;
  auto tick = [&](int seconds) {
    auto d = DecideReplicas(spec, replicas, {Metric(100, std::vector<double>(replicas, 10))}, state,
                            kT0 + absl::Seconds(seconds));
    state = d.state;
    replicas = d.desired_replicas;
    return replicas;
  };
  EXPECT_EQ(tick(0), 9);
  EXPECT_EQ(tick(30), 9);  // the period has room for one removal only
  EXPECT_EQ(tick(61), 8);
}

TEST(HpaTest, SelectPolicyMinAndDisabled) {
  HpaSpec spec{.min_replicas = 1, .max_replicas = 100};
  spec.scale_up.select = SelectPolicy::kMin;  // min(double, +4)
  EXPECT_EQ(DecideReplicas(spec, 10, {Metric(10, std::vector<double>(10, 100))}, {}, kT0).desired_replicas, 14);
  spec.scale_up.select = SelectPolicy::kDisabled;
  auto d = DecideReplicas(spec, 10, {Metric(10, std::vector<double>(10, 100))}, {}, kT0);
  EXPECT_EQ(d.desired_replicas, 10);
  EXPECT_EQ(d.reason, "scale up is disabled");
  HpaSpec no_down{.min_replicas = 1, .max_replicas = 100};
  no_down.scale_down = ScalingRules{.select = SelectPolicy::kDisabled};
  EXPECT_EQ(DecideReplicas(no_down, 10, {Metric(100, std::vector<double>(10, 10))}, {}, kT0).desired_replicas, 10);
}

TEST(HpaTest, MinAndMaxReplicasBound) {
  HpaSpec spec{.min_replicas = 2, .max_replicas = 5};
  auto high = DecideReplicas(spec, 4, {Metric(10, {100, 100, 100, 100})}, {}, kT0);
  EXPECT_EQ(high.desired_replicas, 5);
  EXPECT_EQ(high.reason, "maxReplicas");
  spec.scale_down.stabilization_window = absl::ZeroDuration();
  auto low = DecideReplicas(spec, 4, {Metric(100, {1, 1, 1, 1})}, {}, kT0);
  EXPECT_EQ(low.desired_replicas, 2);
  EXPECT_EQ(low.reason, "minReplicas");
  // Below the minimum with no usable metric: brought up to it.
  EXPECT_EQ(DecideReplicas(spec, 1, {Metric(100, {kMissing})}, {}, kT0).desired_replicas, 2);
}

}  // namespace
}  // namespace meridian::control
