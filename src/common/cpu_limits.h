#pragma once

// How many CPUs this process may use: the smallest of the scheduler affinity mask and the cgroup
// CPU quota (v2 cpu.max or v1 cfs_quota/period), rounded up, at least 1. Thread counts default to
// it so that a container limited to 2 CPUs does not start 64 threads.

#include <optional>
#include "absl/strings/string_view.h"

namespace meridian {

int AvailableCpus();

// Parses the content of cgroup v2 "cpu.max" ("max 100000" or "200000 100000").
// Returns nullopt when there is no limit or the text is malformed.
std::optional<double> ParseCgroupV2CpuMax(absl::string_view content);

}  // namespace meridian
