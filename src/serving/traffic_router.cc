#include "serving/traffic_router.h"

#include <cmath>
#include <limits>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meridian::serving {
namespace {

double RandomPercent() {
  thread_local std::minstd_rand rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0, 100)(rng);
}

// The replica with the fewest requests queued or running; ties rotate.
std::shared_ptr<ServedModel> LeastLoaded(const RouteTarget& target, uint64_t turn) {
  std::shared_ptr<ServedModel> best;
  size_t best_load = std::numeric_limits<size_t>::max();
  const size_t n = target.replicas.size();
  for (size_t i = 0; i < n; ++i) {
    const std::shared_ptr<ServedModel>& replica = target.replicas[(turn + i) % n];
    const size_t load = replica->batcher().outstanding();
    if (load < best_load) {
      best = replica;
      best_load = load;
      if (load == 0) break;
    }
  }
  return best;
}

}  // namespace

void TrafficRouter::Publish(std::shared_ptr<const RoutingTable> table) {
  absl::MutexLock lock(&mutex_);
  table_ = std::move(table);
}

std::shared_ptr<const RoutingTable> TrafficRouter::Current() const {
  absl::MutexLock lock(&mutex_);
  return table_;
}

std::optional<absl::StatusOr<RouteChoice>> TrafficRouter::Route(const InferenceRequest& request) const {
  const std::shared_ptr<const RoutingTable> table = Current();
  auto it = table->find(request.model);
  if (it == table->end()) return std::nullopt;
  const DeploymentRoute& route = it->second;
  const RouteTarget* target = &route.stable;
  const char* track = "stable";
  if (!request.version.empty()) {
    if (route.canary && route.canary->version == request.version) {
      target = &*route.canary;
      track = "canary";
    } else if (route.stable.version != request.version) {
      std::vector<std::string> served = {route.stable.version};
      if (route.canary) served.push_back(route.canary->version);
      return absl::StatusOr<RouteChoice>(absl::NotFoundError(
          absl::StrCat("deployment '", route.deployment, "' does not serve version ", request.version,
                       " (it serves ", absl::StrJoin(served, ", "), ")")));
    }
  } else if (route.canary && route.canary_percent > 0 && !route.canary->replicas.empty() &&
             RandomPercent() < route.canary_percent) {
    target = &*route.canary;
    track = "canary";
  }
  const uint64_t turn = next_.fetch_add(1, std::memory_order_relaxed);
  std::shared_ptr<ServedModel> served = target->replicas.empty() ? nullptr : LeastLoaded(*target, turn);
  if (!served) {
    return absl::StatusOr<RouteChoice>(absl::UnavailableError(
        absl::StrCat("deployment '", route.deployment, "' has no ready replica yet; retry shortly")));
  }
  RouteChoice choice{.deployment = route.deployment,
                     .track = track,
                     .served = std::move(served),
                     .stats = target->stats,
                     .counters = target->counters};
  if (route.shadow && !route.shadow->replicas.empty() && route.shadow_percent > 0 &&
      (route.shadow_percent >= 100 || RandomPercent() < route.shadow_percent)) {
    choice.shadow = LeastLoaded(*route.shadow, turn);
  }
  return absl::StatusOr<RouteChoice>(std::move(choice));
}

bool SameOutputs(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name() != b[i].name() || a[i].type() != b[i].type() || a[i].shape() != b[i].shape() ||
        a[i].byte_size() != b[i].byte_size()) {
      return false;
    }
    if (a[i].type() == DataType::kFp32) {
      const int64_t n = static_cast<int64_t>(a[i].byte_size() / sizeof(float));
      for (int64_t k = 0; k < n; ++k) {
        const float x = a[i].At<float>(k);
        const float y = b[i].At<float>(k);
        if (std::fabs(x - y) > 1e-5f * std::max(1.0f, std::max(std::fabs(x), std::fabs(y)))) return false;
      }
    } else if (a[i].bytes() != b[i].bytes()) {
      return false;
    }
  }
  return true;
}

void ShadowComparison::PrimaryDone(const absl::StatusOr<InferenceResponse>& result) {
  absl::MutexLock lock(&mutex_);
  primary_ = result.ok() ? absl::StatusOr<std::vector<Tensor>>(result->outputs)
                         : absl::StatusOr<std::vector<Tensor>>(result.status());
  if (shadow_) CompareLocked();
}

void ShadowComparison::ShadowDone(const absl::StatusOr<InferenceResponse>& result, absl::Duration latency) {
  absl::MutexLock lock(&mutex_);
  shadow_ = result.ok() ? absl::StatusOr<std::vector<Tensor>>(result->outputs)
                        : absl::StatusOr<std::vector<Tensor>>(result.status());
  shadow_latency_ = latency;
  if (primary_) CompareLocked();
}

void ShadowComparison::CompareLocked() {
  const char* verdict = "different";
  if (!shadow_->ok()) {
    verdict = "error";
  } else if (primary_->ok() && SameOutputs(**primary_, **shadow_)) {
    verdict = "same";
  }
  report_(verdict, shadow_latency_);
}

}  // namespace meridian::serving
