#include "auth/failed_auth_limiter.h"

namespace meridian::auth {

void FailedAuthLimiter::Expire(ClientState& state, absl::Time now) const {
  while (!state.failures.empty() && state.failures.front() <= now - options_.window) state.failures.pop_front();
}

FailedAuthLimiter::ClientState& FailedAuthLimiter::StateFor(absl::string_view client, absl::Time now) {
  auto it = clients_.find(client);
  if (it == clients_.end()) {
    if (clients_.size() >= options_.max_clients) {
      auto stalest = clients_.begin();
      for (auto c = clients_.begin(); c != clients_.end(); ++c) {
        if (c->second.last_seen < stalest->second.last_seen) stalest = c;
      }
      clients_.erase(stalest);
    }
    it = clients_.emplace(std::string(client), ClientState{}).first;
  }
  it->second.last_seen = now;
  return it->second;
}

absl::Duration FailedAuthLimiter::Wait(absl::string_view client, absl::string_view token_id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = clients_.find(client);
  if (it == clients_.end()) return absl::ZeroDuration();
  ClientState& state = it->second;
  Expire(state, now);
  if (static_cast<int>(state.failures.size()) < options_.max_failures) return absl::ZeroDuration();
  if (!token_id.empty() && state.known_tokens.contains(token_id)) return absl::ZeroDuration();
  // Locked until enough failures have left the window to fall under the limit again.
  const absl::Time oldest_counted = state.failures[state.failures.size() - options_.max_failures];
  return std::max(absl::Seconds(1), oldest_counted + options_.window - now);
}

void FailedAuthLimiter::RecordFailure(absl::string_view client, absl::Time now) {
  absl::MutexLock lock(&mu_);
  ClientState& state = StateFor(client, now);
  Expire(state, now);
  state.failures.push_back(now);
  // Failures while locked out are refused before counting; cap the memory of one address anyway.
  while (static_cast<int>(state.failures.size()) > 2 * options_.max_failures) state.failures.pop_front();
}

void FailedAuthLimiter::RecordSuccess(absl::string_view client, absl::string_view token_id, absl::Time now) {
  if (token_id.empty()) return;
  absl::MutexLock lock(&mu_);
  ClientState& state = StateFor(client, now);
  if (state.known_tokens.size() < options_.max_known_tokens_per_client) state.known_tokens.emplace(token_id);
}

}  // namespace meridian::auth
