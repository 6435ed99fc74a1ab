#include "deploy/yaml_document.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace meridian::deploy {

absl::StatusOr<YAML::Node> ParseYamlDocument(absl::string_view text) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not valid YAML or JSON: ", e.what()));
  }
}

}  // namespace meridian::deploy
