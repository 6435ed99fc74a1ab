#pragma once

// The process's limit on open files (RLIMIT_NOFILE). Every client connection holds a descriptor,
// and a distribution's default soft limit (often 1024) is far below what a server is allowed (the
// hard limit): without raising it, a thousand idle connections would refuse the next client and
// fail the next model load.

#include <cstdint>

#include "absl/status/statusor.h"

namespace meridian {

// Raises the soft limit to the hard limit (a no-op when they are equal); returns the soft limit
// now in force.
absl::StatusOr<uint64_t> RaiseOpenFileLimit();

// The soft limit in force now (RLIM_INFINITY as the largest uint64_t).
absl::StatusOr<uint64_t> OpenFileLimit();

}  // namespace meridian
