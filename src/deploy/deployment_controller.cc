#include "deploy/deployment_controller.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/json.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/thread_name.h"
#include "deploy/model_deployment_parser.h"
#include "deploy/placement_planner.h"
#include "deploy/version_resolver.h"
#include "control/rollout/canary_analysis.h"

namespace meridian::deploy {

using Replica = DeploymentController::Replica;
using CanaryState = DeploymentController::CanaryState;

// One deployment as the controller tracks it. Guarded by the controller's mutex.
struct DeploymentController::Managed {
  ModelDeploymentSpec spec;
  int64_t revision = 0;
  std::string spec_hash;
  absl::Time created_at;
  uint64_t order = 0;
  bool deleted = false;

  // Resolved versions ("" when unresolved) and why not.
  std::string stable_version;
  std::string canary_version;
  std::string shadow_version;
  std::string resolve_error;
  bool stable_resolved = false;

  std::vector<Replica> replicas;
  int desired = 1;                    // from the spec or the autoscaler
  int allowed_stable = 0;             // admitted by placement
  int allowed_canary = 0;
  int allowed_shadow = 0;
  std::string placement_reason;
  std::string preempted_by;

  std::optional<CanaryState> canary;
  std::string canary_failed_version;  // rolled back: not retried until the spec changes
  std::string canary_failed_reason;

  control::HpaState hpa;
  absl::Time last_autoscale = absl::InfinitePast();
  std::map<ReplicaId, ReplicaLoad> last_load;  // at the previous autoscaler tick
  serving::TrafficStats::Snapshot last_outcomes;
  std::string autoscale_reason;
  std::vector<std::pair<std::string, double>> autoscale_readings;

  std::string failed_template;  // a replica of this template failed to start
  absl::Time failed_at;
  std::string failure;

  std::map<std::string, Condition> conditions;

  // Versions this deployment holds in the registry (they cannot be deleted while it uses them).
  std::set<std::pair<std::string, std::string>> held;  // (model, version)
  bool holds_synced = false;  // holds left by an earlier run are released on the first pass
  std::string Holder() const { return absl::StrCat("deployment/", spec.namespace_name, "/", spec.name); }

  // Version, then settings: replicas with another key are replaced by a rolling update.
  std::string TemplateKey(const std::string& version) const {
    return absl::StrCat(version, "\n", spec.batching_json, "\n", spec.response_cache_json);
  }
  int Count(const std::string& track, const std::string& template_key = "") const {
    return static_cast<int>(std::count_if(replicas.begin(), replicas.end(), [&](const Replica& r) {
      return r.track == track && (template_key.empty() || r.template_key == template_key);
    }));
  }
};

namespace {

constexpr char kStable[] = "stable";
constexpr char kCanary[] = "canary";
constexpr char kShadow[] = "shadow";

std::string TimeJson(absl::Time t) { return JsonQuote(absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone())); }

}  // namespace

absl::string_view ApplyResultName(ApplyResult::Kind kind) {
  switch (kind) {
    case ApplyResult::Kind::kCreated: return "created";
    case ApplyResult::Kind::kConfigured: return "configured";
    case ApplyResult::Kind::kUnchanged: return "unchanged";
  }
  return "unchanged";
}

scheduler::PriorityClasses DefaultPriorityClasses() {
  scheduler::PriorityClasses classes;
  classes.Add({.name = "ai-high-priority", .value = 1000000}).IgnoreError();
  classes.Add({.name = "ai-standard-priority", .value = 0, .global_default = true}).IgnoreError();
  classes.Add({.name = "ai-low-priority", .value = -1000}).IgnoreError();
  return classes;
}

DeploymentController::DeploymentController(const DeploymentControllerOptions& options)
    : options_(options), priority_classes_(DefaultPriorityClasses()) {}

absl::StatusOr<std::unique_ptr<DeploymentController>> DeploymentController::Create(
    const DeploymentControllerOptions& options) {
  if (options.store == nullptr || options.registry == nullptr || options.runtime == nullptr) {
    return absl::InvalidArgumentError("the deployment controller needs a store, a registry and a runtime");
  }
  auto controller = std::unique_ptr<DeploymentController>(new DeploymentController(options));
  absl::StatusOr<std::vector<store::DeploymentRecord>> stored = options.store->ListDeployments("");
  if (!stored.ok()) return stored.status();
  {
    absl::MutexLock lock(&controller->mutex_);
    for (const store::DeploymentRecord& record : *stored) {
      absl::StatusOr<ModelDeploymentSpec> spec = ParseModelDeployment(record.current.spec_json, record.namespace_name);
      if (!spec.ok()) {
        log::Error("stored deployment cannot be read; skipped",
                   {{"deployment", record.namespace_name + "/" + record.name}, {"error", spec.status().message()}});
        continue;
      }
      auto m = std::make_shared<Managed>();
      m->spec = std::move(*spec);
      m->revision = record.current.revision;
      m->spec_hash = record.current.spec_hash;
      m->created_at = record.created_at;
      m->order = controller->next_order_++;
      m->desired = m->spec.min_replicas;
      controller->deployments_[m->spec.key()] = std::move(m);
    }
    if (!stored->empty()) log::Info("deployments restored", {{"count", static_cast<int64_t>(stored->size())}});
    absl::StatusOr<std::vector<store::ResourceQuotaRecord>> quotas = options.store->ListResourceQuotas();
    if (!quotas.ok()) return quotas.status();
    for (const store::ResourceQuotaRecord& q : *quotas) {
      absl::StatusOr<scheduler::QuotaAmounts> hard = ParseQuotaAmountsJson(q.hard_json);
      if (!hard.ok()) {
        log::Error("stored resource quota cannot be read; skipped",
                   {{"quota", q.namespace_name + "/" + q.name}, {"error", hard.status().message()}});
        continue;
      }
      controller->quotas_[{q.namespace_name, q.name}] = *hard;
    }
  }
  controller->loop_ = std::thread([c = controller.get()] {
    NameThisThread("deployments");
    c->Loop();
  });
  return controller;
}

