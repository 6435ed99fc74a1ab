#include "serving/inference_service.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace meridian::serving {

std::string FailureReason(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kResourceExhausted) return "queue_full";
  return absl::AsciiStrToLower(absl::StatusCodeToString(status.code()));
}

absl::StatusOr<std::shared_ptr<ServedModel>> InferenceService::Find(absl::string_view model,
                                                                    absl::string_view version) const {
  return Find(model, version, ModelRepository::Lookup::kMayAsk);
}

ModelRepository::Lookup InferenceService::LookupOnCaller() const {
  // When models load on first request, what an unfamiliar alias names is found out by the load,
  // on the loader's thread, never by a registry query on the calling (I/O) thread.
  return options_.loader != nullptr ? ModelRepository::Lookup::kRememberedOnly : ModelRepository::Lookup::kMayAsk;
}

absl::StatusOr<std::shared_ptr<ServedModel>> InferenceService::Find(absl::string_view model, absl::string_view version,
                                                                    ModelRepository::Lookup lookup) const {
  if (options_.router != nullptr) {
    InferenceRequest probe;
    probe.model = std::string(model);
    probe.version = std::string(version);
    if (std::optional<absl::StatusOr<RouteChoice>> routed = options_.router->Route(probe)) {
      if (!routed->ok()) return routed->status();
      return (*routed)->served;
    }
  }
  return repository_->Find(model, version, lookup);
}

void InferenceService::Infer(InferenceRequest&& request, Callback done) {
  Infer(std::move(request), std::move(done), absl::Now(), /*may_load=*/options_.loader != nullptr);
}

bool InferenceService::MustAskOffThisThread(absl::string_view model, absl::string_view version) const {
  return options_.loader == nullptr && options_.lookups != nullptr &&
         repository_->MustAskWhatItNames(model, version);
}

void InferenceService::ContinueOffThisThread(absl::string_view model, absl::string_view version,
                                             std::function<void()> resume, std::function<void(absl::Status)> refuse) {
  size_t in_progress = 0;
  {
    absl::MutexLock lock(&waiting_mutex_);
    in_progress = lookups_in_progress_;
    if (in_progress < options_.max_unfamiliar_lookups) ++lookups_in_progress_;
  }
  if (in_progress >= options_.max_unfamiliar_lookups) {  // answered outside the lock
    refuse(absl::UnavailableError(absl::StrCat("model '", model, "' version ", version, " must be looked up and ",
                                               in_progress, " lookups are in progress; retry later")));
    return;
  }
  auto run = [this, resume] {
    resume();
    absl::MutexLock lock(&waiting_mutex_);
    --lookups_in_progress_;
  };
  if (!options_.lookups->TrySubmit(run)) {
    {
      absl::MutexLock lock(&waiting_mutex_);
      --lookups_in_progress_;
    }
    refuse(absl::UnavailableError("too many lookups queued; retry later"));
  }
}

void InferenceService::FindOrLoad(absl::string_view model, absl::string_view version, FoundCallback found) {
  if (MustAskOffThisThread(model, version)) {
    auto shared_found = std::make_shared<FoundCallback>(std::move(found));
    ContinueOffThisThread(
        model, version,
        [this, shared_found, model = std::string(model), version = std::string(version)] {
          (*shared_found)(Find(model, version, ModelRepository::Lookup::kMayAsk));
        },
        [shared_found](absl::Status refused) { (*shared_found)(std::move(refused)); });
    return;
  }
  absl::StatusOr<std::shared_ptr<ServedModel>> served = Find(model, version, LookupOnCaller());
  if (served.ok() || !ShouldWaitForLoad(served.status(), model, version)) return found(std::move(served));
  WaitForLoad(std::string(model), std::string(version),
              [this, model = std::string(model), version = std::string(version),
               found = std::move(found)](const absl::Status& loaded) {
                if (!loaded.ok()) return found(loaded);
                found(Find(model, version, LookupOnCaller()));
              });
}

