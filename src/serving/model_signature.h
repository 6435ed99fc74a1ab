#pragma once

// What a model takes and returns: names, datatypes and shapes (-1 for a dynamic dimension).
// Backends read it from the model file where the format allows, else from the version's
// metadata; the server checks every request against it before execution.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "serving/data_type.h"
#include "serving/tensor.h"

namespace meridian::serving {

struct TensorSpec {
  std::string name;
  DataType type = DataType::kFp32;
  Shape shape;  // -1 = any size
};

struct ModelSignature {
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;

  const TensorSpec* FindInput(absl::string_view name) const;
  const TensorSpec* FindOutput(absl::string_view name) const;
};

// Reads {"inputs": [{"name", "datatype", "shape"}], "outputs": [...]} from a version's metadata
// JSON (the OIP model-metadata format). nullopt when the metadata declares neither.
absl::StatusOr<std::optional<ModelSignature>> SignatureFromMetadata(absl::string_view metadata_json);

// Checks a request's inputs against the signature: every declared input present exactly once,
// no unknown inputs, matching datatype, rank and fixed dimensions, and data length matching the
// shape; requested outputs must exist. Errors say which input and what to fix.
absl::Status ValidateRequest(const ModelSignature& signature, const std::vector<Tensor>& inputs,
                             const std::vector<std::string>& requested_outputs);

// Shape agrees with a spec (same rank, equal wherever the spec is not -1).
bool ShapeMatches(const Shape& spec, const Shape& actual);

}  // namespace meridian::serving