DeploymentController::~DeploymentController() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (loop_.joinable()) loop_.join();
}

void DeploymentController::Kick() {
  absl::MutexLock lock(&mutex_);
  kicked_ = true;
}

absl::StatusOr<ApplyResult> DeploymentController::Apply(const ModelDeploymentSpec& spec, absl::string_view actor) {
  absl::MutexLock lock(&mutex_);
  return ApplyLocked(spec, actor, "applied");
}

absl::StatusOr<ApplyResult> DeploymentController::ApplyLocked(const ModelDeploymentSpec& spec, absl::string_view actor,
                                                              const std::string& reason) {
  if (!spec.priority_class.empty() && !priority_classes_.Resolve(spec.priority_class).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ModelDeployment (1 error): spec.priorityClassName: no priority class named \"",
                     spec.priority_class, "\" (ai-high-priority, ai-standard-priority, ai-low-priority)"));
  }
  for (const auto& [key, other] : deployments_) {
    if (other->spec.name == spec.name && other->spec.namespace_name != spec.namespace_name) {
      return absl::FailedPreconditionError(
          absl::StrCat("a deployment named \"", spec.name, "\" already exists in namespace \"",
                       other->spec.namespace_name, "\"; requests address deployments by name, so names must be unique"));
    }
  }
  const std::string json = ModelDeploymentToJson(spec);
  const std::string hash = Sha256::HexOf(json);
  auto it = deployments_.find(spec.key());
  if (it != deployments_.end() && it->second->spec_hash == hash) {
    return ApplyResult{.kind = ApplyResult::Kind::kUnchanged, .revision = it->second->revision,
                       .message = "the spec is unchanged; no new revision"};
  }
  absl::StatusOr<store::DeploymentRecord> stored = options_.store->AppendDeploymentRevision(
      {.namespace_name = spec.namespace_name, .name = spec.name, .spec_json = json, .spec_hash = hash,
       .actor = std::string(actor), .reason = reason, .created_at = absl::Now()});
  if (!stored.ok()) return stored.status();
  const bool created = it == deployments_.end();
  if (created) {
    auto m = std::make_shared<Managed>();
    m->order = next_order_++;
    m->created_at = stored->created_at;
    m->desired = spec.min_replicas;
    it = deployments_.emplace(spec.key(), std::move(m)).first;
  }
  Managed& m = *it->second;
  m.spec = spec;
  m.revision = stored->current.revision;
  m.spec_hash = hash;
  m.canary_failed_version.clear();  // a new spec may retry a canary that was rolled back
  m.failed_template.clear();
  if (spec.autoscaling.metrics.empty()) m.desired = spec.min_replicas;
  m.desired = std::clamp(m.desired, spec.min_replicas, spec.max_replicas);
  SetCondition(m, "Progressing", true, "NewRevisionCreated",
               absl::StrCat("revision ", m.revision, " applied; rolling out"));
  kicked_ = true;
  log::Info("deployment applied", {{"deployment", spec.key()}, {"revision", m.revision}, {"reason", reason}});
  return ApplyResult{.kind = created ? ApplyResult::Kind::kCreated : ApplyResult::Kind::kConfigured,
                     .revision = m.revision,
                     .message = reason};
}

absl::StatusOr<ApplyResult> DeploymentController::Rollback(absl::string_view namespace_name, absl::string_view name,
                                                           std::optional<int64_t> revision, absl::string_view actor) {
  absl::MutexLock lock(&mutex_);
  auto it = deployments_.find(absl::StrCat(namespace_name, "/", name));
  if (it == deployments_.end()) {
    return absl::NotFoundError(absl::StrCat("deployment \"", name, "\" not found in namespace \"", namespace_name, "\""));
  }
  absl::StatusOr<std::vector<store::DeploymentRevisionRecord>> history =
      options_.store->ListDeploymentRevisions(namespace_name, name);
  if (!history.ok()) return history.status();
  const store::DeploymentRevisionRecord* target = nullptr;
  for (const store::DeploymentRevisionRecord& r : *history) {
    if (revision ? r.revision == *revision : r.revision < it->second->revision) target = &r;
  }
  if (target == nullptr) {
    return revision ? absl::NotFoundError(absl::StrCat("deployment \"", name, "\" has no revision ", *revision))
                    : absl::FailedPreconditionError(
                          absl::StrCat("deployment \"", name, "\" has no revision before ", it->second->revision));
  }
  if (target->spec_hash == it->second->spec_hash) {
    return ApplyResult{.kind = ApplyResult::Kind::kUnchanged, .revision = it->second->revision,
                       .message = absl::StrCat("skipped rollback: the current spec already matches revision ",
                                               target->revision)};
  }
  absl::StatusOr<ModelDeploymentSpec> spec = ParseModelDeployment(target->spec_json, namespace_name);
  if (!spec.ok()) return spec.status();
  return ApplyLocked(*spec, actor, absl::StrCat("rollback to revision ", target->revision));
}

absl::Status DeploymentController::Delete(absl::string_view namespace_name, absl::string_view name) {
  absl::MutexLock lock(&mutex_);
  auto it = deployments_.find(absl::StrCat(namespace_name, "/", name));
  if (it == deployments_.end()) {
    return absl::NotFoundError(absl::StrCat("deployment \"", name, "\" not found in namespace \"", namespace_name, "\""));
  }
  if (absl::Status deleted = options_.store->DeleteDeployment(namespace_name, name); !deleted.ok()) return deleted;
  it->second->deleted = true;
  deleting_.push_back(it->second);
  deployments_.erase(it);
  kicked_ = true;
  return absl::OkStatus();
}