std::vector<std::string> InferenceService::MetadataVersions(absl::string_view model,
                                                           const ServedModel& served) const {
  std::vector<std::string> versions;
  for (const ModelVersionStatus& status : repository_->Status(model)) {
    if (status.state == ModelState::kReady) versions.push_back(status.version);
  }
  if (versions.empty()) versions.push_back(served.version());
  return versions;
}

bool InferenceService::ShouldWaitForLoad(const absl::Status& found, absl::string_view model,
                                         absl::string_view version) {
  if (options_.loader == nullptr) return false;
  // Not when the source said lately that there is no such thing: a client repeating a wrong
  // name gets its 404 at once instead of a registry query each time.
  if (absl::IsNotFound(found)) return !repository_->RememberedAbsent(model, version);
  // Not ready: loading because of an earlier request (then wait with that one), or a load could
  // make it ready (a version not loaded yet where others failed, a failure that may have passed).
  if (!absl::IsUnavailable(found)) return false;
  {
    absl::MutexLock lock(&waiting_mutex_);
    if (waiting_.contains(absl::StrCat(model, "\n", version))) return true;
  }
  return repository_->LoadWouldHelp(model, version);
}

void InferenceService::WaitForLoad(const std::string& model, const std::string& version, Resume resume) {
  const std::string key = absl::StrCat(model, "\n", version);
  // Names the server has never seen are looked up on the same loader as real loads: a client
  // sending many made-up names gets a bounded share of it, not the whole queue.
  const bool unfamiliar = !repository_->Knows(model);
  size_t already_waiting = 0;
  std::optional<absl::Status> refusal;
  {
    absl::MutexLock lock(&waiting_mutex_);
    std::vector<Resume>& list = waiting_[key];
    already_waiting = list.size();
    if (already_waiting >= options_.max_waiting_per_model) {
      refusal = absl::UnavailableError(absl::StrCat("model '", model, "' is loading and ", already_waiting,
                                                    " requests already wait for it; retry later"));
    } else if (already_waiting == 0 && unfamiliar && unfamiliar_lookups_ >= options_.max_unfamiliar_lookups) {
      refusal = absl::UnavailableError(absl::StrCat(
          "model '", model, "' is not loaded and ", unfamiliar_lookups_,
          " lookups of models this server does not know are already in progress; retry later"));
    }
    if (!refusal.has_value()) {
      list.push_back(std::move(resume));
      if (already_waiting > 0) return;  // the load in progress answers this one too
      if (unfamiliar) ++unfamiliar_lookups_;
    } else if (list.empty()) {
      waiting_.erase(key);
    }
  }
  if (refusal.has_value()) return resume(*refusal);
  auto finish = [this, key, unfamiliar](const absl::Status& loaded) {
    std::vector<Resume> list;
    {
      absl::MutexLock lock(&waiting_mutex_);
      list = std::move(waiting_[key]);
      waiting_.erase(key);
      if (unfamiliar) --unfamiliar_lookups_;
    }
    for (Resume& waiting : list) waiting(loaded);
  };
  const bool queued = options_.loader->TrySubmit([this, model, version, finish] {
    finish(repository_->EnsureLoaded(model, version));
  });
  if (!queued) finish(absl::UnavailableError("too many model loads queued; retry later"));
}

void InferenceService::LoadNewestInBackground(const std::string& model, const std::string& serving) {
  std::optional<std::string> newest = repository_->NewerVersionToLoad(model, serving);
  if (!newest.has_value()) return;
  {
    absl::MutexLock lock(&waiting_mutex_);
    if (waiting_.contains(absl::StrCat(model, "\n", *newest))) return;  // already loading
  }
  WaitForLoad(model, *newest, [](const absl::Status&) {});
}

