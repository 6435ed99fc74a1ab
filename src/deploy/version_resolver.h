#pragma once

// Turns a deployment's version reference into the registry version it means now: an exact
// SemVer, an alias ("production", followed as it moves), "latest", or a range ("^1.2": the
// highest READY release in it).

#include <string>

#include "absl/status/statusor.h"
#include "registry/registry.h"

namespace meridian::deploy {

// kNotFound naming what is missing; kFailedPrecondition for an archived version.
absl::StatusOr<std::string> ResolveVersion(registry::Registry& registry, const std::string& model,
                                           const std::string& ref);

}  // namespace meridian::deploy
