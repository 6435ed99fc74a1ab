#include "control/rollout/canary_analysis.h"

#include "absl/strings/str_format.h"

namespace meridian::control {

CanaryJudgement JudgeCanaryStep(const TrafficWindow& canary, const TrafficWindow& stable,
                                const CanaryObjectives& objectives, bool step_over) {
  if (canary.requests < objectives.min_requests) {
    return {CanaryVerdict::kContinue, absl::StrFormat("waiting for %d canary requests (has %d)",
                                                      objectives.min_requests, canary.requests)};
  }
  const double error_rate = static_cast<double>(canary.errors) / static_cast<double>(canary.requests);
  if (error_rate > objectives.max_error_rate) {
    return {CanaryVerdict::kFail, absl::StrFormat("error rate %.1f%% > %.1f%% over %d requests", 100 * error_rate,
                                                  100 * objectives.max_error_rate, canary.requests)};
  }
  if (objectives.max_latency_p95 > absl::ZeroDuration() && canary.p95 > objectives.max_latency_p95) {
    return {CanaryVerdict::kFail, absl::StrFormat("p95 latency %s > %s", absl::FormatDuration(canary.p95),
                                                  absl::FormatDuration(objectives.max_latency_p95))};
  }
  if (objectives.max_latency_ratio > 0 && stable.requests > 0 && stable.p95 > absl::ZeroDuration()) {
    const double ratio = absl::FDivDuration(canary.p95, stable.p95);
    if (ratio > objectives.max_latency_ratio) {
      return {CanaryVerdict::kFail,
              absl::StrFormat("p95 latency %s is %.2fx the stable version's %s (limit %.2fx)",
                              absl::FormatDuration(canary.p95), ratio, absl::FormatDuration(stable.p95),
                              objectives.max_latency_ratio)};
    }
  }
  const std::string held = absl::StrFormat("error rate %.1f%%, p95 %s over %d requests", 100 * error_rate,
                                           absl::FormatDuration(canary.p95), canary.requests);
  return {step_over ? CanaryVerdict::kPass : CanaryVerdict::kContinue, held};
}

}  // namespace meridian::control
