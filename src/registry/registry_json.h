#pragma once

// The registry's REST representation: records to JSON and request bodies from JSON. The one
// definition of these shapes; the CLI reads the same JSON. Field names are camelCase.
// Parsers reject unknown fields and wrong types with a message naming the field.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "registry/registry.h"

namespace meridian::registry {

std::string ModelJson(const store::ModelRecord& model);
std::string ModelPageJson(const store::ModelPage& page);
std::string VersionJson(const store::VersionRecord& version);
std::string VersionPageJson(const VersionPage& page);
std::string AliasJson(const store::AliasRecord& alias);
std::string AliasListJson(const std::vector<store::AliasRecord>& aliases);
std::string AliasHistoryJson(const std::vector<store::AliasEvent>& events);

absl::StatusOr<CreateModelRequest> ParseCreateModel(absl::string_view body);
absl::StatusOr<UpdateModelRequest> ParseUpdateModel(absl::string_view body);
// `model` comes from the path.
absl::StatusOr<RegisterVersionRequest> ParseRegisterVersion(absl::string_view model, absl::string_view body);
absl::StatusOr<UpdateVersionRequest> ParseUpdateVersion(absl::string_view body);

struct SetAliasRequest {
  std::string version;
  std::string reason;
};
absl::StatusOr<SetAliasRequest> ParseSetAlias(absl::string_view body);
// {"reason": "..."}; an empty body is allowed.
absl::StatusOr<std::string> ParseReason(absl::string_view body);

}  // namespace meridian::registry