void InferenceService::Infer(InferenceRequest&& request, Callback done, absl::Time arrival, bool may_load,
                             bool asked_off_thread) {
  if (options_.router != nullptr) {
    if (std::optional<absl::StatusOr<RouteChoice>> routed = options_.router->Route(request)) {
      if (!routed->ok()) {
        done(routed->status());
        return;
      }
      InferRouted(std::move(**routed), std::move(request), std::move(done), arrival);
      return;
    }
  }
  if (!asked_off_thread && MustAskOffThisThread(request.model, request.version)) {
    struct Pending {
      InferenceRequest request;
      Callback done;
    };
    const std::string model = request.model;
    const std::string version = request.version;
    auto pending = std::make_shared<Pending>(Pending{std::move(request), std::move(done)});
    ContinueOffThisThread(
        model, version,
        [this, pending, arrival, may_load] {
          Infer(std::move(pending->request), std::move(pending->done), arrival, may_load, /*asked_off_thread=*/true);
        },
        [pending](absl::Status refused) { pending->done(std::move(refused)); });
    return;
  }
  bool found_newest = false;  // the source's newest version, as remembered: nothing newer to load
  absl::StatusOr<std::shared_ptr<ServedModel>> found =
      repository_->Find(request.model, request.version, LookupOnCaller(), &found_newest);
  if (!found.ok() && may_load && ShouldWaitForLoad(found.status(), request.model, request.version)) {
    const std::string model = request.model;
    const std::string version = request.version;
    WaitForLoad(model, version,
                [this, request = std::move(request), done = std::move(done), arrival](const absl::Status& loaded) mutable {
                  if (!loaded.ok()) return done(loaded);
                  Callback timed = [this, model = request.model, arrival, inner = done](
                                       absl::StatusOr<InferenceResponse> result) {
                    if (result.ok()) metrics_->RecordColdStart(model, absl::Now() - arrival);
                    inner(std::move(result));
                  };
                  Infer(std::move(request), std::move(timed), arrival, /*may_load=*/false);
                });
    return;
  }
  if (!found.ok()) {
    // Unknown names are not recorded as label values: clients choose them, and a label per typo
    // would grow the metrics without bound.
    done(found.status());
    return;
  }
  if (request.version.empty() && options_.loader != nullptr && !found_newest) {
    LoadNewestInBackground(request.model, (*found)->version());
  }
  Dispatch(*found, std::move(request), std::move(done), arrival);
}

void InferenceService::InferRouted(RouteChoice choice, InferenceRequest&& request, Callback done, absl::Time arrival) {
  std::shared_ptr<ShadowComparison> comparison;
  if (choice.shadow) {
    metrics::DeploymentMetrics* metrics = options_.deployment_metrics;
    comparison = std::make_shared<ShadowComparison>(
        [metrics, deployment = choice.deployment, version = choice.shadow->version()](absl::string_view result,
                                                                                     absl::Duration latency) {
          if (metrics) metrics->RecordShadow(deployment, version, result, latency);
        });
    InferenceRequest copy = request;  // tensors share their bytes
    copy.client_gone = nullptr;       // the shadow's answer is wanted even if the client leaves
    copy.may_execute_inline = false;   // nor may it hold up the primary's dispatch
    copy.may_execute_batch_inline = false;
    const absl::Time start = absl::Now();
    Dispatch(choice.shadow, std::move(copy),
             [comparison, start](absl::StatusOr<InferenceResponse> result) {
               comparison->ShadowDone(result, absl::Now() - start);
             },
             arrival);
  }
  done = [stats = choice.stats, counters = choice.counters, comparison, arrival,
          inner = std::move(done)](absl::StatusOr<InferenceResponse> result) {
    const bool ok = result.ok();
    if (TrafficStats::CountsForTheVersion(result.status())) {
      if (stats) stats->Record(ok, absl::Now() - arrival);
      counters.Record(ok);
    }
    if (comparison) comparison->PrimaryDone(result);
    inner(std::move(result));
  };
  Dispatch(choice.served, std::move(request), std::move(done), arrival);
}

