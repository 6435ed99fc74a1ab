#pragma once

// Judges a canary version against the stable one over one analysis step: the error rate and the
// 95th-percentile latency of the requests each received in the step, against the objectives.
// Pure: windows in, verdict out (ARCHITECTURE.md, control/).

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace meridian::control {

// What one version's requests did over the step.
struct TrafficWindow {
  int64_t requests = 0;
  int64_t errors = 0;
  absl::Duration p95;
};

struct CanaryObjectives {
  double max_error_rate = 0.01;
  absl::Duration max_latency_p95;  // zero: none
  double max_latency_ratio = 0;    // canary p95 over stable p95; zero: none
  int64_t min_requests = 20;       // fewer canary requests: no verdict yet
};

enum class CanaryVerdict {
  kContinue,  // within the objectives so far, the step is not over (or too few requests)
  kPass,      // the step is over and the canary held every objective
  kFail,      // an objective was broken: roll back
};

struct CanaryJudgement {
  CanaryVerdict verdict = CanaryVerdict::kContinue;
  std::string reason;  // "error rate 50.0% > 1.0% over 40 requests"
};

// A canary breaking an objective fails as soon as it has `min_requests`, without waiting for the
// step to end; it passes only when the step is over.
CanaryJudgement JudgeCanaryStep(const TrafficWindow& canary, const TrafficWindow& stable,
                                const CanaryObjectives& objectives, bool step_over);

}  // namespace meridian::control
