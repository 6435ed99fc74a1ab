#pragma once

// The Kubernetes HorizontalPodAutoscaler algorithm (autoscaling/v2), as Kubernetes documents and
// implements it: per-metric replica calculation with tolerance, missing-metric and not-ready pod
// handling; the largest recommendation across metrics; the stabilization windows; the `behavior`
// scaling policies (Pods/Percent per period, selectPolicy Max/Min/Disabled); min/max replicas.
//
// Pure: the caller passes observations, time and the state from the previous decision, and keeps
// the state the decision returns. No clock, no I/O (see ARCHITECTURE.md, control/).

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace meridian::control {

// One pod's reading of one metric, in the metric's target unit (percent of request for
// utilization targets, the raw value for average-value targets).
struct PodSample {
  std::string pod;
  bool ready = true;             // Ready condition (and past its initialization period)
  bool terminating = false;      // being deleted or failed: ignored entirely
  std::optional<double> value;   // absent: no metric for this pod yet
};

struct MetricObservation {
  std::string metric;  // e.g. "cpu", "memory", "gpu"
  double target = 0;   // desired per-pod average, same unit as the samples
  std::vector<PodSample> pods;
};

struct ScalingPolicy {
  enum class Type { kPods, kPercent };
  Type type = Type::kPods;
  int value = 0;
  absl::Duration period;
};

enum class SelectPolicy { kMax, kMin, kDisabled };

struct ScalingRules {
  absl::Duration stabilization_window;
  SelectPolicy select = SelectPolicy::kMax;
  std::vector<ScalingPolicy> policies;
};

// The Kubernetes defaults: scale up by at most max(100 %, 4 pods) per 15 s with no stabilization;
// scale down by up to 100 % per 15 s after a 300 s stabilization window.
ScalingRules DefaultScaleUpRules();
ScalingRules DefaultScaleDownRules();

struct HpaSpec {
  int min_replicas = 1;
  int max_replicas = 10;
  double tolerance = 0.1;
  ScalingRules scale_up = DefaultScaleUpRules();
  ScalingRules scale_down = DefaultScaleDownRules();
};

// What the controller remembers between decisions.
struct HpaState {
  struct Recommendation {
    absl::Time time;
    int replicas = 0;
  };
  struct ScaleEvent {
    absl::Time time;
    int replicas = 0;  // how many were added (scale up) or removed (scale down)
  };
  std::vector<Recommendation> recommendations;
  std::vector<ScaleEvent> scale_up_events;
  std::vector<ScaleEvent> scale_down_events;
};

// One metric's recommendation and why.
struct MetricRecommendation {
  std::string metric;
  std::optional<int> replicas;  // absent: no usable samples
  double usage_ratio = 0;       // average / target over the pods that counted
  std::string reason;
};

struct HpaDecision {
  int desired_replicas = 0;
  std::vector<MetricRecommendation> metrics;
  // Which stage set the final number: "metric cpu", "within tolerance", "scale-down stabilization
  // window", "scale-up policy limit", "maxReplicas", ...
  std::string reason;
  HpaState state;  // keep for the next decision
};

// One metric, as ReplicaCalculator.GetResourceReplicas does it.
MetricRecommendation CalculateReplicas(const MetricObservation& observation, int current_replicas, double tolerance);

// One autoscaler tick at time `now`.
HpaDecision DecideReplicas(const HpaSpec& spec, int current_replicas, const std::vector<MetricObservation>& metrics,
                           const HpaState& state, absl::Time now);

}  // namespace meridian::control
