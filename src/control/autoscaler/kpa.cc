#include "control/autoscaler/kpa.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace meridian::control {
namespace {

double WindowAverage(const std::vector<KpaState::Sample>& samples, absl::Time now, absl::Duration window) {
  double sum = 0;
  int n = 0;
  for (const auto& s : samples) {
    if (s.time > now - window) {
      sum += s.concurrency;
      ++n;
    }
  }
  return n == 0 ? 0 : sum / n;
}

}  // namespace

KpaDecision DecideKpa(const KpaSpec& spec, int ready_replicas, double concurrency, int pending_requests,
                      const KpaState& state, absl::Time now) {
  KpaDecision d;
  d.state = state;
  auto& samples = d.state.samples;
  samples.push_back({now, concurrency});
  samples.erase(std::remove_if(samples.begin(), samples.end(),
                               [&](const auto& s) { return s.time <= now - spec.stable_window; }),
                samples.end());
  d.stable_concurrency = WindowAverage(samples, now, spec.stable_window);
  d.panic_concurrency = WindowAverage(samples, now, spec.panic_window);
  const int stable_desired = static_cast<int>(std::ceil(d.stable_concurrency / spec.target_concurrency - 1e-9));
  const int panic_desired = static_cast<int>(std::ceil(d.panic_concurrency / spec.target_concurrency - 1e-9));

  // Panic when the burst needs at least panic_threshold x the ready replicas.
  const double capacity = std::max(1, ready_replicas) * spec.target_concurrency;
  const bool trigger = d.panic_concurrency / capacity >= spec.panic_threshold;
  if (trigger) {
    d.state.last_panic_trigger = now;
    if (!d.state.panic_since) {
      d.state.panic_since = now;
      d.state.panic_high_water = ready_replicas;
    }
  } else if (d.state.panic_since && d.state.last_panic_trigger &&
             now - *d.state.last_panic_trigger >= spec.stable_window) {
    d.state.panic_since.reset();
    d.state.panic_high_water = 0;
  }
  int desired = stable_desired;
  if (d.state.panic_since) {
    // In panic the count only goes up.
    desired = std::max({panic_desired, d.state.panic_high_water, ready_replicas});
    d.state.panic_high_water = desired;
    d.panicking = true;
    d.reason = absl::StrFormat("panic: %.1f concurrent over %s needs %d replicas", d.panic_concurrency,
                               absl::FormatDuration(spec.panic_window), panic_desired);
  } else {
    d.reason = absl::StrFormat("stable: %.1f concurrent over %s at %.0f per replica", d.stable_concurrency,
                               absl::FormatDuration(spec.stable_window), spec.target_concurrency);
  }

  // Rate limits relative to the ready replicas.
  if (ready_replicas > 0) {
    const int up = static_cast<int>(std::ceil(ready_replicas * spec.max_scale_up_rate));
    const int down = static_cast<int>(std::floor(ready_replicas / spec.max_scale_down_rate));
    if (desired > up) {
      desired = up;
      d.reason += "; limited by the maximum scale-up rate";
    }
    if (desired < down) {
      desired = down;
      d.reason += "; limited by the maximum scale-down rate";
    }
  }

  // Zero: only after the grace period without traffic; any request wakes the model.
  const bool idle = concurrency == 0 && pending_requests == 0 && d.stable_concurrency == 0;
  if (idle) {
    if (!d.state.idle_since) d.state.idle_since = now;
  } else {
    d.state.idle_since.reset();
  }
  if (desired == 0) {
    const bool may_be_zero = spec.allow_scale_to_zero && spec.min_replicas == 0 && d.state.idle_since &&
                             now - *d.state.idle_since >= spec.scale_to_zero_grace;
    if (pending_requests > 0 || concurrency > 0) {
      desired = 1;
      d.reason = "a request arrived: waking the model";
    } else if (!may_be_zero) {
      // Idle but not (yet) allowed to be at zero: keep one replica warm; stay at zero if there.
      const bool at_zero = ready_replicas == 0 && spec.allow_scale_to_zero && spec.min_replicas == 0;
      desired = at_zero ? 0 : 1;
      d.reason = at_zero ? "idle at zero" : "idle; keeping one replica until the scale-to-zero grace period";
    } else {
      d.reason = "idle for the grace period: scaling to zero";
    }
  }
  d.desired_replicas = std::clamp(desired, spec.min_replicas, spec.max_replicas);
  return d;
}

}  // namespace meridian::control
