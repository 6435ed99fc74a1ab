#pragma once

// A server's open connections, so that shutdown can reach each of them (close the idle ones, tell
// the rest to finish). Held weakly: a connection frees itself when it closes. Thread-safe.

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace meridian::http {

template <class Connection>
class ConnectionRegistry {
 public:
  // Returns the key that Remove takes.
  uint64_t Add(std::weak_ptr<Connection> connection) {
    absl::MutexLock lock(&mu_);
    const uint64_t id = next_id_++;
    connections_.emplace(id, std::move(connection));
    return id;
  }
  void Remove(uint64_t id) {
    absl::MutexLock lock(&mu_);
    connections_.erase(id);
  }
  // The connections still alive now.
  std::vector<std::shared_ptr<Connection>> Live() {
    absl::MutexLock lock(&mu_);
    std::vector<std::shared_ptr<Connection>> out;
    for (auto& [id, weak] : connections_) {
      if (std::shared_ptr<Connection> connection = weak.lock()) out.push_back(std::move(connection));
    }
    return out;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::weak_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace meridian::http
