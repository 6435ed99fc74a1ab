#pragma once

// A small Redis key-value client (hiredis) for caches: get, set with a time to live, delete by
// prefix (SCAN + UNLINK). Built to be optional: a Redis that is down or slow (past `timeout`)
// makes reads return nothing and writes do nothing for `retry_after`, with one warning and
// `on_error` per failure, so that callers never fail because of it. Thread-safe (a pool of
// connections).

#include <functional>
#include <memory>
#include <string>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct redisContext;

namespace meridian::store {

struct RedisKeyValueOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  absl::Duration timeout = absl::Milliseconds(50);
  absl::Duration retry_after = absl::Seconds(5);
  size_t max_connections = 16;
  std::function<void()> on_error;  // called once per failed operation
  // Called when Redis becomes unavailable (with the reason) and when it is back (empty reason).
  std::function<void(bool available, const std::string& reason)> on_availability;
};

class RedisKeyValue {
 public:
  explicit RedisKeyValue(const RedisKeyValueOptions& options);
  ~RedisKeyValue();
  RedisKeyValue(const RedisKeyValue&) = delete;
  RedisKeyValue& operator=(const RedisKeyValue&) = delete;

  std::optional<std::string> Get(const std::string& key);
  void Set(const std::string& key, const std::string& value, absl::Duration ttl);
  // Deletes every key that starts with `prefix` (taken literally).
  void DeletePrefix(const std::string& prefix);
  // False while it backs off after an error.
  bool available() const;

 private:
  // A connection from the pool (or a new one); nullptr while backing off or when connecting fails.
  redisContext* Acquire();
  void Release(redisContext* context);
  // Drops a broken connection and starts the back-off.
  void Fail(redisContext* context, absl::string_view what);

  const RedisKeyValueOptions options_;
  mutable absl::Mutex mutex_;
  std::vector<redisContext*> idle_ ABSL_GUARDED_BY(mutex_);
  absl::Time down_until_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();
  bool warned_ ABSL_GUARDED_BY(mutex_) = false;
};

// Parses "redis://host:port" (port defaults to 6379).
absl::StatusOr<RedisKeyValueOptions> ParseRedisUrl(absl::string_view url);

}  // namespace meridian::store
