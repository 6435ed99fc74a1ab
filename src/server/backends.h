#pragma once

// The backends this build serves with. The only place that names the concrete backends.

#include "serving/backend.h"

namespace meridian::server {

void RegisterBackends(serving::BackendRegistry& registry);

}  // namespace meridian::server
