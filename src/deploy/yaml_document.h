#pragma once

// Parses a spec document (YAML, of which JSON is a subset) without letting yaml-cpp's exceptions
// out: a malformed document is kInvalidArgument with yaml-cpp's line and column.

#include <yaml-cpp/yaml.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meridian::deploy {

absl::StatusOr<YAML::Node> ParseYamlDocument(absl::string_view text);

}  // namespace meridian::deploy
