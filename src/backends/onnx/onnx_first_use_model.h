#pragma once

// A small ONNX model built in memory, for the backend to load and run once before the first real
// model (OnnxBackend::Prepare): OpenCV DNN's first use takes memory of its own (its layer
// registry, the protobuf reader, its thread pool), which would otherwise be measured as the first
// model's. It uses the operators exported models use most: Gemm, Relu, Softmax, Conv, Flatten,
// Add and Mul. Inputs: "x" FP32 [2, 16] and "image" FP32 [1, 1, 28, 28].

#include <string>

namespace meridian::backends::onnx {

std::string FirstUseModel();

}  // namespace meridian::backends::onnx
