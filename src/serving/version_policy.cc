#include "serving/version_policy.h"
#include "common/json.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"

namespace meridian::serving {

absl::StatusOr<std::vector<std::string>> VersionPolicy::Select(const std::vector<std::string>& available) const {
  switch (kind) {
    case Kind::kAll:
      return available;
    case Kind::kLatest: {
      const size_t n = std::min(available.size(), static_cast<size_t>(latest));
      return std::vector<std::string>(available.end() - static_cast<std::ptrdiff_t>(n), available.end());
    }
    case Kind::kSpecific:
      for (const std::string& version : specific) {
        if (std::find(available.begin(), available.end(), version) == available.end()) {
          return absl::NotFoundError(absl::StrCat("version ", version, " is not registered"));
        }
      }
      return specific;
  }
  return absl::InternalError("unknown version policy");
}

absl::StatusOr<VersionPolicy> ParseVersionPolicy(absl::string_view json) {
  rapidjson::Document doc;
  const bool parse_failed = !ParseUntrustedJson(json, doc).ok();
  const char* kUsage =
      "version_policy must be {\"latest\": {\"num_versions\": N}}, {\"specific\": {\"versions\": [...]}} or "
      "{\"all\": {}}";
  if (parse_failed || !doc.IsObject() || doc.MemberCount() != 1) return absl::InvalidArgumentError(kUsage);
  VersionPolicy policy;
  const auto& member = *doc.MemberBegin();
  const std::string kind = member.name.GetString();
  if (!member.value.IsObject()) return absl::InvalidArgumentError(kUsage);
  if (kind == "all") {
    policy.kind = VersionPolicy::Kind::kAll;
  } else if (kind == "latest") {
    auto n = member.value.FindMember("num_versions");
    if (n == member.value.MemberEnd() || !n->value.IsInt() || n->value.GetInt() < 1) {
      return absl::InvalidArgumentError("version_policy latest.num_versions must be an integer >= 1");
    }
    policy.latest = n->value.GetInt();
  } else if (kind == "specific") {
    policy.kind = VersionPolicy::Kind::kSpecific;
    auto versions = member.value.FindMember("versions");
    if (versions == member.value.MemberEnd() || !versions->value.IsArray() || versions->value.Empty()) {
      return absl::InvalidArgumentError("version_policy specific.versions must be a non-empty array of versions");
    }
    for (const auto& v : versions->value.GetArray()) {
      if (!v.IsString()) return absl::InvalidArgumentError("version_policy specific.versions must hold strings");
      policy.specific.push_back(v.GetString());
    }
  } else {
    return absl::InvalidArgumentError(kUsage);
  }
  return policy;
}

}  // namespace meridian::serving
