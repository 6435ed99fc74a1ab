#pragma once

// ONNX models through OpenCV's DNN module (CPU). The signature comes from the model file's graph
// inputs and outputs. OpenCV covers a subset of ONNX (see docs/benchmarks.md for the conformance
// count); a model it cannot import fails to load with an error that names the operator.

#include <memory>

#include "serving/backend.h"

namespace meridian::backends {

std::unique_ptr<serving::Backend> MakeOnnxBackend();

}  // namespace meridian::backends