void DeploymentController::Loop() {
  absl::MutexLock lock(&mutex_);
  while (!stopping_) {
    ReconcileAllLocked();
    mutex_.AwaitWithTimeout(absl::Condition(this, &DeploymentController::Woken), options_.resync);
    kicked_ = false;
  }
  for (auto& [key, m] : deployments_) {
    m->deleted = true;
    deleting_.push_back(m);
  }
  deployments_.clear();
  options_.runtime->SetTraffic({});
  for (auto& m : deleting_) {
    for (const Replica& r : m->replicas) options_.runtime->StopReplica(r.id);
  }
  deleting_.clear();
}

void DeploymentController::ReconcileAllLocked() {
  const absl::Time now = absl::Now();
  if (!deleting_.empty()) {
    PublishTrafficLocked();
    for (auto& m : deleting_) {
      for (const Replica& r : m->replicas) options_.runtime->StopReplica(r.id);
      m->replicas.clear();
      SyncHoldsLocked(*m);  // releases them all
      if (options_.metrics) options_.metrics->Remove(m->spec.namespace_name, m->spec.name);
    }
    deleting_.clear();
  }
  // Copies: a Delete while a replica loads (lock released) must not invalidate the iteration.
  std::vector<std::shared_ptr<Managed>> all;
  for (auto& [key, m] : deployments_) all.push_back(m);
  for (auto& m : all) {
    ResolveLocked(*m);
    SyncHoldsLocked(*m);
  }
  for (auto& m : all) AutoscaleLocked(*m, now);
  PlaceLocked();
  for (auto& m : all) {
    if (m->deleted || stopping_) continue;
    ConvergeLocked(*m, now);
  }
  PublishTrafficLocked();
  for (auto& m : all) {
    if (!m->deleted) SyncHoldsLocked(*m);
  }
  for (auto& m : all) {
    if (m->deleted || !options_.metrics) continue;
    options_.metrics->SetReplicas(m->spec.namespace_name, m->spec.name, m->desired,
                                  m->Count(kStable, m->TemplateKey(m->stable_version)));
    options_.metrics->SetCanaryWeight(m->spec.namespace_name, m->spec.name, m->canary ? m->canary->weight : 0);
  }
}

void DeploymentController::SyncHoldsLocked(Managed& m) {
  std::set<std::pair<std::string, std::string>> wanted;
  if (!m.deleted) {
    for (const Replica& r : m.replicas) wanted.insert({m.spec.model, r.version});
    // Held before their replicas start, so that nothing deletes them in between.
    for (const std::string* v : {&m.stable_version, &m.canary_version, &m.shadow_version}) {
      if (!v->empty()) wanted.insert({m.spec.model, *v});
    }
  }
  if (!m.holds_synced && !m.deleted) {
    absl::StatusOr<std::vector<store::VersionRecord>> versions =
        options_.registry->ListVersions(m.spec.model, registry::VersionOrder::kAscending);
    if (versions.ok()) {
      for (const store::VersionRecord& v : *versions) {
        if (!wanted.contains({m.spec.model, v.version})) {
          options_.registry->ReleaseVersion(m.spec.model, v.version, m.Holder()).IgnoreError();
        }
      }
      m.holds_synced = true;
    }
  }
  for (const auto& held : wanted) {
    if (m.held.contains(held)) continue;
    if (options_.registry->HoldVersion(held.first, held.second, m.Holder()).ok()) m.held.insert(held);
  }
  for (auto it = m.held.begin(); it != m.held.end();) {
    if (wanted.contains(*it) || !options_.registry->ReleaseVersion(it->first, it->second, m.Holder()).ok()) {
      ++it;
    } else {
      it = m.held.erase(it);
    }
  }
}

void DeploymentController::ResolveLocked(Managed& m) {
  m.resolve_error.clear();
  auto resolve = [&](const std::string& ref, const char* what) -> std::string {
    absl::StatusOr<std::string> v = ResolveVersion(*options_.registry, m.spec.model, ref);
    if (!v.ok()) {
      if (m.resolve_error.empty()) m.resolve_error = absl::StrCat(what, " \"", ref, "\": ", v.status().message());
      return "";
    }
    return *v;
  };
  const std::string stable = resolve(m.spec.version, "spec.version");
  m.stable_resolved = !stable.empty();
  if (m.stable_resolved && stable != m.stable_version) {
    if (!m.stable_version.empty()) {
      log::Info("deployment rolls to a new version",
                {{"deployment", m.spec.key()}, {"from", m.stable_version}, {"to", stable}});
    }
    // Said before the first replica starts, so that nobody reads the old state as rolled out.
    SetCondition(m, "Progressing", true, "RollingUpdate",
                 absl::StrCat("rolling from version ", m.stable_version.empty() ? "(none)" : m.stable_version, " to ",
                              stable));
    m.stable_version = stable;
  }
  m.canary_version = m.spec.canary ? resolve(m.spec.canary->version, "spec.canary.version") : "";
  m.shadow_version = m.spec.shadow ? resolve(m.spec.shadow->version, "spec.shadow.version") : "";
}

