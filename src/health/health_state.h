#pragma once

// Liveness and readiness of the process.
//
// Live: the process can serve requests at all. Ready: it should receive traffic: every required
// component (store, model set, ...) reports ready and the server is not draining. Components
// start not ready. An optional component (the response cache: without it requests are served,
// only slower) is reported with its reason but never makes the server unready. Thread-safe;
// Live() and Ready() are lock-free for the probe hot path.

#include <atomic>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace meridian::health {

struct ComponentStatus {
  std::string name;
  bool ready = false;
  std::string reason;  // why not ready; empty when ready
  bool required = true;
};

class HealthState {
 public:
  // Adds a component that readiness waits for; it starts not ready with `reason`.
  void AddComponent(absl::string_view name, absl::string_view reason = "starting");
  // Adds a component that is reported but that readiness does not wait for; it starts ready.
  void AddOptionalComponent(absl::string_view name);
  void SetReady(absl::string_view name);
  void SetNotReady(absl::string_view name, absl::string_view reason);
  // Shutdown has begun: not ready from now on, for good.
  void SetDraining();

  bool Live() const { return true; }
  bool Ready() const { return ready_.load(std::memory_order_acquire); }
  bool Draining() const { return draining_.load(std::memory_order_acquire); }
  std::vector<ComponentStatus> Components() const;

 private:
  void Recompute() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::btree_map<std::string, ComponentStatus> components_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> draining_{false};
  std::atomic<bool> ready_{true};
};

}  // namespace meridian::health
