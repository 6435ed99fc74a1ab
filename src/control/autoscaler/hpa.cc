#include "control/autoscaler/hpa.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace meridian::control {
namespace {

int CeilToInt(double x) { return static_cast<int>(std::ceil(x - 1e-9)); }

// Replicas added (or removed) by events inside [now - period, now].
int ChangesWithin(const std::vector<HpaState::ScaleEvent>& events, absl::Duration period, absl::Time now) {
  int total = 0;
  for (const auto& e : events) {
    if (e.time > now - period) total += e.replicas;
  }
  return total;
}

// How high scale-up may go now (calculateScaleUpLimitWithScalingRules).
int ScaleUpLimit(int current, const HpaState& state, const ScalingRules& rules, absl::Time now) {
  if (rules.select == SelectPolicy::kDisabled) return current;
  std::optional<int> limit;
  for (const ScalingPolicy& p : rules.policies) {
    const int period_start = current - ChangesWithin(state.scale_up_events, p.period, now);
    const int proposed = p.type == ScalingPolicy::Type::kPods
                             ? period_start + p.value
                             : CeilToInt(period_start * (1.0 + p.value / 100.0));
    if (!limit) {
      limit = proposed;
    } else {
      limit = rules.select == SelectPolicy::kMax ? std::max(*limit, proposed) : std::min(*limit, proposed);
    }
  }
  return limit.value_or(current);
}

// How low scale-down may go now (calculateScaleDownLimitWithBehaviors).
int ScaleDownLimit(int current, const HpaState& state, const ScalingRules& rules, absl::Time now) {
  if (rules.select == SelectPolicy::kDisabled) return current;
  std::optional<int> limit;
  for (const ScalingPolicy& p : rules.policies) {
    const int period_start = current + ChangesWithin(state.scale_down_events, p.period, now);
    const int proposed = p.type == ScalingPolicy::Type::kPods
                             ? period_start - p.value
                             : static_cast<int>(period_start * (1.0 - p.value / 100.0));
    if (!limit) {
      limit = proposed;
    } else {
      // "Max" selects the policy that allows the biggest change, i.e. the lowest floor.
      limit = rules.select == SelectPolicy::kMax ? std::min(*limit, proposed) : std::max(*limit, proposed);
    }
  }
  return limit.value_or(current);
}

double Average(const std::vector<double>& values) {
  double sum = 0;
  for (double v : values) sum += v;
  return values.empty() ? 0 : sum / static_cast<double>(values.size());
}

}  // namespace

ScalingRules DefaultScaleUpRules() {
  return ScalingRules{.stabilization_window = absl::ZeroDuration(),
                      .select = SelectPolicy::kMax,
                      .policies = {{ScalingPolicy::Type::kPercent, 100, absl::Seconds(15)},
                                   {ScalingPolicy::Type::kPods, 4, absl::Seconds(15)}}};
}

ScalingRules DefaultScaleDownRules() {
  return ScalingRules{.stabilization_window = absl::Seconds(300),
                      .select = SelectPolicy::kMax,
                      .policies = {{ScalingPolicy::Type::kPercent, 100, absl::Seconds(15)}}};
}

MetricRecommendation CalculateReplicas(const MetricObservation& o, int current_replicas, double tolerance) {
  MetricRecommendation r{.metric = o.metric};
  if (o.target <= 0) {
    r.reason = absl::StrCat(o.metric, ": target must be positive");
    return r;
  }
  std::vector<double> ready_values;
  int unready = 0;
  int missing = 0;
  for (const PodSample& p : o.pods) {
    if (p.terminating) continue;  // ignored pods
    if (!p.value) {
      ++missing;
    } else if (!p.ready) {
      ++unready;  // its metric is set aside, like a missing one
    } else {
      ready_values.push_back(*p.value);
    }
  }
  if (ready_values.empty()) {
    r.reason = absl::StrCat(o.metric, ": no ready pod reports it yet");
    return r;
  }
  const double usage_ratio = Average(ready_values) / o.target;
  r.usage_ratio = usage_ratio;
  const bool scale_up_with_unready = unready > 0 && usage_ratio > 1.0;
  if (!scale_up_with_unready && missing == 0) {
    if (std::abs(1.0 - usage_ratio) <= tolerance) {
      r.replicas = current_replicas;
      r.reason = absl::StrFormat("%s: usage ratio %.3f within tolerance %.2f", o.metric, usage_ratio, tolerance);
      return r;
    }
    r.replicas = CeilToInt(usage_ratio * static_cast<double>(ready_values.size()));
    r.reason = absl::StrFormat("%s: average %.3g vs target %.3g (ratio %.3f) over %d ready pods", o.metric,
                               Average(ready_values), o.target, usage_ratio, static_cast<int>(ready_values.size()));
    return r;
  }
  // Conservative assumptions: on a scale down, pods without metrics count as at the target; on a
  // scale up, as idle. Not-ready pods count as idle when scaling up.
  std::vector<double> values = ready_values;
  if (missing > 0) {
    const double fill = usage_ratio < 1.0 ? o.target : 0.0;
    values.insert(values.end(), missing, fill);
  }
  if (scale_up_with_unready) values.insert(values.end(), unready, 0.0);
  const double new_ratio = Average(values) / o.target;
  r.usage_ratio = new_ratio;
  if (std::abs(1.0 - new_ratio) <= tolerance || (usage_ratio < 1.0 && new_ratio > 1.0) ||
      (usage_ratio > 1.0 && new_ratio < 1.0)) {
    r.replicas = current_replicas;
    r.reason = absl::StrFormat(
        "%s: ratio %.3f becomes %.3f counting %d pods without metrics and %d not ready; no change", o.metric,
        usage_ratio, new_ratio, missing, unready);
    return r;
  }
  int replicas = CeilToInt(new_ratio * static_cast<double>(values.size()));
  if ((new_ratio < 1.0 && replicas > current_replicas) || (new_ratio > 1.0 && replicas < current_replicas)) {
    replicas = current_replicas;
  }
  r.replicas = replicas;
  r.reason = absl::StrFormat("%s: ratio %.3f (counting %d pods without metrics and %d not ready conservatively)",
                             o.metric, new_ratio, missing, unready);
  return r;
}