void DeploymentController::AutoscaleLocked(Managed& m, absl::Time now) {
  const AutoscalingSpec& a = m.spec.autoscaling;
  if (a.metrics.empty() || m.spec.min_replicas == m.spec.max_replicas) {
    m.desired = m.spec.min_replicas;
    m.autoscale_reason.clear();
    return;
  }
  if (now - m.last_autoscale < a.interval) return;
  const absl::Duration elapsed = now - m.last_autoscale;
  const std::string key = m.TemplateKey(m.stable_version);
  const serving::TrafficStats::Snapshot outcomes = options_.runtime->Outcomes(m.spec.name, m.stable_version);
  const serving::TrafficStats::Snapshot window = outcomes.Since(m.last_outcomes);
  std::vector<control::MetricObservation> observations;
  m.autoscale_readings.clear();
  std::map<ReplicaId, ReplicaLoad> loads_now;
  for (const AutoscalingMetric& metric : a.metrics) {
    control::MetricObservation obs{.metric = metric.type, .target = metric.target};
    double sum = 0;
    int counted = 0;
    for (const Replica& r : m.replicas) {
      if (r.track != kStable || r.template_key != key) continue;
      std::optional<ReplicaLoad> load = options_.runtime->Load(r.id);
      if (!load) continue;
      std::optional<double> value;
      loads_now[r.id] = *load;
      auto before = m.last_load.find(r.id);
      const bool has_interval =
          before != m.last_load.end() && elapsed > absl::ZeroDuration() && elapsed < absl::InfiniteDuration();
      if (metric.type == "concurrency") {
        // Averaged over the interval (Little's law); a new replica's first reading is its queue now.
        value = has_interval ? absl::FDivDuration(load->request_time - before->second.request_time, elapsed)
                             : static_cast<double>(load->outstanding);
      } else if (metric.type == "cpu") {
        if (has_interval) {
          const double cpus = m.spec.requests.cpu_milli > 0 ? static_cast<double>(m.spec.requests.cpu_milli) / 1000 : 1;
          value = 100 * absl::FDivDuration(load->busy_time - before->second.busy_time, elapsed) / cpus;
        }
      } else if (metric.type == "memory" && m.spec.requests.memory_bytes > 0) {
        value = 100 * static_cast<double>(load->memory_bytes) / static_cast<double>(m.spec.requests.memory_bytes);
      } else if (metric.type == "latency" && window.requests > 0) {
        value = absl::ToDoubleMilliseconds(window.Percentile(0.95));
      }
      if (value) {
        sum += *value;
        ++counted;
      }
      obs.pods.push_back({.pod = absl::StrCat(r.id), .value = value});
    }
    if (counted > 0) m.autoscale_readings.emplace_back(metric.type, sum / counted);
    observations.push_back(std::move(obs));
  }
  m.last_load = std::move(loads_now);
  m.last_outcomes = outcomes;
  m.last_autoscale = now;
  const int current = std::max(1, m.Count(kStable, key));
  control::HpaSpec hpa{.min_replicas = m.spec.min_replicas,
                       .max_replicas = m.spec.max_replicas,
                       .tolerance = a.tolerance,
                       .scale_up = a.scale_up,
                       .scale_down = a.scale_down};
  control::HpaDecision decision = control::DecideReplicas(hpa, current, observations, m.hpa, now);
  m.hpa = std::move(decision.state);
  if (decision.desired_replicas != m.desired) {
    log::Info("deployment autoscaled", {{"deployment", m.spec.key()},
                                        {"from", m.desired},
                                        {"to", decision.desired_replicas},
                                        {"reason", decision.reason}});
  }
  m.desired = decision.desired_replicas;
  m.autoscale_reason = decision.reason;
}

void DeploymentController::PlaceLocked() {
  std::vector<PlacementDemand> demands;
  for (auto& [key, m] : deployments_) {
    scheduler::PodSpec pod{.namespace_name = m->spec.namespace_name,
                           .cpu_milli = m->spec.requests.cpu_milli,
                           .memory_bytes = m->spec.requests.memory_bytes,
                           .cpu_limit_milli = m->spec.limits.cpu_milli,
                           .memory_limit_bytes = m->spec.limits.memory_bytes,
                           .node_selector = m->spec.node_selector,
                           .tolerations = m->spec.tolerations,
                           .required_node_affinity = m->spec.required_node_affinity};
    const int32_t gpu = m->spec.requests.gpu_milli;
    if (gpu > 0) {
      pod.gpu_count = gpu >= scheduler::kMilliPerGpu ? gpu / scheduler::kMilliPerGpu : 1;
      pod.gpu_milli = gpu >= scheduler::kMilliPerGpu ? scheduler::kMilliPerGpu : gpu;
    }
    pod.priority = priority_classes_.Resolve(m->spec.priority_class).value_or(0);
    const std::string deployment = m->spec.key();
    demands.push_back({.key = deployment, .deployment = deployment, .pod = pod, .replicas = m->desired,
                       .running = m->allowed_stable, .order = m->order});
    const bool canary = m->spec.canary && !m->canary_version.empty() && m->canary_version != m->stable_version &&
                        m->canary_version != m->canary_failed_version;
    demands.push_back({.key = deployment + " canary", .deployment = deployment, .pod = pod,
                       .replicas = canary ? 1 : 0, .running = m->allowed_canary, .order = m->order});
    const bool shadow = m->spec.shadow && !m->shadow_version.empty() && m->shadow_version != m->stable_version;
    demands.push_back({.key = deployment + " shadow", .deployment = deployment, .pod = pod,
                       .replicas = shadow ? 1 : 0, .running = m->allowed_shadow, .order = m->order});
  }
  // Several quotas in one namespace all apply: the tightest limit of each resource counts.
  std::map<std::string, scheduler::QuotaAmounts> hard;
  for (const auto& [key, amounts] : quotas_) {
    for (const auto& [resource, limit] : amounts) {
      auto [it, inserted] = hard[key.first].emplace(resource, limit);
      if (!inserted) it->second = std::min(it->second, limit);
    }
  }
  scheduler::ResourceQuotas quotas;
  for (const auto& [ns, amounts] : hard) quotas.SetHard(ns, amounts).IgnoreError();  // validated when stored
  std::map<std::string, PlacementResult> plan = PlanPlacement(options_.node, demands, &quotas);
  quota_used_.clear();
  for (const auto& [ns, amounts] : hard) quota_used_[ns] = quotas.Used(ns);
  for (auto& [key, m] : deployments_) {
    const PlacementResult& stable = plan[key];
    m->allowed_stable = stable.placed;
    m->allowed_canary = plan[key + " canary"].placed;
    m->allowed_shadow = plan[key + " shadow"].placed;
    m->placement_reason = stable.reason;
    if (stable.placed >= m->desired) {
      m->preempted_by.clear();
    } else if (!stable.preempted_by.empty()) {
      m->preempted_by = stable.preempted_by;
    } else if (!m->preempted_by.empty()) {
      // Still waiting for the room it lost: say so until it is back.
      m->placement_reason = absl::StrCat("preempted by higher-priority deployment ", m->preempted_by, ": ", stable.reason);
    }
    if (m->placement_reason.empty()) {
      SetCondition(*m, "Scheduled", true, "Scheduled",
                   absl::StrCat(stable.placed, " replica(s) placed on ", options_.node.name));
    } else {
      SetCondition(*m, "Scheduled", false,
                   !m->preempted_by.empty() ? "Preempted" : (stable.over_quota ? "QuotaExceeded" : "Unschedulable"),
                   absl::StrCat(stable.placed, " of ", m->desired, " replica(s) placed; ", m->placement_reason));
    }
  }
}

