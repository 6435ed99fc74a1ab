#pragma once

// Reads the parts of ONNX protobuf files the backend needs, straight from the protobuf wire
// format (Debian ships no ONNX C++ headers): a model's graph inputs and outputs with their types
// and shapes, its operators and opset, and TensorProto files (the conformance suite's inputs and
// expected outputs). Field numbers are those of onnx.proto.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "serving/model_signature.h"
#include "serving/tensor.h"

namespace meridian::backends::onnx {

struct OnnxModelInfo {
  serving::ModelSignature signature;  // graph inputs that are not initializers, graph outputs
  std::vector<std::string> operators;  // op_type of every node, in graph order
  int64_t opset = 0;                   // default-domain opset version
};

// ONNX TensorProto.DataType -> OIP datatype; kInvalidArgument for types OIP cannot carry.
absl::StatusOr<serving::DataType> FromOnnxType(int32_t elem_type);

absl::StatusOr<OnnxModelInfo> ReadModelInfo(absl::string_view model_bytes);
// A TensorProto (raw_data or typed repeated fields) as a tensor named by its `name` field.
absl::StatusOr<serving::Tensor> ReadTensorProto(absl::string_view bytes);

}  // namespace meridian::backends::onnx
