#pragma once

// The SLO policy: the fewest replicas that keep a latency percentile within its target, from the
// measured arrival rate and service time, using an M/M/c queue (Erlang C) for the waiting time.
// It follows the current arrival rate, so it reacts to a load step within one tick, and adds the
// capacity to drain a backlog that built up meanwhile. Pure.

#include <string>

#include "absl/time/time.h"

namespace meridian::control {

struct SloSpec {
  absl::Duration latency_target = absl::Milliseconds(100);
  double percentile = 0.95;
  int slots_per_replica = 1;  // requests one replica serves at once (instances x batch)
  absl::Duration backlog_drain_time = absl::Seconds(10);  // clear a queued backlog within this
  // Plan for this multiple of the measured arrival rate (>= 1): the reserve for bursts shorter
  // than start-up plus a tick, which no reaction can catch. 1: none.
  double burst_headroom = 1;
  int min_replicas = 1;
  int max_replicas = 100;
};

struct SloObservation {
  double arrival_rate = 0;                 // requests per second
  absl::Duration mean_service_time;        // per request
  absl::Duration service_time_percentile;  // the same percentile as the target, of service alone
  double backlog = 0;  // requests queued now beyond what the replicas are serving
};

struct SloDecision {
  int desired_replicas = 0;
  absl::Duration predicted_latency;  // at the chosen replica count
  std::string reason;
};

// Erlang C: probability that an arrival waits, for `servers` servers at offered load `load`
// (arrival rate x mean service time). 1 when load >= servers.
double ErlangC(int servers, double load);

SloDecision DecideSlo(const SloSpec& spec, const SloObservation& observation);

}  // namespace meridian::control