bool DeploymentController::StartReplicaLocked(Managed& m, const std::string& version, const std::string& track,
                                              absl::Time now) {
  const std::string key = m.TemplateKey(version);
  if (m.failed_template == key && now - m.failed_at < options_.retry_failed_start) return false;
  ReplicaTemplate replica{.deployment = m.spec.name,
                          .model = m.spec.model,
                          .version = version,
                          .batching_json = m.spec.batching_json,
                          .response_cache_json = m.spec.response_cache_json};
  const int64_t revision = m.revision;
  mutex_.Unlock();
  absl::StatusOr<ReplicaId> id = options_.runtime->StartReplica(replica);
  mutex_.Lock();
  if (!id.ok()) {
    m.failed_template = key;
    m.failed_at = absl::Now();
    m.failure = absl::StrCat("a ", track, " replica of version ", version, " failed to start: ", id.status().message());
    log::Warn("deployment replica failed to start", {{"deployment", m.spec.key()}, {"error", m.failure}});
    return false;
  }
  if (m.failed_template == key) m.failed_template.clear();
  m.replicas.push_back({.id = *id, .version = version, .track = track, .template_key = key, .revision = revision});
  if (m.deleted) {
    // Deleted while it loaded: the deletion pass already ran.
    options_.runtime->StopReplica(*id);
    m.replicas.pop_back();
    return false;
  }
  PublishTrafficLocked();
  return true;
}

void DeploymentController::StopReplicaLocked(Managed& m, ReplicaId id) {
  std::erase_if(m.replicas, [id](const Replica& r) { return r.id == id; });
  PublishTrafficLocked();  // no new requests reach it
  options_.runtime->StopReplica(id);
}

void DeploymentController::ConvergeLocked(Managed& m, absl::Time now) {
  if (!m.stable_resolved) {
    // What runs keeps serving until the spec names something that exists.
    SetCondition(m, "Available", m.Count(kStable) > 0, m.Count(kStable) > 0 ? "ServingPreviousVersion" : "VersionNotFound",
                 m.resolve_error);
    SetCondition(m, "Progressing", false, "VersionNotFound", m.resolve_error);
    return;
  }
  const std::string key = m.TemplateKey(m.stable_version);
  const int target = std::min(m.desired, m.allowed_stable);
  const int surge = m.spec.strategy.max_surge;
  const int unavailable = m.spec.strategy.max_unavailable;
  // Each step changes one replica; the traffic follows after each.
  for (int guard = 0; guard < 4 * (m.spec.max_replicas + 2) && !m.deleted && !stopping_; ++guard) {
    const int fresh = m.Count(kStable, key);
    const int total = m.Count(kStable);
    const int outdated = total - fresh;
    if (fresh < target && total < target + surge) {
      if (!StartReplicaLocked(m, m.stable_version, kStable, now)) break;
      continue;
    }
    if (outdated > 0 && (total > target || total - 1 >= target - unavailable)) {
      auto old = std::find_if(m.replicas.begin(), m.replicas.end(),
                              [&](const Replica& r) { return r.track == kStable && r.template_key != key; });
      StopReplicaLocked(m, old->id);
      continue;
    }
    if (fresh > target) {
      auto extra = std::find_if(m.replicas.rbegin(), m.replicas.rend(),
                                [&](const Replica& r) { return r.track == kStable && r.template_key == key; });
      StopReplicaLocked(m, extra->id);
      continue;
    }
    break;
  }
  ConvergeCanaryLocked(m, now);
  ConvergeShadowLocked(m, now);

  const int fresh = m.Count(kStable, key);
  const int total = m.Count(kStable);
  const std::string unplaced_reason = m.preempted_by.empty() ? "Unschedulable" : "Preempted";
  if (m.desired == 0) {
    SetCondition(m, "Available", true, "ScaledToZero", "no replicas are wanted");
  } else if (total > 0 && total >= m.desired - unavailable) {
    SetCondition(m, "Available", true, "MinimumReplicasAvailable",
                 absl::StrCat(total, " of ", m.desired, " replica(s) ready"));
  } else {
    SetCondition(m, "Available", false, m.allowed_stable < m.desired ? unplaced_reason : "MinimumReplicasUnavailable",
                 absl::StrCat(total, " of ", m.desired, " replica(s) ready",
                              m.allowed_stable < m.desired ? absl::StrCat("; ", m.placement_reason) : ""));
  }
  if (m.failed_template == key) {
    SetCondition(m, "Progressing", false, "ReplicaFailed", m.failure);
  } else if (fresh == m.desired && total == fresh) {
    SetCondition(m, "Progressing", true, "NewRevisionAvailable",
                 absl::StrCat("revision ", m.revision, " (version ", m.stable_version, ") is serving"));
  } else if (m.allowed_stable < m.desired && fresh == target) {
    SetCondition(m, "Progressing", false, unplaced_reason, m.placement_reason);
  } else {
    SetCondition(m, "Progressing", true, "RollingUpdate",
                 absl::StrCat(fresh, " of ", m.desired, " replica(s) updated to version ", m.stable_version));
  }
}

