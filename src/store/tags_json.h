#pragma once

// Tags (string -> string) to and from a JSON object, the form both stores keep them in.

#include <string>

#include "absl/status/statusor.h"
#include "store/records.h"

namespace meridian::store {

std::string TagsToJson(const Tags& tags);
absl::StatusOr<Tags> TagsFromJson(absl::string_view json);

}  // namespace meridian::store
