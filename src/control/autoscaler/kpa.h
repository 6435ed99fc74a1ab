#pragma once

// A Knative-style (KPA) concurrency autoscaler: desired = observed concurrency / target per
// replica, averaged over a stable window (60 s); a panic window (6 s) reacts to bursts and, while
// in panic (panic-window demand at least 200 % of what ready replicas can take), the replica
// count never goes down. Panic ends after a stable window without a trigger. With scale to zero
// allowed, a model idle for the grace period goes to 0 and the first request wakes it (1).
// The same core serves a requests-per-second target: pass the observed rate as `concurrency` and
// the rate one replica should carry as `target_concurrency`.
// Pure: samples and time in, desired replicas out; the caller keeps the state.

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace meridian::control {

struct KpaSpec {
  double target_concurrency = 100;  // per replica (Knative: containerConcurrency x utilization)
  absl::Duration stable_window = absl::Seconds(60);
  absl::Duration panic_window = absl::Seconds(6);
  double panic_threshold = 2.0;  // 200 %
  double max_scale_up_rate = 1000;
  double max_scale_down_rate = 2;
  int min_replicas = 0;
  int max_replicas = 100;
  bool allow_scale_to_zero = true;
  absl::Duration scale_to_zero_grace = absl::Seconds(30);
};

struct KpaState {
  struct Sample {
    absl::Time time;
    double concurrency = 0;  // total in-flight requests across replicas
  };
  std::vector<Sample> samples;
  std::optional<absl::Time> panic_since;
  std::optional<absl::Time> last_panic_trigger;
  int panic_high_water = 0;  // the most replicas wanted during this panic
  std::optional<absl::Time> idle_since;
};

struct KpaDecision {
  int desired_replicas = 0;
  bool panicking = false;
  double stable_concurrency = 0;
  double panic_concurrency = 0;
  std::string reason;
  KpaState state;
};

// `concurrency` is the latest observation (total in flight), `pending_requests` the requests
// waiting for a replica (a request arriving while at zero wakes the model).
KpaDecision DecideKpa(const KpaSpec& spec, int ready_replicas, double concurrency, int pending_requests,
                      const KpaState& state, absl::Time now);

}  // namespace meridian::control
