#pragma once

// The deployments control loop: stores applied specs as numbered revisions (DeploymentStore),
// and converges what runs to what is declared, after every change and on a timer. Each pass
// resolves the versions (aliases are followed as they move), asks the autoscaler for replica
// counts, admits and places every replica through the scheduler core (priorities, preemption),
// then rolls each deployment towards its spec through the Runtime: a rolling update within
// maxSurge/maxUnavailable with traffic moved only to ready replicas, a canary that is analysed
// step by step and promoted or rolled back, a shadow that receives copies of requests.
// After a restart, Create brings every stored deployment back. Thread-safe.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "control/autoscaler/hpa.h"
#include "control/scheduler/cluster.h"
#include "control/scheduler/priority_class.h"
#include "deploy/model_deployment.h"
#include "deploy/resource_quota_spec.h"
#include "deploy/runtime.h"
#include "metrics/deployment_metrics.h"
#include "registry/registry.h"
#include "store/deployment_store.h"

namespace meridian::deploy {

struct DeploymentControllerOptions {
  store::DeploymentStore* store = nullptr;  // not owned
  registry::Registry* registry = nullptr;   // not owned
  Runtime* runtime = nullptr;               // not owned
  scheduler::NodeSpec node;                 // this machine
  metrics::DeploymentMetrics* metrics = nullptr;  // not owned; may be null
  absl::Duration resync = absl::Seconds(2);
  // A replica that failed to start is retried after this.
  absl::Duration retry_failed_start = absl::Seconds(10);
};

struct ApplyResult {
  enum class Kind { kCreated, kConfigured, kUnchanged };
  Kind kind = Kind::kUnchanged;
  int64_t revision = 0;
  std::string message;
};
absl::string_view ApplyResultName(ApplyResult::Kind kind);  // "created", "configured", "unchanged"

// The priority classes deployments may name: ai-high-priority (1000000), ai-standard-priority
// (0, the default) and ai-low-priority (-1000), besides Kubernetes' system classes.
scheduler::PriorityClasses DefaultPriorityClasses();

class DeploymentController {
 public:
  static absl::StatusOr<std::unique_ptr<DeploymentController>> Create(const DeploymentControllerOptions& options);
  // Stops the loop and every replica.
  ~DeploymentController();

  // Idempotent: the same spec again makes no revision. kInvalidArgument for an unknown priority
  // class; kFailedPrecondition when another namespace already uses the name (requests address
  // deployments by name).
  absl::StatusOr<ApplyResult> Apply(const ModelDeploymentSpec& spec, absl::string_view actor);
  // Re-applies a stored revision's spec as a new revision: `revision`, or the one before the
  // current when absent.
  absl::StatusOr<ApplyResult> Rollback(absl::string_view namespace_name, absl::string_view name,
                                       std::optional<int64_t> revision, absl::string_view actor);
  absl::Status Delete(absl::string_view namespace_name, absl::string_view name);

  // The deployment as JSON: apiVersion, kind, metadata (with revision), spec and status.
  absl::StatusOr<std::string> GetJson(absl::string_view namespace_name, absl::string_view name) const;
  // {"items": [...]}, every namespace when `namespace_name` is empty.
  std::string ListJson(absl::string_view namespace_name) const;
  // {"revisions": [{"revision", "reason", "actor", "createdAt", "version", "spec"}]}
  absl::StatusOr<std::string> HistoryJson(absl::string_view namespace_name, absl::string_view name) const;

  // Namespaces' resource quotas: stored, and applied to placement from the next pass.
  absl::Status PutQuota(const ResourceQuotaSpec& quota);
  absl::Status DeleteQuota(absl::string_view namespace_name, absl::string_view name);
  // {"apiVersion":"v1","kind":"ResourceQuota","metadata":...,"spec":{"hard"},"status":{"hard","used"}}
  absl::StatusOr<std::string> QuotaJson(absl::string_view namespace_name, absl::string_view name) const;
  // {"items": [...]}, every namespace when `namespace_name` is empty.
  std::string QuotasJson(absl::string_view namespace_name) const;

  // Wakes the loop now (after an alias move, for instance).
  void Kick();

  struct Replica {
    ReplicaId id = 0;
    std::string version;
    std::string track;     // "stable", "canary" or "shadow"
    std::string template_key;  // version and settings: a replica with another key is outdated
    int64_t revision = 0;  // the revision that started it
  };
  struct Condition {
    std::string status;  // "True" / "False"
    std::string reason;
    std::string message;
    absl::Time since;
  };
  struct CanaryState {
    std::string version;
    size_t step = 0;
    absl::Time step_started;
    serving::TrafficStats::Snapshot canary_base;
    serving::TrafficStats::Snapshot stable_base;
    std::string phase = "Progressing";  // Progressing, Promoted, RolledBack
    std::string message;
    int weight = 0;
  };
  struct Managed;

 private:
  explicit DeploymentController(const DeploymentControllerOptions& options);
  absl::StatusOr<ApplyResult> ApplyLocked(const ModelDeploymentSpec& spec, absl::string_view actor,
                                          const std::string& reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Loop();
  bool Woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return kicked_ || stopping_; }
  void ReconcileAllLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void ResolveLocked(Managed& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void AutoscaleLocked(Managed& m, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void PlaceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void ConvergeLocked(Managed& m, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void ConvergeCanaryLocked(Managed& m, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void ConvergeShadowLocked(Managed& m, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Starts a replica with the lock released (loading takes a while); false when it failed.
  bool StartReplicaLocked(Managed& m, const std::string& version, const std::string& track, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void StopReplicaLocked(Managed& m, ReplicaId id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void PublishTrafficLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Holds the versions the deployment uses in the registry and releases the others.
  void SyncHoldsLocked(Managed& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void SetCondition(Managed& m, const std::string& type, bool ok, const std::string& reason,
                    const std::string& message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  std::string StatusJsonLocked(const Managed& m) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  std::string ObjectJsonLocked(const Managed& m) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  std::string QuotaObjectJsonLocked(const std::string& namespace_name, const std::string& name,
                                    const scheduler::QuotaAmounts& hard) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const DeploymentControllerOptions options_;
  const scheduler::PriorityClasses priority_classes_;
  mutable absl::Mutex mutex_;
  std::map<std::string, std::shared_ptr<Managed>> deployments_ ABSL_GUARDED_BY(mutex_);  // by namespace/name
  std::vector<std::shared_ptr<Managed>> deleting_ ABSL_GUARDED_BY(mutex_);
  uint64_t next_order_ ABSL_GUARDED_BY(mutex_) = 1;
  std::map<std::pair<std::string, std::string>, scheduler::QuotaAmounts> quotas_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, scheduler::QuotaAmounts> quota_used_ ABSL_GUARDED_BY(mutex_);  // by namespace, last pass
  bool kicked_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread loop_;
};

}  // namespace meridian::deploy
