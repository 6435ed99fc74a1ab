#pragma once

// Which versions of a model to serve, as in Triton's version_policy: the latest N, specific
// versions, or all. Parsed from {"latest": {"num_versions": 2}}, {"specific": {"versions":
// ["1.0.0"]}} or {"all": {}}.

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace meridian::serving {

struct VersionPolicy {
  enum class Kind { kLatest, kSpecific, kAll };
  Kind kind = Kind::kLatest;
  int latest = 1;
  std::vector<std::string> specific;

  // Picks from `available` (oldest first) the versions to serve; kNotFound names a specific
  // version that does not exist.
  absl::StatusOr<std::vector<std::string>> Select(const std::vector<std::string>& available) const;
};

absl::StatusOr<VersionPolicy> ParseVersionPolicy(absl::string_view json);

}  // namespace meridian::serving
