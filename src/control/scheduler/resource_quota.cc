#include "control/scheduler/resource_quota.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace meridian::scheduler {

QuotaAmounts QuotaUsageOf(const PodSpec& pod) {
  return {{"requests.cpu", pod.cpu_milli},
          {"requests.memory", pod.memory_bytes},
          {"limits.cpu", pod.cpu_limit_milli},
          {"limits.memory", pod.memory_limit_bytes},
          {"requests.nvidia.com/gpu", pod.total_gpu_milli()}};
}

absl::Status ResourceQuotas::SetHard(const std::string& namespace_name, const QuotaAmounts& hard) {
  for (const auto& [resource, limit] : hard) {
    if (std::find(std::begin(kQuotaResources), std::end(kQuotaResources), resource) == std::end(kQuotaResources)) {
      return absl::InvalidArgumentError(absl::StrCat("quota for ", namespace_name, ": unknown resource \"", resource,
                                                     "\" (known: requests.cpu, requests.memory, limits.cpu, "
                                                     "limits.memory, requests.nvidia.com/gpu)"));
    }
    if (limit < 0) {
      return absl::InvalidArgumentError(absl::StrCat("quota for ", namespace_name, ": ", resource, " is negative"));
    }
  }
  hard_[namespace_name] = hard;
  return absl::OkStatus();
}

absl::Status ResourceQuotas::Admit(const PodSpec& pod) const {
  auto hard = hard_.find(pod.namespace_name);
  if (hard == hard_.end()) return absl::OkStatus();
  const QuotaAmounts request = QuotaUsageOf(pod);
  const QuotaAmounts used = Used(pod.namespace_name);
  for (const auto& [resource, limit] : hard->second) {
    const int64_t asked = request.at(resource);
    if (resource.rfind("limits.", 0) == 0 && asked == 0) {
      return absl::FailedPreconditionError(absl::StrCat("pod ", pod.name, " must specify ", resource,
                                                        ": namespace ", pod.namespace_name, " has a quota on it"));
    }
    const int64_t in_use = used.count(resource) > 0 ? used.at(resource) : 0;
    if (in_use + asked > limit) {
      return absl::ResourceExhaustedError(absl::StrCat("exceeded quota in namespace ", pod.namespace_name,
                                                       ", requested: ", resource, "=", asked, ", used: ", resource,
                                                       "=", in_use, ", limited: ", resource, "=", limit));
    }
  }
  return absl::OkStatus();
}

void ResourceQuotas::Charge(const PodSpec& pod) {
  for (const auto& [resource, amount] : QuotaUsageOf(pod)) used_[pod.namespace_name][resource] += amount;
}

void ResourceQuotas::Release(const PodSpec& pod) {
  for (const auto& [resource, amount] : QuotaUsageOf(pod)) used_[pod.namespace_name][resource] -= amount;
}

QuotaAmounts ResourceQuotas::Used(const std::string& namespace_name) const {
  auto it = used_.find(namespace_name);
  return it == used_.end() ? QuotaAmounts{} : it->second;
}

}  // namespace meridian::scheduler
