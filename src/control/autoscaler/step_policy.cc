#include "control/autoscaler/step_policy.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace meridian::control {

StepPolicyDecision DecideStep(const StepPolicySpec& spec, int current_replicas, double cpu,
                              std::optional<absl::Time> last_check, absl::Time now) {
  StepPolicyDecision d{.desired_replicas = std::clamp(current_replicas, spec.min_replicas, spec.max_replicas),
                       .last_check = last_check};
  if (last_check && now - *last_check < spec.period) {
    d.reason = "between checks";
    return d;
  }
  d.last_check = now;
  if (cpu > spec.high_cpu) {
    d.desired_replicas = std::min(spec.max_replicas, current_replicas + spec.step_up);
    d.reason = absl::StrFormat("cpu %.0f%% above %.0f%%: +%d", cpu * 100, spec.high_cpu * 100, spec.step_up);
  } else if (cpu < spec.low_cpu) {
    d.desired_replicas = std::max(spec.min_replicas, current_replicas - spec.step_down);
    d.reason = absl::StrFormat("cpu %.0f%% below %.0f%%: -%d", cpu * 100, spec.low_cpu * 100, spec.step_down);
  } else {
    d.reason = absl::StrFormat("cpu %.0f%% within [%.0f%%, %.0f%%]", cpu * 100, spec.low_cpu * 100, spec.high_cpu * 100);
  }
  return d;
}

}  // namespace meridian::control
