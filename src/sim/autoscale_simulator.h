#pragma once

// Replays a load trace against simulated replicas under one autoscaling policy and reports how
// well it served: requests within the latency objective, p99 latency, replica-seconds (cost) and
// scaling actions. Each request is simulated: Poisson arrivals within each second, a log-normal
// service time, FIFO onto the earliest free slot of the replicas; new replicas serve only after a
// start-up delay. Deterministic for a given seed.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "sim/load_trace.h"

namespace meridian::sim {

enum class AutoscalePolicy { kHpa, kKpa, kSlo, kStep };
const char* PolicyName(AutoscalePolicy policy);

struct SimulationOptions {
  absl::Duration mean_service_time = absl::Milliseconds(20);
  double service_time_cv = 0.5;  // coefficient of variation of the log-normal service time
  int slots_per_replica = 1;
  absl::Duration startup_delay = absl::Seconds(10);
  absl::Duration latency_objective = absl::Milliseconds(100);
  double objective_percentile = 0.95;
  int min_replicas = 1;
  int max_replicas = 200;
  int initial_replicas = 2;
  double hpa_target_utilization = 0.7;  // HPA: CPU target
  double kpa_target_utilization = 0.7;  // KPA: target concurrency per slot
  // SLO: scale down only to the highest recommendation within this window. Longer windows keep
  // capacity for bursts that come back (spikes); 60 s only smooths noise.
  absl::Duration slo_scale_down_window = absl::Seconds(60);
  double slo_burst_headroom = 1;  // SloSpec::burst_headroom
  uint64_t seed = 1;
};

struct SecondSample {
  int second = 0;
  double rps = 0;
  int replicas = 0;        // including those starting
  int ready_replicas = 0;
  double p95_latency_ms = 0;
};

struct SimulationResult {
  std::string policy;
  std::string trace;
  int64_t requests = 0;
  double within_objective = 0;  // fraction
  double p99_latency_ms = 0;
  double replica_seconds = 0;
  int scaling_actions = 0;
  std::vector<SecondSample> timeline;
};

SimulationResult Simulate(const LoadTrace& trace, AutoscalePolicy policy, const SimulationOptions& options);

}  // namespace meridian::sim
