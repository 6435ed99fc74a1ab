#include "deploy/local_runtime.h"

#include <string_view>

#include "absl/strings/str_cat.h"

namespace meridian::deploy {

LocalRuntime::~LocalRuntime() {
  options_.router->Publish(std::make_shared<const serving::RoutingTable>());
  absl::MutexLock lock(&mutex_);
  replicas_.clear();
  draining_.clear();  // each finishes its queue as it goes
}

absl::StatusOr<ReplicaId> LocalRuntime::StartReplica(const ReplicaTemplate& replica) {
  absl::StatusOr<std::shared_ptr<serving::ServedModel>> served = options_.repository->LoadReplica(
      replica.model, replica.version,
      {.batching_json = replica.batching_json, .response_cache_json = replica.response_cache_json});
  if (!served.ok()) return served.status();
  absl::MutexLock lock(&mutex_);
  const ReplicaId id = next_id_++;
  replicas_[id] = std::move(*served);
  return id;
}

void LocalRuntime::StopReplica(ReplicaId id) {
  absl::MutexLock lock(&mutex_);
  auto it = replicas_.find(id);
  if (it == replicas_.end()) return;
  draining_.push_back(std::move(it->second));
  replicas_.erase(it);
  ReapLocked();
}

void LocalRuntime::ReapLocked() {
  std::erase_if(draining_, [](const std::shared_ptr<serving::ServedModel>& replica) {
    return replica.use_count() == 1 && !replica->batcher().busy();
  });
}

std::shared_ptr<serving::TrafficStats> LocalRuntime::StatsLocked(const std::string& deployment,
                                                                 const std::string& version) {
  std::shared_ptr<serving::TrafficStats>& stats = stats_[{deployment, version}];
  if (!stats) stats = std::make_shared<serving::TrafficStats>();
  return stats;
}

void LocalRuntime::SetTraffic(const std::vector<TrafficPlan>& plans) {
  auto table = std::make_shared<serving::RoutingTable>();
  absl::MutexLock lock(&mutex_);
  auto target = [&](const std::string& deployment, const TrafficTrack& track, const char* name) {
    serving::RouteTarget t{.version = track.version, .stats = StatsLocked(deployment, track.version)};
    // Shadow answers are counted by how they compare (DeploymentMetrics::RecordShadow).
    if (options_.metrics && name != std::string_view("shadow")) {
      t.counters = options_.metrics->CountersFor(deployment, track.version, name);
    }
    for (ReplicaId id : track.replicas) {
      if (auto it = replicas_.find(id); it != replicas_.end()) t.replicas.push_back(it->second);
    }
    return t;
  };
  for (const TrafficPlan& plan : plans) {
    serving::DeploymentRoute route{.deployment = plan.deployment, .stable = target(plan.deployment, plan.stable, "stable")};
    if (plan.canary) {
      route.canary = target(plan.deployment, *plan.canary, "canary");
      route.canary_percent = plan.canary_percent;
    }
    if (plan.shadow) {
      route.shadow = target(plan.deployment, *plan.shadow, "shadow");
      route.shadow_percent = plan.shadow_percent;
    }
    (*table)[plan.deployment] = std::move(route);
  }
  options_.router->Publish(std::move(table));
  ReapLocked();
}

std::optional<ReplicaLoad> LocalRuntime::Load(ReplicaId id) {
  absl::MutexLock lock(&mutex_);
  ReapLocked();
  auto it = replicas_.find(id);
  if (it == replicas_.end()) return std::nullopt;
  return ReplicaLoad{.outstanding = it->second->batcher().outstanding(),
                     .busy_time = it->second->batcher().busy_time(),
                     .request_time = it->second->batcher().request_time(),
                     .memory_bytes = it->second->memory_bytes()};
}

serving::TrafficStats::Snapshot LocalRuntime::Outcomes(const std::string& deployment, const std::string& version) {
  absl::MutexLock lock(&mutex_);
  return StatsLocked(deployment, version)->Read();
}

size_t LocalRuntime::running() const {
  absl::MutexLock lock(&mutex_);
  return replicas_.size();
}

size_t LocalRuntime::draining() const {
  absl::MutexLock lock(&mutex_);
  return draining_.size();
}

}  // namespace meridian::deploy
