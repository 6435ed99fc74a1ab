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
  if (options_.router != nullptr) {
    InferenceRequest probe;
    probe.model = std::string(model);
    probe.version = std::string(version);
    if (std::optional<absl::StatusOr<RouteChoice>> routed = options_.router->Route(probe)) {
      if (!routed->ok()) return routed->status();
      return (*routed)->served;
    }
  }
  return repository_->Find(model, version);
}

void InferenceService::Infer(InferenceRequest request, Callback done) {
  Infer(std::move(request), std::move(done), absl::Now(), /*may_load=*/options_.loader != nullptr);
}

void InferenceService::WaitForLoad(InferenceRequest request, Callback done, absl::Time arrival) {
  const std::string model = request.model;
  const std::string version = request.version;
  const std::string key = absl::StrCat(model, "\n", version);
  bool first = false;
  {
    absl::MutexLock lock(&waiting_mutex_);
    std::vector<Waiting>& list = waiting_[key];
    if (list.size() >= options_.max_waiting_per_model) {
      done(absl::UnavailableError(absl::StrCat("model '", model, "' is loading and ", list.size(),
                                               " requests already wait for it; retry later")));
      return;
    }
    first = list.empty();
    list.push_back(Waiting{std::move(request), std::move(done), arrival});
  }
  if (!first) return;  // the load in progress answers this one too
  auto finish = [this, key](const absl::Status& loaded) {
    std::vector<Waiting> list;
    {
      absl::MutexLock lock(&waiting_mutex_);
      list = std::move(waiting_[key]);
      waiting_.erase(key);
    }
    for (Waiting& w : list) {
      if (!loaded.ok()) {
        w.done(loaded);
        continue;
      }
      const std::string model = w.request.model;
      Callback done = [this, model, arrival = w.arrival, inner = std::move(w.done)](
                          absl::StatusOr<InferenceResponse> result) {
        if (result.ok()) metrics_->RecordColdStart(model, absl::Now() - arrival);
        inner(std::move(result));
      };
      Infer(std::move(w.request), std::move(done), w.arrival, /*may_load=*/false);
    }
  };
  const bool queued = options_.loader->TrySubmit([this, model, version, finish] {
    finish(repository_->EnsureLoaded(model, version));
  });
  if (!queued) finish(absl::UnavailableError("too many model loads queued; retry later"));
}

void InferenceService::Infer(InferenceRequest request, Callback done, absl::Time arrival, bool may_load) {
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
  absl::StatusOr<std::shared_ptr<ServedModel>> found = repository_->Find(request.model, request.version);
  if (!found.ok() && may_load) {
    // Not loaded: load it. Loading because of an earlier request: wait with that one.
    bool load_in_progress = false;
    if (absl::IsUnavailable(found.status())) {
      absl::MutexLock lock(&waiting_mutex_);
      load_in_progress = waiting_.contains(absl::StrCat(request.model, "\n", request.version));
    }
    if (absl::IsNotFound(found.status()) || load_in_progress) {
      WaitForLoad(std::move(request), std::move(done), arrival);
      return;
    }
  }
  if (!found.ok()) {
    // Unknown names are not recorded as label values: clients choose them, and a label per typo
    // would grow the metrics without bound.
    done(found.status());
    return;
  }
  Dispatch(*found, std::move(request), std::move(done), arrival);
}

void InferenceService::InferRouted(RouteChoice choice, InferenceRequest request, Callback done, absl::Time arrival) {
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
    if (stats) stats->Record(ok, absl::Now() - arrival);
    counters.Record(ok);
    if (comparison) comparison->PrimaryDone(result);
    inner(std::move(result));
  };
  Dispatch(choice.served, std::move(request), std::move(done), arrival);
}

void InferenceService::Dispatch(const std::shared_ptr<ServedModel>& served, InferenceRequest request, Callback done,
                                absl::Time arrival) {
  std::vector<std::string> output_names;
  for (const RequestedOutput& output : request.outputs) output_names.push_back(output.name);
  if (absl::Status valid = ValidateRequest(served->signature(), request.inputs, output_names); !valid.ok()) {
    metrics_->RecordFailure(served->name(), served->version(), FailureReason(valid), absl::Now() - arrival);
    done(valid);
    return;
  }
  const std::string name = served->name();
  const std::string version = served->version();
  if (options_.cache != nullptr && served->cache_settings().enabled) {
    std::string key = ResponseCacheKey(request, version);
    if (std::optional<std::string> hit = options_.cache->Get(key)) {
      absl::StatusOr<std::vector<Tensor>> outputs = DeserializeOutputs(*hit);
      if (outputs.ok()) {
        metrics_->RecordCacheLookup(name, version, /*hit=*/true);
        done(InferenceResponse{.model = name, .version = version, .id = request.id, .outputs = std::move(*outputs)});
        return;
      }
    }
    metrics_->RecordCacheLookup(name, version, /*hit=*/false);
    done = [cache = options_.cache, key = std::move(key), ttl = served->cache_settings().ttl,
            inner = std::move(done)](absl::StatusOr<InferenceResponse> result) {
      if (result.ok()) cache->Put(key, SerializeOutputs(*result), ttl);
      inner(std::move(result));
    };
  }
  if (absl::Status queued = served->batcher().Enqueue(std::move(request), std::move(done), arrival); !queued.ok()) {
    metrics_->RecordFailure(name, version, FailureReason(queued), absl::Now() - arrival);
    done(queued);  // a refused request leaves its callback with us
  }
}

}  // namespace meridian::serving