void DeploymentController::ConvergeCanaryLocked(Managed& m, absl::Time now) {
  const bool wanted = m.spec.canary && !m.canary_version.empty() && m.canary_version != m.stable_version &&
                      m.canary_version != m.canary_failed_version && m.allowed_canary > 0;
  // Replicas of a canary no longer wanted (or of an older canary version) go.
  for (const Replica& r : std::vector<Replica>(m.replicas)) {
    if (r.track == kCanary && (!wanted || r.version != m.canary_version)) StopReplicaLocked(m, r.id);
  }
  if (!wanted) {
    if (m.canary && m.canary->phase == "Progressing") m.canary.reset();
    if (!m.spec.canary) m.canary.reset();
    if (m.spec.canary && m.canary_version == m.stable_version && m.canary) m.canary.reset();
    return;
  }
  if (m.Count(kCanary) == 0 && !StartReplicaLocked(m, m.canary_version, kCanary, now)) {
    SetCondition(m, "Canary", false, "ReplicaFailed", m.failure);
    return;
  }
  const CanarySpec& spec = *m.spec.canary;
  auto outcomes = [&](const std::string& version) { return options_.runtime->Outcomes(m.spec.name, version); };
  if (!m.canary || m.canary->version != m.canary_version) {
    m.canary = CanaryState{.version = m.canary_version, .step_started = now,
                           .canary_base = outcomes(m.canary_version), .stable_base = outcomes(m.stable_version)};
  }
  CanaryState& c = *m.canary;
  c.weight = spec.steps.empty() ? spec.weight : spec.steps[std::min(c.step, spec.steps.size() - 1)].weight;
  const serving::TrafficStats::Snapshot canary_window = outcomes(c.version).Since(c.canary_base);
  const serving::TrafficStats::Snapshot stable_window = outcomes(m.stable_version).Since(c.stable_base);
  const bool step_over = !spec.steps.empty() && now - c.step_started >= spec.steps[c.step].duration;
  control::CanaryJudgement judgement = control::JudgeCanaryStep(
      {.requests = canary_window.requests, .errors = canary_window.errors, .p95 = canary_window.Percentile(0.95)},
      {.requests = stable_window.requests, .errors = stable_window.errors, .p95 = stable_window.Percentile(0.95)},
      {.max_error_rate = spec.analysis.max_error_rate,
       .max_latency_p95 = spec.analysis.max_latency_p95,
       .max_latency_ratio = spec.analysis.max_latency_ratio,
       .min_requests = spec.analysis.min_requests},
      step_over);
  c.message = judgement.reason;
  if (judgement.verdict == control::CanaryVerdict::kFail) {
    c.phase = "RolledBack";
    c.weight = 0;
    c.message = absl::StrCat("canary ", c.version, " rolled back at step ", c.step + 1, ": ", judgement.reason);
    m.canary_failed_version = c.version;
    m.canary_failed_reason = c.message;
    log::Warn("canary rolled back", {{"deployment", m.spec.key()}, {"reason", c.message}});
    SetCondition(m, "Canary", false, "RolledBack", c.message);
    for (const Replica& r : std::vector<Replica>(m.replicas)) {
      if (r.track == kCanary) StopReplicaLocked(m, r.id);
    }
    return;
  }
  if (judgement.verdict == control::CanaryVerdict::kPass) {
    ++c.step;
    c.step_started = now;
    c.canary_base = outcomes(c.version);
    c.stable_base = outcomes(m.stable_version);
    if (c.step >= spec.steps.size()) {
      // Promotion: the canary's version becomes the deployment's, as a new revision; the canary
      // replica joins the stable ones and the rolling update replaces the rest.
      ModelDeploymentSpec promoted = m.spec;
      promoted.version = c.version;
      promoted.canary.reset();
      const std::string reason = absl::StrCat("canary ", c.version, " promoted after ", spec.steps.size(),
                                              " step(s): ", judgement.reason);
      for (Replica& r : m.replicas) {
        if (r.track == kCanary) r.track = kStable;
      }
      absl::StatusOr<ApplyResult> applied = ApplyLocked(promoted, "deployment-controller", reason);
      if (!applied.ok()) {
        log::Error("canary promotion could not be stored", {{"deployment", m.spec.key()}, {"error", applied.status().message()}});
        return;
      }
      log::Info("canary promoted", {{"deployment", m.spec.key()}, {"reason", reason}});
      m.canary = CanaryState{.version = c.version, .step = spec.steps.size(), .phase = "Promoted", .message = reason};
      m.stable_version = m.canary->version;
      SetCondition(m, "Canary", true, "Promoted", reason);
      return;
    }
    c.weight = spec.steps[c.step].weight;
  }
  SetCondition(m, "Canary", true, "Progressing",
               absl::StrCat("canary ", c.version, " at ", c.weight, "%",
                            spec.steps.empty() ? "" : absl::StrCat(", step ", c.step + 1, " of ", spec.steps.size()),
                            ": ", c.message));
}

void DeploymentController::ConvergeShadowLocked(Managed& m, absl::Time now) {
  const bool wanted = m.spec.shadow && !m.shadow_version.empty() && m.shadow_version != m.stable_version &&
                      m.allowed_shadow > 0;
  for (const Replica& r : std::vector<Replica>(m.replicas)) {
    if (r.track == kShadow && (!wanted || r.version != m.shadow_version)) StopReplicaLocked(m, r.id);
  }
  if (wanted && m.Count(kShadow) == 0) StartReplicaLocked(m, m.shadow_version, kShadow, now);
}

