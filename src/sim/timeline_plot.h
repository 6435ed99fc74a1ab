#pragma once

// Draws the simulator's timelines for one trace as a PNG (cairo): the load, the replicas of each
// policy, and each policy's per-second p95 latency against the objective.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sim/autoscale_simulator.h"

namespace meridian::sim {

// `results` are runs of different policies on the same trace.
absl::Status WriteTimelinePng(const std::string& path, const std::vector<SimulationResult>& results,
                              absl::Duration objective);

}  // namespace meridian::sim
