// libFuzzer target: the gRPC ModelInferRequest wire-format reader. Any input must give a request
// or nothing, never a crash or a read past the message (ASan); a request it gives has tensors
// whose bytes agree with their shapes and lie inside the message they view.

#include <cstddef>
#include <cstdint>
#include <string>

#include "protocol/grpc_infer_request_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string message(reinterpret_cast<const char*>(data), size);
  auto request = meridian::protocol::ReadCommonInferRequest(message, nullptr);  // `message` outlives it
  if (!request) return 0;
  if (request->inputs.empty()) __builtin_trap();
  for (const meridian::serving::Tensor& input : request->inputs) {
    if (!input.CheckConsistent().ok()) __builtin_trap();
    if (input.byte_size() > 0 &&
        (input.data() < message.data() || input.data() + input.byte_size() > message.data() + message.size())) {
      __builtin_trap();
    }
  }
  return 0;
}
