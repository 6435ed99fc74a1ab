// libFuzzer target: ModelDeployment and ResourceQuota documents (YAML or JSON, from users). Never
// crashes or hangs; a spec that parses writes canonical JSON that parses back to the same JSON.

#include <cstddef>
#include <cstdint>
#include <string>

#include "deploy/model_deployment_parser.h"
#include "deploy/resource_quota_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto spec = meridian::deploy::ParseModelDeployment(text);
  if (spec.ok()) {
    const std::string json = meridian::deploy::ModelDeploymentToJson(*spec);
    auto again = meridian::deploy::ParseModelDeployment(json);
    if (!again.ok() || meridian::deploy::ModelDeploymentToJson(*again) != json) __builtin_trap();
  }
  auto quota = meridian::deploy::ParseResourceQuota(text);
  if (quota.ok()) {
    auto hard = meridian::deploy::ParseQuotaAmountsJson(meridian::deploy::QuotaAmountsJson(quota->hard));
    if (!hard.ok() || *hard != quota->hard) __builtin_trap();
  }
  return 0;
}
