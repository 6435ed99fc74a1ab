#include "deploy/resource_quota_spec.h"


#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json.h"
#include "deploy/yaml_document.h"
#include "common/quantity.h"
#include "registry/names.h"

namespace meridian::deploy {
namespace {

// "cpu" and "memory" are Kubernetes' short names for the requests.
std::string CanonicalResource(const std::string& name) {
  if (name == "cpu") return "requests.cpu";
  if (name == "memory") return "requests.memory";
  return name;
}

bool IsMemory(const std::string& resource) { return resource.find("memory") != std::string::npos; }

// Reads spec.hard (or a stored hard object) into `out`, adding errors under `path`.
void ReadHard(const YAML::Node& hard, const std::string& path, scheduler::QuotaAmounts* out,
              std::vector<std::string>* errors) {
  if (!hard.IsMap()) {
    errors->push_back(absl::StrCat(path, ": must be an object of resource: quantity"));
    return;
  }
  for (const auto& kv : hard) {
    const std::string resource = CanonicalResource(kv.first.Scalar());
    const std::string field = absl::StrCat(path, ".", kv.first.Scalar());
    bool known = false;
    for (const char* r : scheduler::kQuotaResources) known = known || resource == r;
    if (!known) {
      errors->push_back(absl::StrCat(field, ": unknown resource (requests.cpu, requests.memory, limits.cpu, "
                                            "limits.memory, requests.nvidia.com/gpu)"));
      continue;
    }
    if (!kv.second.IsScalar()) {
      errors->push_back(absl::StrCat(field, ": must be a quantity"));
      continue;
    }
    absl::StatusOr<int64_t> amount =
        IsMemory(resource) ? ParseByteQuantity(kv.second.Scalar()) : ParseMilliQuantity(kv.second.Scalar());
    if (!amount.ok()) {
      errors->push_back(absl::StrCat(field, ": ", amount.status().message()));
      continue;
    }
    (*out)[resource] = *amount;
  }
}

absl::Status Invalid(const std::vector<std::string>& errors) {
  return absl::InvalidArgumentError(absl::StrCat("invalid ResourceQuota (", errors.size(),
                                                 errors.size() == 1 ? " error): " : " errors): ",
                                                 absl::StrJoin(errors, "; ")));
}

}  // namespace

absl::StatusOr<ResourceQuotaSpec> ParseResourceQuota(absl::string_view text, absl::string_view default_namespace) {
  absl::StatusOr<YAML::Node> parsed = ParseYamlDocument(text);
  if (!parsed.ok()) return parsed.status();
  const YAML::Node doc = *parsed;
  if (!doc.IsMap()) return absl::InvalidArgumentError("invalid ResourceQuota: the document must be an object");
  std::vector<std::string> errors;
  ResourceQuotaSpec out{.namespace_name = std::string(default_namespace)};
  if (!doc["apiVersion"] || doc["apiVersion"].Scalar() != "v1") errors.push_back("apiVersion: must be v1");
  if (!doc["kind"] || doc["kind"].Scalar() != "ResourceQuota") errors.push_back("kind: must be ResourceQuota");
  const YAML::Node metadata = doc["metadata"];
  if (!metadata || !metadata.IsMap() || !metadata["name"]) {
    errors.push_back("metadata.name: is required");
  } else {
    out.name = metadata["name"].Scalar();
    if (absl::Status s = registry::ValidateDnsLabel("quota name", out.name); !s.ok()) {
      errors.push_back(absl::StrCat("metadata.name: ", s.message()));
    }
    if (metadata["namespace"]) {
      out.namespace_name = metadata["namespace"].Scalar();
      if (absl::Status s = registry::ValidateDnsLabel("namespace", out.namespace_name); !s.ok()) {
        errors.push_back(absl::StrCat("metadata.namespace: ", s.message()));
      }
    }
  }
  const YAML::Node spec = doc["spec"];
  if (!spec || !spec.IsMap() || !spec["hard"]) {
    errors.push_back("spec.hard: is required");
  } else {
    ReadHard(spec["hard"], "spec.hard", &out.hard, &errors);
  }
  if (!errors.empty()) return Invalid(errors);
  return out;
}

std::string QuotaAmountsJson(const scheduler::QuotaAmounts& amounts) {
  std::string out = "{";
  for (const auto& [resource, amount] : amounts) {
    if (out.size() > 1) out += ",";
    std::string value;
    if (IsMemory(resource)) {
      value = absl::StrCat(amount);
      for (auto [suffix, shift] : {std::pair{"Gi", 30}, {"Mi", 20}, {"Ki", 10}}) {
        if (amount != 0 && amount % (int64_t{1} << shift) == 0) {
          value = absl::StrCat(amount >> shift, suffix);
          break;
        }
      }
    } else {
      value = amount % 1000 == 0 ? absl::StrCat(amount / 1000) : absl::StrCat(amount, "m");
    }
    absl::StrAppend(&out, JsonQuote(resource), ":", JsonQuote(value));
  }
  return out + "}";
}

absl::StatusOr<scheduler::QuotaAmounts> ParseQuotaAmountsJson(absl::string_view json) {
  absl::StatusOr<YAML::Node> node = ParseYamlDocument(json);
  if (!node.ok()) return node.status();
  scheduler::QuotaAmounts out;
  std::vector<std::string> errors;
  ReadHard(*node, "hard", &out, &errors);
  if (!errors.empty()) return Invalid(errors);
  return out;
}

}  // namespace meridian::deploy
