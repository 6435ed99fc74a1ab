#include "metrics/deployment_metrics.h"

#include <string>

namespace meridian::metrics {

DeploymentMetrics::DeploymentMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("deployment_requests_total")
                    .Help("Requests to deployments by deployment, version, track and result.")
                    .Register(registry)),
      shadow_requests_(prometheus::BuildCounter()
                           .Name("deployment_shadow_requests_total")
                           .Help("Requests copied to a shadow version, by how its answer compared.")
                           .Register(registry)),
      shadow_duration_(prometheus::BuildHistogram()
                           .Name("deployment_shadow_duration_seconds")
                           .Help("Latency of the shadow version's answers, in seconds.")
                           .Register(registry)),
      replicas_(prometheus::BuildGauge()
                    .Name("deployment_replicas")
                    .Help("Replicas of a deployment: desired and ready.")
                    .Register(registry)),
      canary_weight_(prometheus::BuildGauge()
                         .Name("deployment_canary_weight")
                         .Help("Percent of a deployment's requests sent to its canary version.")
                         .Register(registry)) {}

DeploymentMetrics::RequestCounters DeploymentMetrics::CountersFor(absl::string_view deployment,
                                                                  absl::string_view version,
                                                                  absl::string_view track) {
  auto counter = [&](const char* result) {
    return &requests_.Add({{"deployment", std::string(deployment)},
                           {"version", std::string(version)},
                           {"track", std::string(track)},
                           {"result", result}});
  };
  return {.success = counter("success"), .error = counter("error")};
}

void DeploymentMetrics::RecordShadow(absl::string_view deployment, absl::string_view version,
                                     absl::string_view result, absl::Duration latency) {
  const std::map<std::string, std::string> labels = {{"deployment", std::string(deployment)},
                                                     {"version", std::string(version)}};
  std::map<std::string, std::string> with_result = labels;
  with_result["result"] = std::string(result);
  shadow_requests_.Add(with_result).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                                   0.01,   0.025,   0.05,   0.1,   0.25,   0.5, 1, 5};
  shadow_duration_.Add(labels, kBuckets).Observe(absl::ToDoubleSeconds(latency));
}

void DeploymentMetrics::SetReplicas(absl::string_view namespace_name, absl::string_view deployment, int desired,
                                    int ready) {
  for (auto [state, value] : {std::pair{"desired", desired}, {"ready", ready}}) {
    replicas_
        .Add({{"namespace", std::string(namespace_name)}, {"deployment", std::string(deployment)}, {"state", state}})
        .Set(value);
  }
}

void DeploymentMetrics::SetCanaryWeight(absl::string_view namespace_name, absl::string_view deployment,
                                        int percent) {
  canary_weight_.Add({{"namespace", std::string(namespace_name)}, {"deployment", std::string(deployment)}})
      .Set(percent);
}

void DeploymentMetrics::Remove(absl::string_view namespace_name, absl::string_view deployment) {
  for (const char* state : {"desired", "ready"}) {
    replicas_.Remove(&replicas_.Add(
        {{"namespace", std::string(namespace_name)}, {"deployment", std::string(deployment)}, {"state", state}}));
  }
  canary_weight_.Remove(
      &canary_weight_.Add({{"namespace", std::string(namespace_name)}, {"deployment", std::string(deployment)}}));
}

}  // namespace meridian::metrics
