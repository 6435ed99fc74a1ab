#pragma once

// Memory this process uses and may use: the resident memory it allocated (what a model load adds
// is measured as its difference, not declared) and the cgroup memory limit (v2 memory.max or v1
// memory.limit_in_bytes), else physical memory.

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"

namespace meridian {

// Resident memory the process allocated (anonymous pages), in bytes, from /proc/self/statm. Pages
// of mapped files are left out: running a framework's code path for the first time brings its
// library's code in (130 KB measured freezing the first TorchScript MLP), which is shared,
// reclaimable and no model's memory. Every backend reads model files into allocated memory.
uint64_t AllocatedResidentBytes();

// The cgroup limit, or physical memory when there is none.
uint64_t MemoryLimitBytes();

// Parses cgroup v2 "memory.max" or v1 "memory.limit_in_bytes" content; nullopt for "max", for
// v1's "no limit" sentinel (near 2^63) or malformed text.
std::optional<uint64_t> ParseCgroupMemoryLimit(absl::string_view content);

}  // namespace meridian
