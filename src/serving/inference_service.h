#pragma once

// The data plane's entry point, shared by every protocol: finds the model version, validates the
// request against its signature and hands it to the version's DynamicBatcher, which executes it
// and times each stage into the inference metrics. Never blocks the caller: a full queue is an
// immediate kResourceExhausted (429 / RESOURCE_EXHAUSTED). Thread-safe.

#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/thread_pool.h"

#include "absl/status/statusor.h"
#include "metrics/inference_metrics.h"
#include "serving/inference.h"
#include "serving/model_repository.h"
#include "serving/response_cache.h"
#include "serving/traffic_router.h"
#include "metrics/deployment_metrics.h"

namespace meridian::serving {

struct InferenceServiceOptions {
  ModelRepository* repository = nullptr;       // not owned
  metrics::InferenceMetrics* metrics = nullptr;  // not owned
  // Loads models on their first request when set (the request waits; others keep flowing).
  ThreadPool* loader = nullptr;                // not owned
  // Without a loader: where a request naming an alias this server has not resolved yet goes on
  // (the first request for it, or the first after it moved), so that the registry query that
  // resolves it is not made on the thread that read the request. Null: on that thread.
  ThreadPool* lookups = nullptr;               // not owned
  size_t max_waiting_per_model = 1024;         // beyond: 503
  // Loads at once of models the server neither holds nor knows exist (a lookup each); beyond:
  // 503, so that made-up names cannot take the whole loader.
  size_t max_unfamiliar_lookups = 32;
  // Answers for versions whose metadata enables the response cache; null: no cache.
  ResponseCache* cache = nullptr;              // not owned
  // For a cache across the network (Redis): its lookups and stores run here, so that no I/O
  // thread waits for a round trip (or, with Redis slow, for its timeout); when every thread is
  // busy and the queue full, requests go without the cache. Null: on the request's own thread
  // (the in-process cache, a map lookup).
  ThreadPool* cache_pool = nullptr;            // not owned
  // Requests whose model is a deployment go where it says; null: no deployments.
  const TrafficRouter* router = nullptr;                          // not owned
  metrics::DeploymentMetrics* deployment_metrics = nullptr;       // not owned; may be null
};

class InferenceService {
 public:
  explicit InferenceService(const InferenceServiceOptions& options)
      : repository_(options.repository), metrics_(options.metrics), options_(options) {}
  InferenceService(ModelRepository* repository, metrics::InferenceMetrics* metrics)
      : InferenceService(InferenceServiceOptions{.repository = repository, .metrics = metrics}) {}

  // `done` runs exactly once: on an instance thread after execution, on the calling thread
  // when the request is refused before queueing or answered from the in-process cache, or on a
  // cache_pool thread when answered from a remote cache.
  using Callback = InferenceCallback;
  void Infer(InferenceRequest&& request, Callback done);

  ModelRepository& repository() { return *repository_; }
  // The version a request for `model` would reach, for metadata and readiness: a deployment's
  // replica when `model` names a deployment, else the repository's.
  absl::StatusOr<std::shared_ptr<ServedModel>> Find(absl::string_view model, absl::string_view version) const;
  // Find, for requests that need the version itself (its signature, for metadata or to decode
  // KServe V1 instances): a registered version that is not loaded is loaded first when models
  // load on first request, as Infer does. `found` runs once, on the calling thread or the loader's.
  using FoundCallback = std::function<void(absl::StatusOr<std::shared_ptr<ServedModel>>)>;
  void FindOrLoad(absl::string_view model, absl::string_view version, FoundCallback found);
  // The versions model metadata lists for `model`, which reached `served`: its ready versions,
  // or, for a deployment's name, the version the deployment serves.
  std::vector<std::string> MetadataVersions(absl::string_view model, const ServedModel& served) const;

 private:
  absl::StatusOr<std::shared_ptr<ServedModel>> Find(absl::string_view model, absl::string_view version,
                                                    ModelRepository::Lookup lookup) const;
  // How requests look versions up on the thread that received them.
  ModelRepository::Lookup LookupOnCaller() const;
  // What to do once a model's load ends (with its status).
  using Resume = std::function<void(const absl::Status& loaded)>;
  // `asked_off_thread`: the request already went on `lookups` (it must not go again).
  void Infer(InferenceRequest&& request, Callback done, absl::Time arrival, bool may_load,
             bool asked_off_thread = false);
  // A deployment's request: counted for its track, copied to the shadow when chosen.
  void InferRouted(RouteChoice choice, InferenceRequest&& request, Callback done, absl::Time arrival);
  // Validates, consults the response cache, queues on the version's batcher.
  void Dispatch(const std::shared_ptr<ServedModel>& served, InferenceRequest&& request, Callback done,
                absl::Time arrival);
  // A validated, admitted request for a version with the response cache on: answered from the
  // cache, or queued and its answer stored.
  void AnswerFromCacheOrQueue(const std::shared_ptr<ServedModel>& served, InferenceRequest&& request, Callback done,
                              absl::Time arrival, const DynamicBatcher::Admission& admission);
  void Queue(const std::shared_ptr<ServedModel>& served, InferenceRequest&& request, Callback done, absl::Time arrival,
             const DynamicBatcher::Admission& admission);
  // True when `found` says the version is not loaded but could be (or is being) loaded.
  bool ShouldWaitForLoad(const absl::Status& found, absl::string_view model, absl::string_view version);
  // Runs `resume` when the model's load ends, starting the load if nothing waits for it yet;
  // `resume` runs at once with the refusal when too many already wait.
  void WaitForLoad(const std::string& model, const std::string& version, Resume resume);
  // Without a loader, whether `version` is an alias this server would have to ask the registry
  // about: then the request goes on on `lookups` (ContinueOffThisThread).
  bool MustAskOffThisThread(absl::string_view model, absl::string_view version) const;
  // Runs `resume` on `lookups`, or `refuse` at once when too many lookups are in progress there.
  void ContinueOffThisThread(absl::string_view model, absl::string_view version, std::function<void()> resume,
                             std::function<void(absl::Status)> refuse);
  // Requests without a version follow the model's newest version: when `serving` answered one
  // and is not the newest, the newest is loaded on the loader while `serving` keeps answering
  // (and keeps answering if the newest cannot load).
  void LoadNewestInBackground(const std::string& model, const std::string& serving);

  ModelRepository* repository_;
  metrics::InferenceMetrics* metrics_;
  InferenceServiceOptions options_;
  absl::Mutex waiting_mutex_;
  std::map<std::string, std::vector<Resume>> waiting_ ABSL_GUARDED_BY(waiting_mutex_);  // "model\nversion"
  size_t unfamiliar_lookups_ ABSL_GUARDED_BY(waiting_mutex_) = 0;
  size_t lookups_in_progress_ ABSL_GUARDED_BY(waiting_mutex_) = 0;  // on `lookups`
};

// The failure reason label for a status ("invalid_argument", "queue_full", ...).
std::string FailureReason(const absl::Status& status);

}  // namespace meridian::serving
