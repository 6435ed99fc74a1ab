#pragma once

// An in-process least-recently-used response cache bounded in bytes (keys and values counted),
// with a time to live per entry. Thread-safe.

#include <list>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "serving/response_cache.h"

namespace meridian::serving {

class LocalResponseCache final : public ResponseCache {
 public:
  explicit LocalResponseCache(uint64_t max_bytes, Clock* clock = Clock::Real()) : max_bytes_(max_bytes), clock_(clock) {}

  std::string name() const override { return "local"; }
  std::optional<std::string> Get(const std::string& key) override;
  void Put(const std::string& key, std::string value, absl::Duration ttl) override;
  void Invalidate(absl::string_view model, absl::string_view version) override;
  uint64_t bytes() const;

 private:
  struct Entry {
    std::string key;
    std::string value;
    absl::Time expires;
  };
  void EraseLocked(std::list<Entry>::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const uint64_t max_bytes_;
  Clock* clock_;
  mutable absl::Mutex mutex_;
  std::list<Entry> entries_ ABSL_GUARDED_BY(mutex_);  // most recently used first
  absl::flat_hash_map<std::string, std::list<Entry>::iterator> index_ ABSL_GUARDED_BY(mutex_);
  uint64_t bytes_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace meridian::serving