HpaDecision DecideReplicas(const HpaSpec& spec, int current_replicas, const std::vector<MetricObservation>& metrics,
                           const HpaState& state, absl::Time now) {
  HpaDecision d;
  d.state = state;
  // The largest recommendation across metrics wins.
  std::optional<int> proposed;
  std::string winner;
  for (const MetricObservation& m : metrics) {
    MetricRecommendation r = CalculateReplicas(m, current_replicas, spec.tolerance);
    if (r.replicas && (!proposed || *r.replicas > *proposed)) {
      proposed = r.replicas;
      winner = r.reason;
    }
    d.metrics.push_back(std::move(r));
  }
  if (!proposed) {
    d.desired_replicas = std::clamp(current_replicas, spec.min_replicas, spec.max_replicas);
    d.reason = "no metric could be computed; keeping the current replica count";
    return d;
  }
  d.reason = winner;

  // Stabilization: remember this recommendation; scale up to at most the lowest recommendation
  // within the up window, down to at least the highest within the down window.
  const absl::Duration keep = std::max(spec.scale_up.stabilization_window, spec.scale_down.stabilization_window);
  auto& recs = d.state.recommendations;
  recs.erase(std::remove_if(recs.begin(), recs.end(), [&](const auto& r) { return r.time <= now - keep; }),
             recs.end());
  recs.push_back({now, *proposed});
  int up = *proposed;
  int down = *proposed;
  for (const auto& r : recs) {
    if (r.time > now - spec.scale_up.stabilization_window) up = std::min(up, r.replicas);
    if (r.time > now - spec.scale_down.stabilization_window) down = std::max(down, r.replicas);
  }
  int desired = current_replicas;
  if (desired < up) desired = up;
  if (desired > down) desired = down;
  if (desired != *proposed) {
    d.reason = desired > *proposed ? "held by the scale-down stabilization window" : "held by the scale-up stabilization window";
  }

  // Rate limits from the behavior policies, then min/max.
  if (desired > current_replicas) {
    const int limit = std::max(current_replicas, ScaleUpLimit(current_replicas, d.state, spec.scale_up, now));
    if (desired > limit) {
      desired = limit;
      d.reason = spec.scale_up.select == SelectPolicy::kDisabled ? "scale up is disabled" : "scale-up policy limit";
    }
    if (desired > spec.max_replicas) {
      desired = spec.max_replicas;
      d.reason = "maxReplicas";
    }
  } else if (desired < current_replicas) {
    const int limit = std::min(current_replicas, ScaleDownLimit(current_replicas, d.state, spec.scale_down, now));
    if (desired < limit) {
      desired = limit;
      d.reason = spec.scale_down.select == SelectPolicy::kDisabled ? "scale down is disabled" : "scale-down policy limit";
    }
    if (desired < spec.min_replicas) {
      desired = spec.min_replicas;
      d.reason = "minReplicas";
    }
  }
  if (desired < spec.min_replicas) {
    desired = spec.min_replicas;
    d.reason = "minReplicas";
  }
  if (desired > spec.max_replicas) {
    desired = spec.max_replicas;
    d.reason = "maxReplicas";
  }

  // Remember the move for the rate limits; forget events older than any policy period.
  absl::Duration longest = absl::ZeroDuration();
  for (const auto& p : spec.scale_up.policies) longest = std::max(longest, p.period);
  for (const auto& p : spec.scale_down.policies) longest = std::max(longest, p.period);
  auto prune = [&](std::vector<HpaState::ScaleEvent>& events) {
    events.erase(std::remove_if(events.begin(), events.end(), [&](const auto& e) { return e.time <= now - longest; }),
                 events.end());
  };
  prune(d.state.scale_up_events);
  prune(d.state.scale_down_events);
  if (desired > current_replicas) d.state.scale_up_events.push_back({now, desired - current_replicas});
  if (desired < current_replicas) d.state.scale_down_events.push_back({now, current_replicas - desired});
  d.desired_replicas = desired;
  return d;
}

}  // namespace meridian::control
