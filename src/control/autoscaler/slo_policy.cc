#include "control/autoscaler/slo_policy.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace meridian::control {
namespace {

// The `percentile` of the sojourn time, approximated as the waiting-time percentile (exponential
// tail of M/M/c) plus the service-time percentile.
absl::Duration PredictLatency(int servers, double arrival_rate, double mu, double percentile,
                              absl::Duration service_percentile) {
  const double load = arrival_rate / mu;
  if (load >= servers) return absl::InfiniteDuration();
  const double c = ErlangC(servers, load);
  const double tail = 1.0 - percentile;
  const double wait = c <= tail ? 0.0 : std::log(c / tail) / (servers * mu - arrival_rate);
  return absl::Seconds(wait) + service_percentile;
}

}  // namespace

double ErlangC(int servers, double load) {
  if (servers <= 0 || load >= servers) return 1.0;
  if (load <= 0) return 0.0;
  double b = 1.0;  // Erlang B by recursion, numerically stable for large counts
  for (int k = 1; k <= servers; ++k) b = load * b / (k + load * b);
  return servers * b / (servers - load * (1.0 - b));
}

SloDecision DecideSlo(const SloSpec& spec, const SloObservation& o) {
  SloDecision d;
  const double service_s = absl::ToDoubleSeconds(o.mean_service_time);
  if (o.arrival_rate <= 0 || service_s <= 0) {
    d.desired_replicas = spec.min_replicas;
    d.predicted_latency = o.service_time_percentile;
    d.reason = "no load: minReplicas";
    return d;
  }
  if (o.service_time_percentile > spec.latency_target) {
    d.desired_replicas = spec.max_replicas;
    d.predicted_latency = o.service_time_percentile;
    d.reason = absl::StrFormat("unreachable: service time alone (p%.0f %s) exceeds the target %s; maxReplicas",
                               spec.percentile * 100, absl::FormatDuration(o.service_time_percentile),
                               absl::FormatDuration(spec.latency_target));
    return d;
  }
  const double mu = 1.0 / service_s;
  const int slots = std::max(1, spec.slots_per_replica);
  const double planned_rate = o.arrival_rate * std::max(1.0, spec.burst_headroom);
  // A backlog must drain on top of the arrivals.
  const double drain_rate = o.backlog / std::max(0.001, absl::ToDoubleSeconds(spec.backlog_drain_time));
  const int drain_slots = static_cast<int>(std::ceil(drain_rate * service_s));
  for (int replicas = std::max(1, spec.min_replicas); replicas <= spec.max_replicas; ++replicas) {
    if (replicas * slots < drain_slots) continue;
    const absl::Duration latency = PredictLatency(replicas * slots - drain_slots, planned_rate, mu,
                                                  spec.percentile, o.service_time_percentile);
    if (latency <= spec.latency_target) {
      d.desired_replicas = replicas;
      d.predicted_latency = latency;
      d.reason = absl::StrFormat("%.1f req/s (planned for %.1f) at %s each: %d replicas keep p%.0f at %s (target %s)",
                                 o.arrival_rate, planned_rate, absl::FormatDuration(o.mean_service_time), replicas,
                                 spec.percentile * 100, absl::FormatDuration(latency),
                                 absl::FormatDuration(spec.latency_target));
      return d;
    }
  }
  d.desired_replicas = spec.max_replicas;
  d.predicted_latency = PredictLatency(std::max(1, spec.max_replicas * slots - drain_slots), planned_rate, mu,
                                       spec.percentile, o.service_time_percentile);
  d.reason = "the target needs more than maxReplicas";
  return d;
}

}  // namespace meridian::control