void InferenceService::Dispatch(const std::shared_ptr<ServedModel>& served, InferenceRequest&& request, Callback done,
                                absl::Time arrival) {
  std::vector<std::string> output_names;
  for (const RequestedOutput& output : request.outputs) output_names.push_back(output.name);
  if (absl::Status valid = ValidateRequest(served->signature(), request.inputs, output_names); !valid.ok()) {
    metrics_->RecordFailure(served->name(), served->version(), FailureReason(valid), absl::Now() - arrival);
    done(valid);
    return;
  }
  // Admitted before the cache is asked: a request with an invalid priority or timeout is refused
  // whether or not its answer is cached.
  absl::StatusOr<DynamicBatcher::Admission> admission = served->batcher().Admit(request, arrival);
  if (!admission.ok()) {
    metrics_->RecordFailure(served->name(), served->version(), FailureReason(admission.status()),
                            absl::Now() - arrival);
    done(admission.status());
    return;
  }
  if (options_.cache == nullptr || !served->cache_settings().enabled) {
    Queue(served, std::move(request), std::move(done), arrival, *admission);
    return;
  }
  if (options_.cache_pool == nullptr) {
    AnswerFromCacheOrQueue(served, std::move(request), std::move(done), arrival, *admission);
    return;
  }
  struct Pending {
    std::shared_ptr<ServedModel> served;
    InferenceRequest request;
    Callback done;
  };
  auto pending = std::make_shared<Pending>(Pending{served, std::move(request), std::move(done)});
  const bool asked = options_.cache_pool->TrySubmit([this, pending, arrival, admission = *admission] {
    AnswerFromCacheOrQueue(pending->served, std::move(pending->request), std::move(pending->done), arrival,
                           admission);
  });
  if (!asked) {  // the cache is behind: this request goes without it
    metrics_->RecordCacheMiss(served->name(), served->version());
    Queue(pending->served, std::move(pending->request), std::move(pending->done), arrival, *admission);
  }
}

void InferenceService::AnswerFromCacheOrQueue(const std::shared_ptr<ServedModel>& served, InferenceRequest&& request,
                                              Callback done, absl::Time arrival,
                                              const DynamicBatcher::Admission& admission) {
  const std::string& version = served->version();
  std::string key = ResponseCacheKey(request, version);
  if (std::optional<std::string> hit = options_.cache->Get(key)) {
    absl::StatusOr<std::vector<Tensor>> outputs = DeserializeOutputs(*hit);
    if (outputs.ok()) {
      metrics_->RecordCacheHit(served->name(), version, absl::Now() - arrival);
      served->batcher().Answered(admission,
                                 InferenceResponse{.model = served->name(), .version = version, .id = request.id,
                                                   .outputs = std::move(*outputs)},
                                 std::move(done));
      return;
    }
  }
  metrics_->RecordCacheMiss(served->name(), version);
  done = [cache = options_.cache, pool = options_.cache_pool, key = std::move(key), ttl = served->cache_settings().ttl,
          inner = std::move(done)](absl::StatusOr<InferenceResponse> result) {
    if (result.ok()) {
      std::string value = SerializeOutputs(*result);
      if (pool == nullptr) {
        cache->Put(key, std::move(value), ttl);
      } else {
        // Not stored when the cache is behind.
        pool->TrySubmit([cache, key, value = std::move(value), ttl]() mutable { cache->Put(key, std::move(value), ttl); });
      }
    }
    inner(std::move(result));
  };
  Queue(served, std::move(request), std::move(done), arrival, admission);
}

void InferenceService::Queue(const std::shared_ptr<ServedModel>& served, InferenceRequest&& request, Callback done,
                             absl::Time arrival, const DynamicBatcher::Admission& admission) {
  if (absl::Status queued = served->batcher().Enqueue(std::move(request), admission, std::move(done), arrival);
      !queued.ok()) {
    metrics_->RecordFailure(served->name(), served->version(), FailureReason(queued), absl::Now() - arrival);
    done(queued);  // a refused request leaves its callback with us
  }
}

}  // namespace meridian::serving
