#pragma once

// The registry's REST API under /api/v1 (see docs/registry.md). Errors are JSON with the status
// that status_codes.h assigns; every route declares its resource and verb for authorization.

#include <cstdint>

#include "absl/status/status.h"
#include "http/router.h"
#include "registry/registry.h"

namespace meridian::registry {

struct RegistryRoutesOptions {
  Registry* registry = nullptr;           // not owned; outlives the router's use
  uint64_t max_artifact_bytes = 16ull << 30;
};

absl::Status AddRegistryRoutes(const RegistryRoutesOptions& options, http::Router& router);

}  // namespace meridian::registry
