#pragma once

// Slows down token guessing: a client address that fails authentication `max_failures` times
// within `window` is locked out until the window has passed. While locked out, its requests are
// refused before any token is checked, except those carrying a token that already succeeded from
// that address (so a valid client sharing an address with an attacker keeps working).
//
// Thread-safe. Memory is bounded: at most `max_clients` addresses are tracked (the stalest go).

#include <cstddef>
#include <deque>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace meridian::auth {

struct FailedAuthLimiterOptions {
  int max_failures = 10;
  absl::Duration window = absl::Minutes(1);
  size_t max_clients = 10000;
  size_t max_known_tokens_per_client = 16;
};

class FailedAuthLimiter {
 public:
  explicit FailedAuthLimiter(FailedAuthLimiterOptions options) : options_(options) {}

  // Zero when `client` may try; otherwise how long until it may try again. `token_id` (may be
  // empty) is the id of the presented token: one that succeeded from this client is never held.
  absl::Duration Wait(absl::string_view client, absl::string_view token_id, absl::Time now);

  void RecordFailure(absl::string_view client, absl::Time now);
  void RecordSuccess(absl::string_view client, absl::string_view token_id, absl::Time now);

 private:
  struct ClientState {
    std::deque<absl::Time> failures;  // within the window, oldest first
    absl::flat_hash_set<std::string> known_tokens;
    absl::Time last_seen;
  };
  void Expire(ClientState& state, absl::Time now) const;
  ClientState& StateFor(absl::string_view client, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const FailedAuthLimiterOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, ClientState> clients_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::auth
