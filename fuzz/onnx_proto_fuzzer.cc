// libFuzzer target: the ONNX protobuf reader the ONNX backend runs on uploaded model files and
// the conformance suite's tensors. Hostile bytes must give an error, never a crash.

#include <cstddef>
#include <cstdint>

#include "backends/onnx/onnx_proto.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto info = meridian::backends::onnx::ReadModelInfo(bytes);
  (void)info;
  auto tensor = meridian::backends::onnx::ReadTensorProto(bytes);
  if (tensor.ok() && !tensor->CheckConsistent().ok()) __builtin_trap();
  return 0;
}
