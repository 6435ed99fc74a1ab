#pragma once

// The models this server holds in memory: load, unload and reload versions from a ModelSource,
// readiness per version, a version policy per model, warm-up before a version reports ready, and
// residency: each version's memory is measured at load (resident-set growth), and when a load
// takes the total past the memory budget, idle versions go least-recently-used first. A version
// with requests queued or in flight is never evicted.
//
// Load and Unload block (file reads, child-process validation, framework load, warm-up): call
// them from a worker thread, never an I/O thread. Find is the hot path: a short reader lock and
// a shared_ptr copy. A version being replaced keeps serving the requests that hold it.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "metrics/inference_metrics.h"
#include "serving/backend.h"
#include "serving/batching_config.h"
#include "serving/dynamic_batcher.h"
#include "serving/response_cache.h"
#include "serving/model_source.h"
#include "serving/version_policy.h"
#include "serving/version_resolver.h"

namespace meridian::serving {

enum class ModelState { kLoading, kReady, kUnavailable };
absl::string_view ModelStateName(ModelState state);  // "LOADING", "READY", ... as Triton spells them

// A loaded, ready version and the queue and threads that execute it.
class ServedModel {
 public:
  ServedModel(ModelArtifact artifact, std::unique_ptr<LoadedModel> model, const BatchingConfig& batching,
              metrics::InferenceMetrics* metrics, std::shared_ptr<ComputeSlots> compute_slots = nullptr,
              absl::Duration execute_inline_below = kDefaultExecuteInlineBelow);

  const std::string& name() const { return artifact_.model; }
  const std::string& version() const { return artifact_.version; }
  const std::string& framework() const { return artifact_.framework; }
  const ModelSignature& signature() const { return model_->signature(); }
  LoadedModel& model() { return *model_; }
  DynamicBatcher& batcher() { return *batcher_; }
  const ResponseCacheSettings& cache_settings() const { return cache_settings_; }
  void set_cache_settings(const ResponseCacheSettings& settings) { cache_settings_ = settings; }

  // Resident memory the load added (measured).
  uint64_t memory_bytes() const { return memory_bytes_; }
  void set_memory_bytes(uint64_t bytes) { memory_bytes_ = bytes; }
  // When a request last found this version (for least-recently-used eviction).
  void Touch() { last_used_ns_.store(absl::GetCurrentTimeNanos(), std::memory_order_relaxed); }
  int64_t last_used_ns() const { return last_used_ns_.load(std::memory_order_relaxed); }

 private:
  ModelArtifact artifact_;
  uint64_t memory_bytes_ = 0;
  ResponseCacheSettings cache_settings_;
  std::atomic<int64_t> last_used_ns_{0};
  std::unique_ptr<LoadedModel> model_;
  // Destroyed first: finishes queued work while the model is still alive.
  std::unique_ptr<DynamicBatcher> batcher_;
};

struct ModelVersionStatus {
  std::string model;
  std::string version;
  ModelState state = ModelState::kLoading;
  std::string reason;  // why it is unavailable
};

struct LoadOptions {
  std::optional<VersionPolicy> policy;  // default: the latest version
};

// A deployment's settings over the version metadata's: JSON objects as in the metadata's
// "batching" and "responseCache"; empty: the metadata's.
struct ReplicaOverrides {
  std::string batching_json;
  std::string response_cache_json;
};

struct ModelRepositoryOptions {
  ModelSource* source = nullptr;          // not owned
  const BackendRegistry* backends = nullptr;  // not owned
  ModelValidator* validator = nullptr;    // not owned; nullptr loads without isolation
  // Per version, unless its metadata's "batching" says otherwise.
  BatchingConfig batching;
  int intra_op_threads = 1;
  // See DynamicBatcherOptions::execute_inline_below.
  absl::Duration execute_inline_below = kDefaultExecuteInlineBelow;
  // Instances x intra-op threads of one version are capped to this, and executions across all
  // versions at once to this over intra-op threads (0: no cap).
  int cpu_limit = 0;
  int warmup_requests = 1;
  // Total measured memory of loaded versions; 0: no budget.
  uint64_t memory_budget_bytes = 0;
  metrics::InferenceMetrics* metrics = nullptr;  // not owned; may be null
  // How long a request's alias keeps naming the version it named (see VersionResolver).
  absl::Duration alias_time_to_live = absl::Seconds(1);
  // Where remembered answers about references are asked again once expired, while they keep
  // serving (see VersionResolver); null: by the requesting thread. Not owned; it must finish its
  // tasks before the repository goes.
  ThreadPool* lookups = nullptr;
  // Told when a version leaves (unload, retired by a policy, evicted), e.g. to drop its cache.
  std::function<void(const std::string& model, const std::string& version)> on_unloaded;
};

class ModelRepository {
 public:
  explicit ModelRepository(const ModelRepositoryOptions& options);

