#pragma once

// Where requests to a deployment go. The control plane publishes an immutable RoutingTable (which
// replicas serve each deployment, the canary's share, the shadow's); the hot path reads the
// current table with one atomic load and never waits on the control plane (ARCHITECTURE.md,
// layering 6). A request names a deployment as its model: /v2/models/{deployment}/infer.
// Thread-safe.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "metrics/deployment_metrics.h"
#include "serving/inference.h"
#include "serving/model_repository.h"
#include "serving/traffic_stats.h"

namespace meridian::serving {

// One version's replicas within a deployment.
struct RouteTarget {
  std::string version;
  std::vector<std::shared_ptr<ServedModel>> replicas;  // ready ones only
  std::shared_ptr<TrafficStats> stats;                 // outcomes of requests sent here
  metrics::DeploymentMetrics::RequestCounters counters;  // may be empty (no metrics)
};

struct DeploymentRoute {
  std::string deployment;
  RouteTarget stable;
  std::optional<RouteTarget> canary;
  int canary_percent = 0;
  std::optional<RouteTarget> shadow;
  double shadow_percent = 0;
};

using RoutingTable = absl::flat_hash_map<std::string, DeploymentRoute>;

struct RouteChoice {
  std::string deployment;
  std::string track;  // "stable" or "canary"
  std::shared_ptr<ServedModel> served;
  std::shared_ptr<TrafficStats> stats;
  metrics::DeploymentMetrics::RequestCounters counters;
  std::shared_ptr<ServedModel> shadow;  // null: not copied this time
};

class TrafficRouter {
 public:
  TrafficRouter() : table_(std::make_shared<const RoutingTable>()) {}

  void Publish(std::shared_ptr<const RoutingTable> table);
  std::shared_ptr<const RoutingTable> Current() const;

  // nullopt when `request.model` is not a deployment. Otherwise the replica to use: the canary
  // for its share of requests, the least loaded replica of the chosen version. A request that
  // names a version gets that version if the deployment serves it (kNotFound otherwise); a
  // deployment without a ready replica answers kUnavailable (503).
  std::optional<absl::StatusOr<RouteChoice>> Route(const InferenceRequest& request) const;

 private:
  mutable absl::Mutex mutex_;  // guards only the pointer swap
  std::shared_ptr<const RoutingTable> table_ ABSL_GUARDED_BY(mutex_);
  mutable std::atomic<uint64_t> next_{0};
};

// Compares the shadow version's answer with the one the client got, whichever arrives last, and
// reports "same", "different" or "error" (the shadow failed) with the shadow's latency.
class ShadowComparison {
 public:
  using Report = std::function<void(absl::string_view result, absl::Duration latency)>;
  explicit ShadowComparison(Report report) : report_(std::move(report)) {}

  void PrimaryDone(const absl::StatusOr<InferenceResponse>& result);
  void ShadowDone(const absl::StatusOr<InferenceResponse>& result, absl::Duration latency);

 private:
  void CompareLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  Report report_;
  absl::Mutex mutex_;
  std::optional<absl::StatusOr<std::vector<Tensor>>> primary_ ABSL_GUARDED_BY(mutex_);
  std::optional<absl::StatusOr<std::vector<Tensor>>> shadow_ ABSL_GUARDED_BY(mutex_);
  absl::Duration shadow_latency_ ABSL_GUARDED_BY(mutex_);
};

// True when the two answers have the same outputs (names, types, shapes) and values (floats
// within a relative 1e-5).
bool SameOutputs(const std::vector<Tensor>& a, const std::vector<Tensor>& b);

}  // namespace meridian::serving
