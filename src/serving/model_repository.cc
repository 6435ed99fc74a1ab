#include "serving/model_repository.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/allocator.h"
#include "common/logging.h"
#include "common/semver.h"
#include "common/memory_limits.h"
#include "serving/warmup.h"

namespace meridian::serving {
namespace {

// Newest version by SemVer precedence (falls back to text order for unparsable versions).
bool Older(const std::string& a, const std::string& b) {
  auto va = SemVer::Parse(a);
  auto vb = SemVer::Parse(b);
  if (va.ok() && vb.ok()) return *va < *vb;
  return a < b;
}

}  // namespace

absl::string_view ModelStateName(ModelState state) {
  switch (state) {
    case ModelState::kLoading: return "LOADING";
    case ModelState::kReady: return "READY";
    case ModelState::kUnavailable: return "UNAVAILABLE";
  }
  return "UNKNOWN";
}

ServedModel::ServedModel(ModelArtifact artifact, std::unique_ptr<LoadedModel> model, const BatchingConfig& batching,
                         metrics::InferenceMetrics* metrics, std::shared_ptr<ComputeSlots> compute_slots,
                         absl::Duration execute_inline_below)
    : artifact_(std::move(artifact)), model_(std::move(model)) {
  batcher_ = std::make_unique<DynamicBatcher>(DynamicBatcherOptions{.config = batching,
                                                                     .model = model_.get(),
                                                                     .model_name = artifact_.model,
                                                                     .version = artifact_.version,
                                                                     .metrics = metrics,
                                                                     .compute_slots = std::move(compute_slots),
                                                                     .execute_inline_below = execute_inline_below});
}

ModelRepository::ModelRepository(const ModelRepositoryOptions& options)
    : options_(options),
      resolver_({.source = options.source, .time_to_live = options.alias_time_to_live, .refresher = options.lookups}),
      compute_slots_(options.cpu_limit > 0 ? std::make_shared<ComputeSlots>(std::max(
                                                 1, options.cpu_limit / std::max(1, options.intra_op_threads)))
                                           : nullptr) {}

void ModelRepository::SetEntry(const std::string& model, const std::string& version, Entry entry) {
  absl::MutexLock lock(&mutex_);
  models_[model][version] = std::move(entry);
}

absl::StatusOr<std::shared_ptr<ServedModel>> ModelRepository::LoadReplica(absl::string_view model,
                                                                          absl::string_view version,
                                                                          const ReplicaOverrides& overrides) {
  absl::StatusOr<ModelArtifact> artifact = options_.source->Fetch(model, version);
  if (!artifact.ok()) return artifact.status();
  absl::StatusOr<std::shared_ptr<ServedModel>> served = LoadVersion(*artifact, overrides);
  if (!served.ok()) return served;
  if (absl::Status room = MakeRoom((*served)->memory_bytes(), "", ""); !room.ok()) {
    log::Warn("a deployment replica is loaded beyond the memory budget",
              {{"model", std::string(model)}, {"version", std::string(version)}, {"reason", room.message()}});
  }
  absl::MutexLock lock(&mutex_);
  std::erase_if(replicas_, [](const std::weak_ptr<ServedModel>& replica) { return replica.expired(); });
  replicas_.push_back(*served);
  return served;
}

uint64_t ModelRepository::ReplicaBytes() const {
  uint64_t total = 0;
  for (const std::weak_ptr<ServedModel>& replica : replicas_) {
    if (std::shared_ptr<ServedModel> live = replica.lock()) total += live->memory_bytes();
  }
  return total;
}

absl::StatusOr<std::shared_ptr<ServedModel>> ModelRepository::LoadVersion(const ModelArtifact& artifact,
                                                                          const ReplicaOverrides& overrides) {
  if (options_.validator != nullptr) {
    if (absl::Status valid = options_.validator->Validate(artifact); !valid.ok()) return valid;
  }
  absl::StatusOr<Backend*> backend = options_.backends->Find(artifact.framework);
  if (!backend.ok()) return backend.status();
  absl::StatusOr<std::optional<ModelSignature>> declared = SignatureFromMetadata(artifact.metadata_json);
  if (!declared.ok()) return declared.status();
  absl::StatusOr<BatchingConfig> batching = BatchingFromMetadata(artifact.metadata_json, options_.batching);
  if (batching.ok() && !overrides.batching_json.empty()) {
    batching = BatchingFromMetadata(absl::StrCat("{\"batching\":", overrides.batching_json, "}"), *batching);
  }
  if (!batching.ok()) return batching.status();
  absl::StatusOr<ResponseCacheSettings> cache = ResponseCacheFromMetadata(
      overrides.response_cache_json.empty() ? artifact.metadata_json
                                            : absl::StrCat("{\"responseCache\":", overrides.response_cache_json, "}"));
  if (!cache.ok()) return cache.status();
  if (options_.cpu_limit > 0 && batching->instances * options_.intra_op_threads > options_.cpu_limit) {
    const int capped = std::max(1, options_.cpu_limit / std::max(1, options_.intra_op_threads));
    log::Warn("instances capped to the CPU limit", {{"model", artifact.model},
                                                    {"version", artifact.version},
                                                    {"asked", batching->instances},
                                                    {"instances", capped},
                                                    {"cpus", options_.cpu_limit}});
    batching->instances = capped;
  }
  absl::MutexLock measuring(&measure_mutex_);
  // The framework's own libraries are not the model's memory.
  if (absl::Status ready = (*backend)->Prepare(); !ready.ok()) return ready;
  ReleaseFreedMemory();  // memory freed earlier would otherwise be reused unseen and hide this load's cost
  const uint64_t resident_before = AllocatedResidentBytes();
  absl::StatusOr<std::unique_ptr<LoadedModel>> loaded = (*backend)->Load(ModelLoadOptions{
      .artifact_path = artifact.path, .declared_signature = *declared, .intra_op_threads = options_.intra_op_threads});
  if (!loaded.ok()) return loaded.status();
  if (absl::Status warm = WarmUp(**loaded, options_.warmup_requests); !warm.ok()) return warm;
  auto served =
      std::make_shared<ServedModel>(artifact, std::move(*loaded), *batching, options_.metrics, compute_slots_,
                                    options_.execute_inline_below);
  const uint64_t resident_after = AllocatedResidentBytes();
  served->set_memory_bytes(resident_after > resident_before ? resident_after - resident_before : 0);
  served->set_cache_settings(*cache);
  served->Touch();
  return served;
}

absl::Status ModelRepository::Load(absl::string_view model_name, const LoadOptions& options) {
  absl::MutexLock serialize(&load_mutex_);
  const std::string model(model_name);
  absl::StatusOr<std::vector<std::string>> available = options_.source->Versions(model);
  if (!available.ok()) return available.status();
  if (available->empty()) return absl::NotFoundError(absl::StrCat("model '", model, "' has no servable version"));
  VersionPolicy policy = options.policy.value_or(VersionPolicy{});
  if (policy.kind == VersionPolicy::Kind::kSpecific) {
    // An alias or "latest" among the versions loads the version it names now.
    std::vector<std::string> concrete;
    for (const std::string& ref : policy.specific) {
      absl::StatusOr<std::string> version = SemVer::Parse(ref).ok() ? ref : resolver_.Resolve(model, ref);
      if (!version.ok()) return version.status();
      if (std::find(concrete.begin(), concrete.end(), *version) == concrete.end()) concrete.push_back(*version);
    }
    policy.specific = std::move(concrete);
  }
  absl::StatusOr<std::vector<std::string>> wanted = policy.Select(*available);
  if (!wanted.ok()) return wanted.status();

  absl::Status first_error;
  for (const std::string& version : *wanted) {
    absl::Status loaded = LoadOne(model, version, /*retry_failed=*/true);
    if (!loaded.ok() && first_error.ok()) first_error = loaded;
  }
  // Versions the policy no longer selects go; requests holding them finish first (shared_ptr).
  std::vector<std::shared_ptr<ServedModel>> retired;
  {
    absl::MutexLock lock(&mutex_);
    auto& versions = models_[model];
    for (auto it = versions.begin(); it != versions.end();) {
      if (std::find(wanted->begin(), wanted->end(), it->first) == wanted->end()) {
        if (it->second.served) retired.push_back(std::move(it->second.served));
        if (options_.metrics) options_.metrics->RemoveModel(model, it->first);
        if (options_.on_unloaded) options_.on_unloaded(model, it->first);
        it = versions.erase(it);
      } else {
        ++it;
      }
    }
  }
  return first_error;
}

absl::Status ModelRepository::LoadOne(const std::string& model, const std::string& version, bool retry_failed) {
  {
    absl::MutexLock lock(&mutex_);
    auto& versions = models_[model];
    auto it = versions.find(version);
    if (it != versions.end() && it->second.state == ModelState::kReady) return absl::OkStatus();  // serving
    if (it != versions.end() && it->second.state == ModelState::kUnavailable && !retry_failed &&
        !RetryDue(it->second)) {
      return absl::Status(it->second.failure == absl::StatusCode::kOk ? absl::StatusCode::kUnavailable
                                                                      : it->second.failure,
                          absl::StrCat("model '", model, "' version ", version, ": ", it->second.reason));
    }
    versions[version] = Entry{.state = ModelState::kLoading};
  }
  absl::StatusOr<ModelArtifact> artifact = options_.source->Fetch(model, version);
  if (absl::IsNotFound(artifact.status())) {
    // Nothing to serve: leave no entry behind, so that the next request is a 404 again.
    absl::MutexLock lock(&mutex_);
    auto it = models_.find(model);
    if (it != models_.end()) {
      it->second.erase(version);
      if (it->second.empty()) models_.erase(it);
    }
    return artifact.status();
  }
  absl::StatusOr<std::shared_ptr<ServedModel>> served =
      artifact.ok() ? LoadVersion(*artifact) : absl::StatusOr<std::shared_ptr<ServedModel>>(artifact.status());
  uint64_t needed_bytes = 0;
  if (served.ok()) {
    if (absl::Status room = MakeRoom((*served)->memory_bytes(), model, version); !room.ok()) {
      needed_bytes = (*served)->memory_bytes();
      served = room;
    }
  }
  if (served.ok()) {
    const uint64_t bytes = (*served)->memory_bytes();
    SetEntry(model, version, Entry{.state = ModelState::kReady, .served = std::move(*served)});
    if (options_.metrics) options_.metrics->SetModelMemory(model, version, static_cast<int64_t>(bytes));
    log::Info("model version ready", {{"model", model}, {"version", version}, {"memory_bytes", static_cast<int64_t>(bytes)}});
    return absl::OkStatus();
  }
  const std::string reason(served.status().message());
  SetEntry(model, version, Entry{.state = ModelState::kUnavailable, .reason = reason,
                                 .failure = served.status().code(), .failed_at = absl::Now(),
                                 .needed_bytes = needed_bytes});
  log::Warn("model version failed to load", {{"model", model}, {"version", version}, {"error", reason}});
  return absl::Status(served.status().code(), absl::StrCat("model '", model, "' version ", version, ": ", reason));
}

absl::Status ModelRepository::MakeRoom(uint64_t incoming, const std::string& keep_model, const std::string& keep_version) {
  if (options_.memory_budget_bytes == 0) return absl::OkStatus();
  std::vector<std::shared_ptr<ServedModel>> evicted;  // released outside the lock
  absl::Status status;
  {
    absl::MutexLock lock(&mutex_);
    while (true) {
      const uint64_t replica_bytes = ReplicaBytes();
      uint64_t used = replica_bytes;
      std::map<std::string, Entry>::iterator victim;
      std::string victim_model;
      bool found = false;
      int64_t oldest = INT64_MAX;
      for (auto& [model, versions] : models_) {
        for (auto it = versions.begin(); it != versions.end(); ++it) {
          if (it->second.state != ModelState::kReady || !it->second.served) continue;
          ServedModel& served = *it->second.served;
          used += served.memory_bytes();
          if (model == keep_model && it->first == keep_version) continue;
          if (!InUse(it->second.served) && served.last_used_ns() < oldest) {
            oldest = served.last_used_ns();
            victim = it;
            victim_model = model;
            found = true;
          }
        }
      }
      if (used + incoming <= options_.memory_budget_bytes) break;
      if (!found) {
        status = absl::ResourceExhaustedError(absl::StrCat(
            "the model needs ", incoming, " bytes but ", used, " of the ", options_.memory_budget_bytes,
            "-byte memory budget are held by models in use",
            replica_bytes > 0 ? absl::StrCat(" (", replica_bytes, " by deployment replicas)") : "",
            "; raise --memory-budget or unload a model"));
        break;
      }
      log::Info("evicting an idle model version to make room",
                {{"model", victim_model}, {"version", victim->first},
                 {"memory_bytes", static_cast<int64_t>(victim->second.served->memory_bytes())}});
      if (options_.metrics) {
        options_.metrics->RecordEviction(victim_model);
        options_.metrics->RemoveModel(victim_model, victim->first);
      }
      if (options_.on_unloaded) options_.on_unloaded(victim_model, victim->first);
      evicted.push_back(std::move(victim->second.served));
      models_[victim_model].erase(victim);
      if (models_[victim_model].empty()) models_.erase(victim_model);
    }
  }
  return status;
}

absl::Status ModelRepository::EnsureLoaded(absl::string_view model_name, absl::string_view version_name) {
  absl::MutexLock serialize(&load_mutex_);
  const std::string model(model_name);
  const std::string version(version_name);
  // Loaded versions are keyed by the concrete version, never by an alias that may move; the
  // answer is remembered, for the requests that wait on this load and those after them.
  absl::StatusOr<std::string> concrete = resolver_.Resolve(model, version);
  if (!concrete.ok()) return concrete.status();
  absl::Status loaded = LoadOne(model, *concrete, /*retry_failed=*/false);
  // The request was fine; the version is what cannot be served (now, or until it is fixed).
  if (!loaded.ok() && !absl::IsNotFound(loaded)) return absl::UnavailableError(loaded.message());
  return loaded;
}

bool ModelRepository::InUse(const std::shared_ptr<ServedModel>& served) {
  // A request holds it (the repository's is the only other reference) or waits in its queue.
  return served.use_count() > 1 || served->batcher().busy();
}

bool ModelRepository::RetryDue(const Entry& entry) const {
  switch (entry.failure) {
    case absl::StatusCode::kResourceExhausted: {
      if (entry.needed_bytes == 0) return absl::Now() - entry.failed_at >= absl::Seconds(1);
      // Room can be made when the versions no request holds would free enough.
      uint64_t held = ReplicaBytes();
      for (const auto& [model, versions] : models_) {
        for (const auto& [version, other] : versions) {
          if (other.state != ModelState::kReady || !other.served) continue;
          if (InUse(other.served)) held += other.served->memory_bytes();
        }
      }
      return held + entry.needed_bytes <= options_.memory_budget_bytes;
    }
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
      return absl::Now() - entry.failed_at >= absl::Seconds(1);
    default:
      return false;
  }
}

bool ModelRepository::LoadWouldHelp(absl::string_view model, absl::string_view version) const {
  std::string concrete(version);
  if (version.empty() || !SemVer::Parse(version).ok()) {
    std::optional<absl::StatusOr<std::string>> named = resolver_.Remembered(model, version);
    if (!named.has_value()) return true;  // the load finds out
    if (!named->ok()) return false;
    concrete = **named;
  }
  absl::ReaderMutexLock lock(&mutex_);
  auto it = models_.find(std::string(model));
  if (it == models_.end()) return true;
  auto v = it->second.find(concrete);
  if (v == it->second.end()) return true;
  return v->second.state == ModelState::kUnavailable && RetryDue(v->second);
}

std::optional<std::string> ModelRepository::NewerVersionToLoad(absl::string_view model,
                                                               absl::string_view serving) const {
  std::optional<absl::StatusOr<std::string>> newest = resolver_.Remembered(model, "");
  if (!newest.has_value()) return std::string();
  if (!newest->ok() || **newest == serving || !LoadWouldHelp(model, **newest)) return std::nullopt;
  return **newest;
}

void ModelRepository::ForgetReferences(absl::string_view model) {
  resolver_.Forget(model);
  // A fixed version (its metadata replaced) is tried again by its next request.
  absl::MutexLock lock(&mutex_);
  auto it = models_.find(std::string(model));
  if (it == models_.end()) return;
  std::erase_if(it->second, [](const auto& version) { return version.second.state == ModelState::kUnavailable; });
  if (it->second.empty()) models_.erase(it);
}

uint64_t ModelRepository::memory_in_use() const {
  absl::ReaderMutexLock lock(&mutex_);
  uint64_t total = ReplicaBytes();
  for (const auto& [model, versions] : models_) {
    for (const auto& [version, entry] : versions) {
      if (entry.served) total += entry.served->memory_bytes();
    }
  }
  return total;
}

absl::Status ModelRepository::Unload(absl::string_view model_name) {
  absl::MutexLock serialize(&load_mutex_);
  std::map<std::string, Entry> removed;
  {
    absl::MutexLock lock(&mutex_);
    auto it = models_.find(std::string(model_name));
    if (it == models_.end() || it->second.empty()) {
      return absl::NotFoundError(absl::StrCat("model '", model_name, "' is not loaded"));
    }
    removed = std::move(it->second);
    models_.erase(it);
  }
  for (const auto& [version, entry] : removed) {
    if (options_.metrics) options_.metrics->RemoveModel(std::string(model_name), version);
    if (options_.on_unloaded) options_.on_unloaded(std::string(model_name), version);
  }
  log::Info("model unloaded", {{"model", std::string(model_name)}, {"versions", static_cast<int>(removed.size())}});
  return absl::OkStatus();  // `removed` releases the models once in-flight requests let go
}

absl::StatusOr<std::shared_ptr<ServedModel>> ModelRepository::Find(absl::string_view model, absl::string_view version,
                                                                    Lookup lookup, bool* found_remembered_newest) const {
  if (found_remembered_newest != nullptr) *found_remembered_newest = false;
  if (version.empty() && lookup == Lookup::kRememberedOnly) {
    // The newest version of the source when it is loaded; else the newest loaded (below) while
    // the newest loads (NewerVersionToLoad).
    std::optional<absl::StatusOr<std::string>> newest = resolver_.Remembered(model, version);
    if (newest.has_value() && newest->ok()) {
      absl::StatusOr<std::shared_ptr<ServedModel>> found = FindLoaded(model, **newest);
      if (found.ok()) {
        if (found_remembered_newest != nullptr) *found_remembered_newest = true;
        return found;
      }
    }
  }
  absl::StatusOr<std::shared_ptr<ServedModel>> found = FindLoaded(model, version);
  if (found.ok()) return found;
  if (version.empty() && absl::IsUnavailable(found.status())) {
    // No version ready: say why the newest is not, when it failed.
    std::optional<absl::StatusOr<std::string>> newest = resolver_.Remembered(model, version);
    if (newest.has_value() && newest->ok()) {
      absl::StatusOr<std::shared_ptr<ServedModel>> detail = FindLoaded(model, **newest);
      if (absl::IsUnavailable(detail.status())) return detail;
    }
    return found;
  }
  if (!absl::IsNotFound(found.status())) return found;
  std::optional<absl::StatusOr<std::string>> named = resolver_.Remembered(model, version);
  if (version.empty() || SemVer::Parse(version).ok()) {
    // Not loaded; the source's own answer when it said there is no such thing.
    return named.has_value() && !named->ok() ? absl::StatusOr<std::shared_ptr<ServedModel>>(named->status()) : found;
  }
  // An alias or "latest": the version it names now.
  if (!named.has_value()) {
    if (lookup == Lookup::kRememberedOnly) return found;
    named = resolver_.Resolve(model, version);
  }
  if (!named->ok()) return named->status();
  return FindLoaded(model, **named);
}

bool ModelRepository::RememberedAbsent(absl::string_view model, absl::string_view version) const {
  std::optional<absl::StatusOr<std::string>> named = resolver_.Remembered(model, version);
  return named.has_value() && !named->ok();
}

bool ModelRepository::MustAskWhatItNames(absl::string_view model, absl::string_view version) const {
  if (version.empty() || SemVer::Parse(version).ok()) return false;
  return !resolver_.Remembered(model, version).has_value();
}

bool ModelRepository::Knows(absl::string_view model) const {
  {
    absl::ReaderMutexLock lock(&mutex_);
    if (models_.contains(std::string(model))) return true;
  }
  return resolver_.KnowsModel(model);
}

absl::StatusOr<std::shared_ptr<ServedModel>> ModelRepository::FindLoaded(absl::string_view model,
                                                                          absl::string_view version) const {
  absl::ReaderMutexLock lock(&mutex_);
  auto it = models_.find(std::string(model));
  if (it == models_.end() || it->second.empty()) {
    return absl::NotFoundError(absl::StrCat("model '", model, "' is not loaded on this server"));
  }
  if (version.empty()) {
    const Entry* newest = nullptr;
    std::string newest_version;
    for (const auto& [v, entry] : it->second) {
      if (entry.state == ModelState::kReady && (newest == nullptr || Older(newest_version, v))) {
        newest = &entry;
        newest_version = v;
      }
    }
    if (newest == nullptr) {
      return absl::UnavailableError(absl::StrCat("model '", model, "' has no ready version yet"));
    }
    newest->served->Touch();
    return newest->served;
  }
  auto v = it->second.find(std::string(version));
  if (v == it->second.end()) {
    return absl::NotFoundError(absl::StrCat("model '", model, "' version ", version, " is not loaded on this server"));
  }
  if (v->second.state != ModelState::kReady) {
    return absl::UnavailableError(absl::StrCat("model '", model, "' version ", version, " is ",
                                               ModelStateName(v->second.state),
                                               v->second.reason.empty() ? "" : ": ", v->second.reason));
  }
  v->second.served->Touch();
  return v->second.served;
}

std::vector<ModelVersionStatus> ModelRepository::Index() const {
  absl::ReaderMutexLock lock(&mutex_);
  std::vector<ModelVersionStatus> index;
  for (const auto& [model, versions] : models_) {
    for (const auto& [version, entry] : versions) {
      index.push_back({model, version, entry.state, entry.reason});
    }
  }
  return index;
}

absl::StatusOr<std::vector<ModelVersionStatus>> ModelRepository::IndexWithUnloaded() const {
  std::vector<ModelVersionStatus> index = Index();
  absl::StatusOr<std::vector<std::string>> models = options_.source->Models();
  if (!models.ok()) return models.status();
  absl::flat_hash_set<std::string> held;
  for (const ModelVersionStatus& status : index) held.insert(status.model);
  for (const std::string& model : *models) {
    if (!held.contains(model)) index.push_back({model, "", ModelState::kUnavailable, "not loaded"});
  }
  std::sort(index.begin(), index.end(), [](const ModelVersionStatus& a, const ModelVersionStatus& b) {
    return a.model != b.model ? a.model < b.model : Older(a.version, b.version);
  });
  return index;
}

std::vector<ModelVersionStatus> ModelRepository::Status(absl::string_view model) const {
  std::vector<ModelVersionStatus> all = Index();
  std::vector<ModelVersionStatus> mine;
  for (ModelVersionStatus& status : all) {
    if (status.model == model) mine.push_back(std::move(status));
  }
  return mine;
}

bool ModelRepository::AllReady() const {
  absl::ReaderMutexLock lock(&mutex_);
  for (const auto& [model, versions] : models_) {
    for (const auto& [version, entry] : versions) {
      if (entry.state == ModelState::kLoading) return false;
    }
  }
  return true;
}

}  // namespace meridian::serving
