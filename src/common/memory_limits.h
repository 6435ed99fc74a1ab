#pragma once

// Memory this process uses and may use: resident set size (what a model load adds is measured
// as the RSS difference, not declared) and the cgroup memory limit (v2 memory.max or v1
// memory.limit_in_bytes), else physical memory.

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"

namespace meridian {

// Resident set size in bytes, from /proc/self/statm.
uint64_t ResidentMemoryBytes();

// The cgroup limit, or physical memory when there is none.
uint64_t MemoryLimitBytes();

// Parses cgroup v2 "memory.max" or v1 "memory.limit_in_bytes" content; nullopt for "max", for
// v1's "no limit" sentinel (near 2^63) or malformed text.
std::optional<uint64_t> ParseCgroupMemoryLimit(absl::string_view content);

}  // namespace meridian
