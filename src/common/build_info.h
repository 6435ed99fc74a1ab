#pragma once

// Facts about this build, fixed at configure time.

#include "absl/strings/string_view.h"

namespace meridian {

struct BuildInfo {
  absl::string_view version;     // project version, e.g. "0.1.0"
  absl::string_view git_commit;  // short commit hash, or "unknown" outside a git checkout
  absl::string_view build_type;  // CMAKE_BUILD_TYPE
  absl::string_view sanitizers;  // "address,undefined" or "none"
};

const BuildInfo& GetBuildInfo();

}  // namespace meridian
