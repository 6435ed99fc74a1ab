#pragma once

// The `meridian` command line: `serve` runs the platform; the other commands are clients of a
// running server. Exit codes: 0 success, 1 the operation failed, 2 bad usage or configuration.

namespace meridian::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int Run(int argc, char** argv);

}  // namespace meridian::cli
