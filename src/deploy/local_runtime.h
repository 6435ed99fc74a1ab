#pragma once

// Replicas in this server process: each is a private copy of the model version with its own
// queue and instance threads (ModelRepository::LoadReplica), routed to by the TrafficRouter that
// the inference path reads. A stopped replica leaves the routing table first, finishes what it
// holds, and is destroyed on the controller's thread once idle, never on an I/O thread.

#include <map>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "deploy/runtime.h"
#include "metrics/deployment_metrics.h"
#include "serving/model_repository.h"
#include "serving/traffic_router.h"

namespace meridian::deploy {

struct LocalRuntimeOptions {
  serving::ModelRepository* repository = nullptr;  // not owned
  serving::TrafficRouter* router = nullptr;        // not owned
  metrics::DeploymentMetrics* metrics = nullptr;   // not owned; may be null
};

class LocalRuntime final : public Runtime {
 public:
  explicit LocalRuntime(const LocalRuntimeOptions& options) : options_(options) {}
  ~LocalRuntime() override;

  absl::StatusOr<ReplicaId> StartReplica(const ReplicaTemplate& replica) override;
  void StopReplica(ReplicaId id) override;
  void SetTraffic(const std::vector<TrafficPlan>& plans) override;
  std::optional<ReplicaLoad> Load(ReplicaId id) override;
  serving::TrafficStats::Snapshot Outcomes(const std::string& deployment, const std::string& version) override;

  size_t running() const;
  size_t draining() const;

 private:
  // Destroys stopped replicas that nothing references any more and that have nothing queued.
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  std::shared_ptr<serving::TrafficStats> StatsLocked(const std::string& deployment, const std::string& version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const LocalRuntimeOptions options_;
  mutable absl::Mutex mutex_;
  ReplicaId next_id_ ABSL_GUARDED_BY(mutex_) = 1;
  std::map<ReplicaId, std::shared_ptr<serving::ServedModel>> replicas_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::shared_ptr<serving::ServedModel>> draining_ ABSL_GUARDED_BY(mutex_);
  std::map<std::pair<std::string, std::string>, std::shared_ptr<serving::TrafficStats>> stats_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace meridian::deploy
