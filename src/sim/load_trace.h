#pragma once

// Request-rate traces for the autoscaling simulator: requests per second for each second.
// Generators are seeded, so a trace is the same on every run.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace meridian::sim {

struct LoadTrace {
  std::string name;
  std::vector<double> rps;  // one value per second
};

// Base load, then a jump to `high` at 1/3 of the duration, back at 2/3.
LoadTrace StepTrace(int seconds, double base, double high);
// Base load with short spikes (10-30 s, 4-8x base) at random times.
LoadTrace SpikeTrace(int seconds, double base, uint64_t seed);
// One day compressed into `seconds`: a sinusoid between `low` and `high` with noise.
LoadTrace DiurnalTrace(int seconds, double low, double high, uint64_t seed);
// A CSV file of "second,rps" rows (a header row is allowed); gaps hold the previous value.
absl::StatusOr<LoadTrace> CsvTrace(const std::string& text, const std::string& name);

}  // namespace meridian::sim
