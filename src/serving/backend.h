#pragma once

// The seam between the data plane and the ML frameworks. serving/ never includes a framework
// header; each backend (backends/<name>/) implements these interfaces and registers itself in a
// BackendRegistry under its framework name ("torchscript", "onnx", "xgboost").

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "serving/model_signature.h"
#include "serving/tensor.h"

namespace meridian::serving {

struct ModelLoadOptions {
  std::string artifact_path;
  // Declared in the version's metadata; a backend whose format carries no signature needs it,
  // others use it to check the file or fill in names.
  std::optional<ModelSignature> declared_signature;
  int intra_op_threads = 1;
};

// A model in memory, ready to execute. Execute may be called from several threads at once;
// implementations serialize internally if their framework needs it.
class LoadedModel {
 public:
  virtual ~LoadedModel() = default;
  virtual const ModelSignature& signature() const = 0;
  // Inputs were validated against signature(); returns one tensor per requested output name
  // (all outputs, in signature order, when `output_names` is empty).
  virtual absl::StatusOr<std::vector<Tensor>> Execute(const std::vector<Tensor>& inputs,
                                                      const std::vector<std::string>& output_names) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // The framework's own version, for `meridian version` and server metadata.
  virtual std::string framework_version() const = 0;
  // Makes the framework ready to load models, so that what a Load adds to the resident set is the
  // model's alone: a backend whose library is loaded on demand loads it here, and each backend
  // runs its framework once on a small built-in model, whose first-use memory (registries,
  // readers, the first call of common operators) would otherwise be charged to the first model
  // loaded. Called before every Load; cheap once ready.
  virtual absl::Status Prepare() { return absl::OkStatus(); }
  // True when the model file does not say its inputs and outputs, so the version metadata must
  // (checked when a version is pushed: see CheckVersionMetadata).
  virtual bool requires_declared_signature() const { return false; }
  // Fails with kInvalidArgument naming the problem (e.g. the unsupported operator) when the
  // file cannot be served.
  virtual absl::StatusOr<std::unique_ptr<LoadedModel>> Load(const ModelLoadOptions& options) = 0;
};

// Backends by framework name. Filled by the composition root at startup, read-only afterwards.
class BackendRegistry {
 public:
  void Register(std::unique_ptr<Backend> backend);
  // kInvalidArgument listing the known frameworks when `framework` is not one of them.
  absl::StatusOr<Backend*> Find(absl::string_view framework) const;
  std::vector<const Backend*> backends() const;

 private:
  std::map<std::string, std::unique_ptr<Backend>, std::less<>> backends_;
};

// Picks the outputs to return: `names` in order, or all of `all` when `names` is empty.
// Helper for backends whose frameworks compute every output anyway.
std::vector<Tensor> SelectOutputs(std::vector<Tensor> all, const std::vector<std::string>& names);

}  // namespace meridian::serving