void DeploymentController::PublishTrafficLocked() {
  std::vector<TrafficPlan> plans;
  for (auto& [key, m] : deployments_) {
    TrafficPlan plan{.deployment = m->spec.name};
    // Stable: the current version's replicas; while a rolling update runs, the outdated ones too.
    plan.stable.version = m->stable_version;
    for (const Replica& r : m->replicas) {
      if (r.track == kStable) plan.stable.replicas.push_back(r.id);
    }
    TrafficTrack canary{.version = m->canary ? m->canary->version : ""};
    TrafficTrack shadow{.version = m->shadow_version};
    for (const Replica& r : m->replicas) {
      if (r.track == kCanary) canary.replicas.push_back(r.id);
      if (r.track == kShadow) shadow.replicas.push_back(r.id);
    }
    if (!canary.replicas.empty() && m->canary && m->canary->phase == "Progressing") {
      plan.canary = std::move(canary);
      plan.canary_percent = m->canary->weight;
    }
    if (!shadow.replicas.empty()) {
      plan.shadow = std::move(shadow);
      plan.shadow_percent = m->spec.shadow ? m->spec.shadow->percent : 0;
    }
    plans.push_back(std::move(plan));
  }
  options_.runtime->SetTraffic(plans);
}

void DeploymentController::SetCondition(Managed& m, const std::string& type, bool ok, const std::string& reason,
                                        const std::string& message) {
  Condition& c = m.conditions[type];
  const std::string status = ok ? "True" : "False";
  if (c.status != status || c.reason != reason) c.since = absl::Now();
  c.status = status;
  c.reason = reason;
  c.message = message;
}

std::string DeploymentController::StatusJsonLocked(const Managed& m) const {
  const std::string key = m.TemplateKey(m.stable_version);
  const int fresh = m.Count(kStable, key);
  const int total = m.Count(kStable);
  std::string replicas = "[";
  std::map<int64_t, std::pair<std::string, int>> by_revision;
  for (const Replica& r : m.replicas) {
    if (replicas.size() > 1) replicas += ",";
    absl::StrAppend(&replicas, "{\"id\":", r.id, ",\"version\":", JsonQuote(r.version), ",\"track\":",
                    JsonQuote(r.track), ",\"revision\":", r.revision, ",\"state\":\"Ready\"}");
    auto& [version, count] = by_revision[r.revision];
    version = r.version;
    ++count;
  }
  replicas += "]";
  std::string revisions = "[";
  for (const auto& [revision, entry] : by_revision) {
    if (revisions.size() > 1) revisions += ",";
    absl::StrAppend(&revisions, "{\"revision\":", revision, ",\"version\":", JsonQuote(entry.first),
                    ",\"readyReplicas\":", entry.second, "}");
  }
  revisions += "]";
  const int canary_weight = m.canary && m.canary->phase == "Progressing" && m.Count(kCanary) > 0 ? m.canary->weight : 0;
  std::string traffic = absl::StrCat("[{\"track\":\"stable\",\"version\":", JsonQuote(m.stable_version),
                                     ",\"percent\":", 100 - canary_weight, "}");
  if (canary_weight > 0) {
    absl::StrAppend(&traffic, ",{\"track\":\"canary\",\"version\":", JsonQuote(m.canary->version),
                    ",\"percent\":", canary_weight, "}");
  }
  traffic += "]";
  std::string out = absl::StrCat(
      "{\"observedRevision\":", m.revision, ",\"version\":", JsonQuote(m.stable_version),
      ",\"replicas\":{\"desired\":", m.desired, ",\"ready\":", total, ",\"available\":", total,
      ",\"updated\":", fresh, "},\"revisions\":", revisions, ",\"replicaSet\":", replicas, ",\"traffic\":", traffic);
  absl::StrAppend(&out, ",\"placement\":{\"node\":", JsonQuote(options_.node.name), ",\"admitted\":", m.allowed_stable,
                  ",\"message\":", JsonQuote(m.placement_reason), "}");
  if (m.canary) {
    absl::StrAppend(&out, ",\"canary\":{\"version\":", JsonQuote(m.canary->version), ",\"phase\":",
                    JsonQuote(m.canary->phase), ",\"step\":", m.canary->step + (m.canary->phase == "Promoted" ? 0 : 1),
                    ",\"steps\":", m.spec.canary ? m.spec.canary->steps.size() : m.canary->step,
                    ",\"weight\":", canary_weight, ",\"message\":", JsonQuote(m.canary->message), "}");
  }
  if (!m.shadow_version.empty() && m.spec.shadow) {
    absl::StrAppend(&out, ",\"shadow\":{\"version\":", JsonQuote(m.shadow_version), ",\"percent\":",
                    m.spec.shadow->percent, ",\"replicas\":", m.Count(kShadow), "}");
  }
  if (!m.spec.autoscaling.metrics.empty()) {
    std::string readings = "{";
    for (const auto& [metric, value] : m.autoscale_readings) {
      if (readings.size() > 1) readings += ",";
      absl::StrAppend(&readings, JsonQuote(metric), ":", value);
    }
    absl::StrAppend(&out, ",\"autoscaling\":{\"desiredReplicas\":", m.desired, ",\"reason\":",
                    JsonQuote(m.autoscale_reason), ",\"current\":", readings, "}}");
  }
  std::string conditions = "[";
  for (const auto& [type, c] : m.conditions) {
    if (conditions.size() > 1) conditions += ",";
    absl::StrAppend(&conditions, "{\"type\":", JsonQuote(type), ",\"status\":", JsonQuote(c.status),
                    ",\"reason\":", JsonQuote(c.reason), ",\"message\":", JsonQuote(c.message),
                    ",\"lastTransitionTime\":", TimeJson(c.since), "}");
  }
  absl::StrAppend(&out, ",\"conditions\":", conditions, "]}");
  return out;
}

