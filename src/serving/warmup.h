#pragma once

// Warm-up: requests of zeros, shaped by the signature (dynamic dimensions as 1), run before a
// version reports ready, so that the first real request does not pay for lazy initialization.

#include "absl/status/status.h"
#include "serving/backend.h"

namespace meridian::serving {

// Runs `requests` warm-up executions; skipped (OK) for models with BYTES inputs.
absl::Status WarmUp(LoadedModel& model, int requests);

}  // namespace meridian::serving
