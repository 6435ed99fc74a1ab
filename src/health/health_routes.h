#pragma once

// Health endpoints:
//   GET /health            details (live, ready, draining, components, version); 200 while live
//   GET /health/live       200 {"status":"live"}
//   GET /health/ready      200 {"status":"ready"} or 503 with the reasons
//   GET /v2/health/live    OIP v2: 200 {"live":true}
//   GET /v2/health/ready   OIP v2: 200 {"ready":true} or 503 {"ready":false}

#include "absl/status/status.h"
#include "health/health_state.h"
#include "http/router.h"

namespace meridian::health {

// `state` must outlive the router's use.
absl::Status AddHealthRoutes(const HealthState* state, http::Router& router);

}  // namespace meridian::health
