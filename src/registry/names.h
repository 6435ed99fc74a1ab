#pragma once

// Validation of what users name in the registry. Every error says what the rule is.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "store/records.h"

namespace meridian::registry {

// DNS label (RFC 1123): 1-63 characters, lower-case letters, digits and '-', starting and ending
// with a letter or digit. Used for model, alias and namespace names.
absl::Status ValidateDnsLabel(absl::string_view kind, absl::string_view name);
absl::Status ValidateModelName(absl::string_view name);
// An alias also may not be "latest", which the registry computes.
absl::Status ValidateAliasName(absl::string_view name);
// torchscript, onnx or xgboost.
absl::Status ValidateFramework(absl::string_view framework);
// Keys: 1-63 of [A-Za-z0-9._-]; values: at most 256 bytes.
absl::Status ValidateTags(const store::Tags& tags);

inline constexpr size_t kMaxMetadataBytes = 64 * 1024;
// A JSON object of at most kMaxMetadataBytes.
absl::Status ValidateMetadataJson(absl::string_view json);

}  // namespace meridian::registry
