#pragma once

// The process's malloc. Release builds of the server link jemalloc (its thread caches make the
// data plane's many small per-request allocations cheap: +11 % requests/s at 64 clients, see
// docs/benchmarks.md); sanitizer builds keep glibc's, which ASan replaces.

#include "absl/strings/string_view.h"

namespace meridian {

// "jemalloc" or "glibc".
absl::string_view AllocatorName();

// Hands memory that has been freed back to the system now instead of when the allocator gets to
// it, so that a resident-memory reading reflects what is in use (before measuring a model load,
// after unloading one).
void ReleaseFreedMemory();

}  // namespace meridian