std::string DeploymentController::ObjectJsonLocked(const Managed& m) const {
  std::string labels = "{";
  for (const auto& [k, v] : m.spec.labels) {
    if (labels.size() > 1) labels += ",";
    absl::StrAppend(&labels, JsonQuote(k), ":", JsonQuote(v));
  }
  labels += "}";
  return absl::StrCat("{\"apiVersion\":", JsonQuote(kApiVersion), ",\"kind\":", JsonQuote(kKind),
                      ",\"metadata\":{\"name\":", JsonQuote(m.spec.name), ",\"namespace\":",
                      JsonQuote(m.spec.namespace_name), ",\"labels\":", labels, ",\"revision\":", m.revision,
                      ",\"creationTimestamp\":", TimeJson(m.created_at), "},\"spec\":", ModelDeploymentSpecJson(m.spec),
                      ",\"status\":", StatusJsonLocked(m), "}");
}

absl::StatusOr<std::string> DeploymentController::GetJson(absl::string_view namespace_name,
                                                          absl::string_view name) const {
  absl::MutexLock lock(&mutex_);
  auto it = deployments_.find(absl::StrCat(namespace_name, "/", name));
  if (it == deployments_.end()) {
    return absl::NotFoundError(absl::StrCat("deployment \"", name, "\" not found in namespace \"", namespace_name, "\""));
  }
  return ObjectJsonLocked(*it->second);
}

std::string DeploymentController::ListJson(absl::string_view namespace_name) const {
  absl::MutexLock lock(&mutex_);
  std::string items;
  for (const auto& [key, m] : deployments_) {
    if (!namespace_name.empty() && m->spec.namespace_name != namespace_name) continue;
    if (!items.empty()) items += ",";
    items += ObjectJsonLocked(*m);
  }
  return absl::StrCat("{\"items\":[", items, "]}");
}

absl::StatusOr<std::string> DeploymentController::HistoryJson(absl::string_view namespace_name,
                                                              absl::string_view name) const {
  absl::StatusOr<std::vector<store::DeploymentRevisionRecord>> history =
      options_.store->ListDeploymentRevisions(namespace_name, name);
  if (!history.ok()) return history.status();
  std::string out = "{\"revisions\":[";
  for (size_t i = 0; i < history->size(); ++i) {
    const store::DeploymentRevisionRecord& r = (*history)[i];
    absl::StatusOr<ModelDeploymentSpec> spec = ParseModelDeployment(r.spec_json, namespace_name);
    if (i > 0) out += ",";
    absl::StrAppend(&out, "{\"revision\":", r.revision, ",\"reason\":", JsonQuote(r.reason), ",\"actor\":",
                    JsonQuote(r.actor), ",\"createdAt\":", TimeJson(r.created_at), ",\"version\":",
                    JsonQuote(spec.ok() ? spec->version : ""), ",\"spec\":",
                    spec.ok() ? ModelDeploymentSpecJson(*spec) : "null", "}");
  }
  return out + "]}";
}

absl::Status DeploymentController::PutQuota(const ResourceQuotaSpec& quota) {
  absl::MutexLock lock(&mutex_);
  scheduler::ResourceQuotas check;
  if (absl::Status valid = check.SetHard(quota.namespace_name, quota.hard); !valid.ok()) return valid;
  RETURN_IF_ERROR(options_.store->PutResourceQuota({.namespace_name = quota.namespace_name,
                                                    .name = quota.name,
                                                    .hard_json = QuotaAmountsJson(quota.hard),
                                                    .updated_at = absl::Now()}));
  quotas_[{quota.namespace_name, quota.name}] = quota.hard;
  kicked_ = true;
  return absl::OkStatus();
}

absl::Status DeploymentController::DeleteQuota(absl::string_view namespace_name, absl::string_view name) {
  absl::MutexLock lock(&mutex_);
  RETURN_IF_ERROR(options_.store->DeleteResourceQuota(namespace_name, name));
  quotas_.erase({std::string(namespace_name), std::string(name)});
  kicked_ = true;
  return absl::OkStatus();
}

std::string DeploymentController::QuotaObjectJsonLocked(const std::string& namespace_name, const std::string& name,
                                                        const scheduler::QuotaAmounts& hard) const {
  scheduler::QuotaAmounts used;
  auto it = quota_used_.find(namespace_name);
  for (const auto& [resource, limit] : hard) {
    used[resource] = it != quota_used_.end() && it->second.contains(resource) ? it->second.at(resource) : 0;
  }
  const std::string hard_json = QuotaAmountsJson(hard);
  return absl::StrCat("{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\",\"metadata\":{\"name\":", JsonQuote(name),
                      ",\"namespace\":", JsonQuote(namespace_name), "},\"spec\":{\"hard\":", hard_json,
                      "},\"status\":{\"hard\":", hard_json, ",\"used\":", QuotaAmountsJson(used), "}}");
}

absl::StatusOr<std::string> DeploymentController::QuotaJson(absl::string_view namespace_name,
                                                             absl::string_view name) const {
  absl::MutexLock lock(&mutex_);
  auto it = quotas_.find({std::string(namespace_name), std::string(name)});
  if (it == quotas_.end()) {
    return absl::NotFoundError(
        absl::StrCat("resource quota \"", name, "\" not found in namespace \"", namespace_name, "\""));
  }
  return QuotaObjectJsonLocked(it->first.first, it->first.second, it->second);
}

std::string DeploymentController::QuotasJson(absl::string_view namespace_name) const {
  absl::MutexLock lock(&mutex_);
  std::string items;
  for (const auto& [key, hard] : quotas_) {
    if (!namespace_name.empty() && key.first != namespace_name) continue;
    if (!items.empty()) items += ",";
    items += QuotaObjectJsonLocked(key.first, key.second, hard);
  }
  return absl::StrCat("{\"items\":[", items, "]}");
}

}  // namespace meridian::deploy