  // Loads the versions the policy selects and unloads the model's other versions. Fails when a
  // selected version cannot be served; the others stay as they are.
  absl::Status Load(absl::string_view model, const LoadOptions& options);
  // Loads one version (the newest release when `version` is empty) without touching the model's
  // other versions; OK at once when it is already ready. For loading on first request: a version
  // that failed to load is not tried again by every request (see LoadWouldHelp), and its failure
  // is the server's, so it comes back as kUnavailable with the reason.
  absl::Status EnsureLoaded(absl::string_view model, absl::string_view version);
  // Whether EnsureLoaded could make `version` ("" for the newest) of `model` ready where Find
  // found it unavailable: the version it names has no entry yet, or failed for a reason that may
  // pass (no room in the memory budget, the store unreachable) over a second ago. Not for a
  // version whose file or metadata cannot be served: that waits for the registry to change the
  // model (ForgetReferences) or an explicit Load.
  bool LoadWouldHelp(absl::string_view model, absl::string_view version) const;
  // For a request without a version that `serving` answered: the version to load so that such
  // requests reach the model's newest version ("" when what the newest is must be asked first),
  // or nullopt when `serving` is the newest or loading the newest would not help (it is loading,
  // or failed). Never asks the source on this thread.
  std::optional<std::string> NewerVersionToLoad(absl::string_view model, absl::string_view serving) const;
  // Loads a private copy of a version for a deployment replica: validated, warmed up, with its own
  // queue and instances, sharing the compute slots, but not in this repository's index (the
  // caller owns it; it unloads when the last reference goes). `version` is canonical SemVer.
  // Its memory counts against the memory budget while it lives, never evicted: idle versions of
  // the index are evicted to make room for it, but a replica the scheduler placed is loaded even
  // when they cannot make enough (the budget is then exceeded, and logged).
  absl::StatusOr<std::shared_ptr<ServedModel>> LoadReplica(absl::string_view model, absl::string_view version,
                                                           const ReplicaOverrides& overrides);
  // Unloads every version of the model; kNotFound when none is loaded.
  absl::Status Unload(absl::string_view model);
  // Measured memory of every ready version and every live deployment replica.
  uint64_t memory_in_use() const;
  // The process-wide execution slots (null without a CPU limit).
  const ComputeSlots* compute_slots() const { return compute_slots_.get(); }

  // Whether Find may ask the model source what an alias names (a registry query, blocking) when
  // nothing is remembered about it. Callers on an I/O thread that load on first request pass
  // kRememberedOnly and let the load (EnsureLoaded, on a worker) find out.
  enum class Lookup { kMayAsk, kRememberedOnly };
  // The ready version: the one `version` names now when it is an alias or "latest"; without a
  // version, with kMayAsk the newest ready version, with kRememberedOnly (loading on first
  // request) the newest version of the source when it is ready, else the newest ready one (see
  // NewerVersionToLoad). kNotFound for a model or version this server does not hold (the
  // source's own answer when it is remembered to name nothing); kUnavailable (503) when it
  // exists but is not ready. `found_remembered_newest`, when given, is set to whether the answer
  // is the source's newest version as remembered (then NewerVersionToLoad would say nullopt, and
  // need not be asked).
  absl::StatusOr<std::shared_ptr<ServedModel>> Find(absl::string_view model, absl::string_view version,
                                                    Lookup lookup = Lookup::kMayAsk,
                                                    bool* found_remembered_newest = nullptr) const;
  // True when the source was asked lately and said `version` ("" for the newest) of `model`
  // names nothing: loading it on first request would only ask again.
  bool RememberedAbsent(absl::string_view model, absl::string_view version) const;
  // True when this server holds a version of the model or remembers that it exists.
  bool Knows(absl::string_view model) const;
  // True when `version` is an alias or "latest" whose version Find with kMayAsk would have to ask
  // the source for (a registry query), having no answer to give at once.
  bool MustAskWhatItNames(absl::string_view model, absl::string_view version) const;
  // Forgets what the model's references named, and the versions that failed to load: its
  // versions, their metadata or its aliases changed in the registry.
  void ForgetReferences(absl::string_view model);

