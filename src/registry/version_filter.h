#pragma once

// Filters for listing versions: a tag (key=value) and conditions on metadata fields, e.g.
// "metrics.accuracy>=0.9,dataset=imagenet". A condition is PATH OP VALUE with PATH a dotted path
// into the version's metadata object and OP one of = != >= <= > <. Numbers compare as numbers;
// strings and booleans support = and != only.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "store/records.h"

namespace meridian::registry {

struct MetadataCondition {
  enum class Op { kEq, kNe, kGe, kLe, kGt, kLt };
  std::vector<std::string> path;
  Op op = Op::kEq;
  std::string value;
};

struct VersionFilter {
  std::optional<std::pair<std::string, std::string>> tag;
  std::vector<MetadataCondition> conditions;

  bool Matches(const store::VersionRecord& version) const;
};

// Parses "a.b>=1,c=x" (empty: no conditions). Errors say which condition is malformed.
absl::StatusOr<std::vector<MetadataCondition>> ParseMetadataConditions(absl::string_view text);

}  // namespace meridian::registry
