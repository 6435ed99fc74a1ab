#include "registry/names.h"
#include "common/json.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"

namespace meridian::registry {

absl::Status ValidateDnsLabel(absl::string_view kind, absl::string_view name) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid ", kind, " \"", name, "\": ", why,
        " (use 1-63 lower-case letters, digits and '-', starting and ending with a letter or digit)"));
  };
  if (name.empty()) return invalid("it is empty");
  if (name.size() > 63) return invalid("it is longer than 63 characters");
  for (char c : name) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-')) {
      return invalid(absl::StrCat("character '", absl::CEscape(absl::string_view(&c, 1)), "' is not allowed"));
    }
  }
  if (name.front() == '-' || name.back() == '-') return invalid("it starts or ends with '-'");
  return absl::OkStatus();
}

absl::Status ValidateModelName(absl::string_view name) { return ValidateDnsLabel("model name", name); }

absl::Status ValidateAliasName(absl::string_view name) {
  if (name == "latest") {
    return absl::InvalidArgumentError(
        "\"latest\" is computed by the registry (the highest release version) and cannot be set");
  }
  return ValidateDnsLabel("alias name", name);
}

absl::Status ValidateFramework(absl::string_view framework) {
  if (framework == "torchscript" || framework == "onnx" || framework == "xgboost") return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown framework \"", framework, "\": use torchscript, onnx or xgboost"));
}

absl::Status ValidateTags(const store::Tags& tags) {
  for (const auto& [key, value] : tags) {
    const bool key_ok = !key.empty() && key.size() <= 63 &&
                        std::all_of(key.begin(), key.end(), [](char c) {
                          return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
                        });
    if (!key_ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid tag key \"", key, "\": use 1-63 characters of [A-Za-z0-9._-]"));
    }
    if (value.size() > 256) {
      return absl::InvalidArgumentError(absl::StrCat("tag \"", key, "\" is longer than 256 bytes"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateMetadataJson(absl::string_view json) {
  if (json.size() > kMaxMetadataBytes) {
    return absl::InvalidArgumentError(absl::StrCat("metadata is ", json.size(), " bytes; the limit is ",
                                                   kMaxMetadataBytes, " bytes"));
  }
  rapidjson::Document doc;
  if (absl::Status parsed = ParseUntrustedJson(json, doc); !parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("metadata: ", parsed.message()));
  }
  if (!doc.IsObject()) return absl::InvalidArgumentError("metadata must be a JSON object");
  return absl::OkStatus();
}

}  // namespace meridian::registry