  // The versions this server holds (loading, ready or unavailable).
  std::vector<ModelVersionStatus> Index() const;
  // Index, plus an entry without a version for each model of the source that has none loaded
  // (UNAVAILABLE, "not loaded"): the repository index, as Triton's lists its whole repository.
  // By model name, then version precedence.
  absl::StatusOr<std::vector<ModelVersionStatus>> IndexWithUnloaded() const;
  std::vector<ModelVersionStatus> Status(absl::string_view model) const;
  bool AllReady() const;

 private:
  // Find among the loaded versions, by concrete version.
  absl::StatusOr<std::shared_ptr<ServedModel>> FindLoaded(absl::string_view model, absl::string_view version) const;

  struct Entry {
    ModelState state = ModelState::kLoading;
    std::string reason;
    std::shared_ptr<ServedModel> served;
    absl::StatusCode failure = absl::StatusCode::kOk;  // why an UNAVAILABLE version failed
    absl::Time failed_at;
    uint64_t needed_bytes = 0;  // what it measured, when the memory budget had no room for it
  };
  absl::StatusOr<std::shared_ptr<ServedModel>> LoadVersion(const ModelArtifact& artifact,
                                                           const ReplicaOverrides& overrides = {});
  // Loads `version` of `model` into its entry (LOADING, then READY or UNAVAILABLE), making room
  // within the memory budget. Caller holds load_mutex_.
  // Without `retry_failed`, a version that failed is tried again only when LoadWouldHelp says.
  absl::Status LoadOne(const std::string& model, const std::string& version, bool retry_failed);
  // Whether requests hold a loaded version or wait for it (it must not be evicted).
  static bool InUse(const std::shared_ptr<ServedModel>& served);
  // Whether a version that failed with `entry` may be tried again on first request now: when the
  // memory budget was full, once idle versions hold enough to make room; when something else
  // that may pass failed (the store unreachable), a second later; otherwise not.
  bool RetryDue(const Entry& entry) const ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  // Evicts idle versions, least recently used first, until `incoming` more bytes fit. Fails
  // with kResourceExhausted naming what holds the memory when they cannot.
  absl::Status MakeRoom(uint64_t incoming, const std::string& keep_model, const std::string& keep_version);
  // Memory of the deployment replicas alive now.
  uint64_t ReplicaBytes() const ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  void SetEntry(const std::string& model, const std::string& version, Entry entry);

  const ModelRepositoryOptions options_;
  mutable VersionResolver resolver_;  // aliases named by requests
  const std::shared_ptr<ComputeSlots> compute_slots_;  // null without a CPU limit
  mutable absl::Mutex mutex_;
  // model -> version -> entry; versions ordered by SemVer precedence.
  std::map<std::string, std::map<std::string, Entry>> models_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::weak_ptr<ServedModel>> replicas_ ABSL_GUARDED_BY(mutex_);  // LoadReplica's
  absl::Mutex load_mutex_;  // one load or unload at a time, so policies do not interleave
  // One measured load at a time, replicas' included (which do not take load_mutex_): a load's
  // memory is the growth of the whole process's resident set across it, so two loads measured
  // at once would each be charged the other's memory.
  absl::Mutex measure_mutex_;
};

}  // namespace meridian::serving
