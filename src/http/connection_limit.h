#pragma once

// A process-wide cap on open client connections, shared by the HTTP and gRPC listeners. Every
// connection holds a file descriptor and buffers; without a cap, a client (or a crowd of them)
// opening connections without end would use up the descriptors that model loads, the database and
// logs need, and the memory of the busy connections' buffers. A connection past the cap is closed
// as soon as it is accepted: clients see it refused and retry (gRPC clients back off). Thread-safe.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

namespace meridian::http {

class ConnectionLimit : public std::enable_shared_from_this<ConnectionLimit> {
 public:
  // At most `max_connections` open at once; 0: no limit (connections are still counted).
  static std::shared_ptr<ConnectionLimit> Create(uint64_t max_connections) {
    return std::shared_ptr<ConnectionLimit>(new ConnectionLimit(max_connections));
  }
  ConnectionLimit(const ConnectionLimit&) = delete;
  ConnectionLimit& operator=(const ConnectionLimit&) = delete;

  // One open connection's place under the limit, given back when the slot is destroyed (with its
  // connection). It keeps the limit alive: a connection may outlive its server and whatever else
  // held the limit. An empty slot (default-constructed, or moved from) holds nothing.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept = default;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { Release(); }

   private:
    friend class ConnectionLimit;
    explicit Slot(std::shared_ptr<ConnectionLimit> limit) : limit_(std::move(limit)) {}
    void Release();
    std::shared_ptr<ConnectionLimit> limit_;
  };

  // A slot for a newly accepted connection, or nullopt (counted as refused) when the limit is
  // reached.
  std::optional<Slot> TryTake();

  uint64_t max() const { return max_; }
  uint64_t open() const { return open_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  explicit ConnectionLimit(uint64_t max_connections) : max_(max_connections) {}

  const uint64_t max_;
  std::atomic<uint64_t> open_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace meridian::http
