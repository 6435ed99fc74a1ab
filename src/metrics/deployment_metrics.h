#pragma once

// Deployment metrics:
//   deployment_requests_total{deployment,version,track,result}  counter; track "stable" or
//                                                                "canary", result "success"/"error"
//   deployment_shadow_requests_total{deployment,version,result} counter; result "same" (the shadow
//                                                                answered as the served version),
//                                                                "different" or "error"
//   deployment_shadow_duration_seconds{deployment,version}      histogram, the shadow's latency
//   deployment_replicas{namespace,deployment,state}             gauge; state "desired", "ready"
//   deployment_canary_weight{namespace,deployment}              gauge, percent to the canary
// Thread-safe.

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace meridian::metrics {

class DeploymentMetrics {
 public:
  explicit DeploymentMetrics(prometheus::Registry& registry);

  // The request counters of one deployment, version and track, looked up once when traffic is
  // routed there, so that counting a request is one atomic increment.
  struct RequestCounters {
    prometheus::Counter* success = nullptr;
    prometheus::Counter* error = nullptr;
    void Record(bool ok) const {
      if (prometheus::Counter* c = ok ? success : error) c->Increment();
    }
  };
  RequestCounters CountersFor(absl::string_view deployment, absl::string_view version, absl::string_view track);
  void RecordShadow(absl::string_view deployment, absl::string_view version, absl::string_view result,
                    absl::Duration latency);
  void SetReplicas(absl::string_view namespace_name, absl::string_view deployment, int desired, int ready);
  void SetCanaryWeight(absl::string_view namespace_name, absl::string_view deployment, int percent);
  void Remove(absl::string_view namespace_name, absl::string_view deployment);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& shadow_requests_;
  prometheus::Family<prometheus::Histogram>& shadow_duration_;
  prometheus::Family<prometheus::Gauge>& replicas_;
  prometheus::Family<prometheus::Gauge>& canary_weight_;
};

}  // namespace meridian::metrics
