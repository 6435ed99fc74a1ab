#pragma once

// Per-namespace quotas with Kubernetes ResourceQuota semantics: `hard` limits on requests.cpu,
// requests.memory, limits.cpu, limits.memory and requests.nvidia.com/gpu; a pod is admitted only
// if every limited total stays within its limit, and a quota on limits.* requires pods to state
// those limits. Rejections say what was requested, used and limited, as the API server does.

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "control/scheduler/cluster.h"

namespace meridian::scheduler {

// The resource names a quota may limit. Units: CPU milli, bytes, GPU milli (1000 = one GPU).
inline constexpr const char* kQuotaResources[] = {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory",
                                                  "requests.nvidia.com/gpu"};

using QuotaAmounts = std::map<std::string, int64_t>;

// What the pod counts against each quota resource.
QuotaAmounts QuotaUsageOf(const PodSpec& pod);

class ResourceQuotas {
 public:
  // Replaces the namespace's hard limits; unknown resource names and negative limits are errors.
  absl::Status SetHard(const std::string& namespace_name, const QuotaAmounts& hard);
  // OK, or ResourceExhausted ("exceeded quota ...") / FailedPrecondition ("must specify ...").
  absl::Status Admit(const PodSpec& pod) const;
  void Charge(const PodSpec& pod);
  void Release(const PodSpec& pod);
  QuotaAmounts Used(const std::string& namespace_name) const;

 private:
  std::map<std::string, QuotaAmounts> hard_;
  std::map<std::string, QuotaAmounts> used_;
};

}  // namespace meridian::scheduler
