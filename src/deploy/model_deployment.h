#pragma once

// The ModelDeployment resource: what a user declares should run (apiVersion meridian.ai/v1,
// kind ModelDeployment), written as YAML or JSON in the Kubernetes style. docs/deployments.md
// documents every field and its default. One definition for the REST API, the CLI and storage.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "control/autoscaler/hpa.h"
#include "control/scheduler/cluster.h"

namespace meridian::deploy {

inline constexpr char kApiVersion[] = "meridian.ai/v1";
inline constexpr char kKind[] = "ModelDeployment";

struct ResourceAmounts {
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  int32_t gpu_milli = 0;  // nvidia.com/gpu in thousandths: 2000 = two GPUs, 500 = half of one
};

struct CanaryStep {
  int weight = 0;  // percent of requests to the canary
  absl::Duration duration = absl::Minutes(1);
};

// What the canary must hold against the stable version over each step.
struct CanaryAnalysis {
  double max_error_rate = 0.01;           // failed / all requests to the canary
  absl::Duration max_latency_p95;         // zero: no absolute bound
  double max_latency_ratio = 0;           // canary p95 / stable p95; zero: no bound
  int64_t min_requests = 20;              // fewer in a step: the step is extended, not judged
};

struct CanarySpec {
  std::string version;  // SemVer, alias or range, as spec.version
  // Without steps: a fixed share until the spec changes. With steps: the weights in turn, each
  // judged by the analysis, then promotion (the canary version becomes spec.version).
  int weight = 10;
  std::vector<CanaryStep> steps;
  CanaryAnalysis analysis;
};

struct ShadowSpec {
  std::string version;
  double percent = 100;  // of requests copied to the shadow version
};

struct AutoscalingMetric {
  // "concurrency" (requests queued or running per replica), "cpu" (percent of the replica's
  // requested CPU kept busy), "memory" (percent of requested memory), "latency" (p95 per replica,
  // target in milliseconds).
  std::string type;
  double target = 0;
};

struct AutoscalingSpec {
  std::vector<AutoscalingMetric> metrics;  // empty: replicas stay at min
  double tolerance = 0.1;
  control::ScalingRules scale_up = control::DefaultScaleUpRules();
  control::ScalingRules scale_down = control::DefaultScaleDownRules();
  absl::Duration interval = absl::Seconds(15);  // how often metrics are read and replicas decided
};

struct RolloutStrategy {
  int max_unavailable = 0;  // replicas that may be missing during an update
  int max_surge = 1;        // replicas above the desired count during an update
};

struct ModelDeploymentSpec {
  std::string name;
  std::string namespace_name = "default";
  std::map<std::string, std::string> labels;

  std::string model;
  std::string version = "latest";  // SemVer, alias ("production"), range ("^1.2") or "latest"
  int min_replicas = 1;
  int max_replicas = 1;
  ResourceAmounts requests;
  ResourceAmounts limits;
  std::string priority_class;  // empty: the default class
  AutoscalingSpec autoscaling;
  std::string batching_json;        // the spec.batching object (version metadata "batching" fields), or empty
  std::string response_cache_json;  // the spec.responseCache object, or empty
  std::map<std::string, std::string> node_selector;
  std::vector<scheduler::Toleration> tolerations;
  std::vector<scheduler::NodeSelectorTerm> required_node_affinity;
  RolloutStrategy strategy;
  std::optional<CanarySpec> canary;
  std::optional<ShadowSpec> shadow;

  std::string key() const { return namespace_name + "/" + name; }
};

}  // namespace meridian::deploy
