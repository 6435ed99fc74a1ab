#pragma once

// Kubernetes resource quantities (apimachinery's resource.Quantity) as specs write them:
// "500m" or "0.5" or "2" CPUs; "256Mi", "1Gi", "100M", "1e9" or "1073741824" bytes. Errors say
// what was expected.

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meridian {

// The quantity in thousandths ("500m" -> 500, "2" -> 2000, "0.25" -> 250): CPU and GPU shares.
absl::StatusOr<int64_t> ParseMilliQuantity(absl::string_view text);
// The quantity in whole units, binary (Ki Mi Gi Ti) or decimal (k M G T) suffixes: memory.
absl::StatusOr<int64_t> ParseByteQuantity(absl::string_view text);

}  // namespace meridian
