#pragma once

// Opens a model file in a child process (`meridian internal check-model`) before the server
// loads it: a file that crashes or hangs a framework's loader takes down the child, and the load
// fails with a clear error on that model only.

#include <string>

#include "absl/time/time.h"
#include "serving/model_source.h"

namespace meridian::server {

struct ChildProcessModelValidatorOptions {
  std::string executable = "/proc/self/exe";  // a meridian binary
  absl::Duration timeout = absl::Minutes(2);
};

class ChildProcessModelValidator final : public serving::ModelValidator {
 public:
  explicit ChildProcessModelValidator(const ChildProcessModelValidatorOptions& options) : options_(options) {}
  absl::Status Validate(const serving::ModelArtifact& artifact) override;

 private:
  ChildProcessModelValidatorOptions options_;
};

// The child's side: loads the file with its backend and runs one request of zeros. Returns the
// process exit code (0: servable) and writes the reason for a failure to stderr.
int RunModelCheck(absl::string_view framework, absl::string_view artifact_path, absl::string_view metadata_json);

}  // namespace meridian::server
