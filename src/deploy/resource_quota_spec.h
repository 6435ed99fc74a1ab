#pragma once

// A namespace's ResourceQuota, written as Kubernetes writes it (apiVersion v1, kind
// ResourceQuota, spec.hard with requests.cpu, requests.memory, limits.cpu, limits.memory,
// requests.nvidia.com/gpu; "cpu" and "memory" stand for the requests). Deployments' replicas
// are admitted only while their namespace's totals stay within every quota there.

#include <string>

#include "absl/status/statusor.h"
#include "control/scheduler/resource_quota.h"

namespace meridian::deploy {

struct ResourceQuotaSpec {
  std::string namespace_name = "default";
  std::string name;
  scheduler::QuotaAmounts hard;  // milli CPU, bytes, milli GPU
};

// kInvalidArgument listing every error with its field path.
absl::StatusOr<ResourceQuotaSpec> ParseResourceQuota(absl::string_view text,
                                                     absl::string_view default_namespace = "default");
// {"requests.cpu":"4","requests.memory":"8Gi",...}: what is stored and shown.
std::string QuotaAmountsJson(const scheduler::QuotaAmounts& amounts);
// The inverse of QuotaAmountsJson.
absl::StatusOr<scheduler::QuotaAmounts> ParseQuotaAmountsJson(absl::string_view json);

}  // namespace meridian::deploy
