#include "health/health_state.h"

namespace meridian::health {

void HealthState::AddComponent(absl::string_view name, absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  components_[std::string(name)] = ComponentStatus{std::string(name), false, std::string(reason)};
  Recompute();
}

void HealthState::AddOptionalComponent(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  components_[std::string(name)] = ComponentStatus{std::string(name), true, "", /*required=*/false};
  Recompute();
}

void HealthState::SetReady(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  ComponentStatus& status = components_[std::string(name)];
  status.name = std::string(name);
  status.ready = true;
  status.reason.clear();
  Recompute();
}

void HealthState::SetNotReady(absl::string_view name, absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  ComponentStatus& status = components_[std::string(name)];
  status.name = std::string(name);
  status.ready = false;
  status.reason = std::string(reason);
  Recompute();
}

void HealthState::SetDraining() {
  absl::MutexLock lock(&mu_);
  draining_.store(true, std::memory_order_release);
  Recompute();
}

std::vector<ComponentStatus> HealthState::Components() const {
  absl::MutexLock lock(&mu_);
  std::vector<ComponentStatus> out;
  for (const auto& [name, status] : components_) out.push_back(status);
  return out;
}

void HealthState::Recompute() {
  bool ready = !draining_.load(std::memory_order_acquire);
  for (const auto& [name, status] : components_) ready = ready && (status.ready || !status.required);
  ready_.store(ready, std::memory_order_release);
}

}  // namespace meridian::health
