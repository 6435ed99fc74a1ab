#pragma once

// Where the model repository gets model files: the registry in the platform, a folder of
// fixtures in tests. Implementations are thread-safe.

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace meridian::serving {

struct ModelArtifact {
  std::string model;
  std::string version;    // canonical SemVer
  std::string framework;  // backend name
  std::string path;       // a file whose digest was verified
  std::string metadata_json = "{}";
};

class ModelSource {
 public:
  virtual ~ModelSource() = default;
  // `ref` is a version or an alias; kNotFound when the model or version does not exist.
  virtual absl::StatusOr<ModelArtifact> Fetch(absl::string_view model, absl::string_view ref) = 0;
  // The model's servable versions, oldest first by SemVer precedence.
  virtual absl::StatusOr<std::vector<std::string>> Versions(absl::string_view model) = 0;
  // The concrete version `ref` (a version, an alias or "latest") names now; kNotFound when
  // nothing, kInvalidArgument when `ref` is not a well-formed reference.
  virtual absl::StatusOr<std::string> Resolve(absl::string_view model, absl::string_view ref) = 0;
  // Every model the source holds, by name (the repository index lists those not loaded too).
  virtual absl::StatusOr<std::vector<std::string>> Models() = 0;
};

// Checks that a model file can be loaded without risking the server: a hostile or corrupt file
// that crashes the framework's loader must crash something else.
class ModelValidator {
 public:
  virtual ~ModelValidator() = default;
  virtual absl::Status Validate(const ModelArtifact& artifact) = 0;
};

}  // namespace meridian::serving
