#pragma once

// HTTP request metrics:
//   meridian_http_requests_total{method,route,code}             counter
//   meridian_http_request_duration_seconds{method,route}        histogram
// `route` is the route pattern (bounded cardinality), never the raw path.
// Thread-safe; the per-series lookup is a shared-lock hash lookup once a series exists.

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace meridian::metrics {

class HttpMetrics {
 public:
  explicit HttpMetrics(prometheus::Registry& registry);

  void Record(absl::string_view method, absl::string_view route, int status, absl::Duration duration);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, prometheus::Counter*> counters_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, prometheus::Histogram*> histograms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::metrics
