#pragma once

// The seed's step rule, kept as a named policy for comparison: every check period, CPU above the
// high mark adds a fixed number of replicas (up to a maximum), below the low mark removes one
// (down to a minimum). Pure.

#include <optional>
#include <string>

#include "absl/time/time.h"

namespace meridian::control {

struct StepPolicySpec {
  absl::Duration period = absl::Seconds(60);
  double high_cpu = 0.80;
  double low_cpu = 0.30;
  int step_up = 2;
  int step_down = 1;
  int min_replicas = 2;
  int max_replicas = 20;
};

struct StepPolicyDecision {
  int desired_replicas = 0;
  std::string reason;
  std::optional<absl::Time> last_check;  // keep for the next call
};

// `cpu` is the average utilization across replicas in [0, 1+].
StepPolicyDecision DecideStep(const StepPolicySpec& spec, int current_replicas, double cpu,
                              std::optional<absl::Time> last_check, absl::Time now);

}  // namespace meridian::control
