#pragma once

// A process-wide cap on open client connections, shared by the HTTP and gRPC listeners. Every
// connection holds a file descriptor and buffers; without a cap, a client (or a crowd of them)
// opening connections without end would use up the descriptors that model loads, the database and
// logs need, and the memory of the busy connections' buffers. A connection past the cap is closed
// as soon as it is accepted: clients see it refused and retry (gRPC clients back off). Thread-safe.

#include <atomic>
#include <cstdint>
#include <optional>

namespace meridian::http {

class ConnectionLimit {
 public:
  // At most `max_connections` open at once; 0: no limit (connections are still counted).
  explicit ConnectionLimit(uint64_t max_connections) : max_(max_connections) {}
  ConnectionLimit(const ConnectionLimit&) = delete;
  ConnectionLimit& operator=(const ConnectionLimit&) = delete;

  // One open connection's place under the limit, given back when the slot is destroyed (with its
  // connection). An empty slot (default-constructed, or moved from) holds nothing.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : limit_(other.limit_) { other.limit_ = nullptr; }
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { Release(); }

   private:
    friend class ConnectionLimit;
    explicit Slot(ConnectionLimit* limit) : limit_(limit) {}
    void Release();
    ConnectionLimit* limit_ = nullptr;  // not owned; outlives its slots
  };

  // A slot for a newly accepted connection, or nullopt (counted as refused) when the limit is
  // reached. The limit must outlive every slot it gives.
  std::optional<Slot> TryTake();

  uint64_t max() const { return max_; }
  uint64_t open() const { return open_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  const uint64_t max_;
  std::atomic<uint64_t> open_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace meridian::http
