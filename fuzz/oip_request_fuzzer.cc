// libFuzzer target: the OIP v2 REST request decoder, JSON alone and with the binary tensor data
// extension. The first two bytes pick the Inference-Header-Content-Length (0xffff: no header);
// the rest is the body. Any input must give a request or a clean error, never a crash, a read
// past the body (ASan), or a tensor whose bytes disagree with its shape.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "protocol/oip_json_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t selector = static_cast<size_t>(data[0]) << 8 | data[1];
  auto body = std::make_shared<const std::string>(reinterpret_cast<const char*>(data + 2), size - 2);
  std::optional<size_t> json_length;
  if (selector != 0xffff) json_length = std::min(selector, body->size());
  auto request = meridian::protocol::DecodeInferRequest(body, json_length);
  if (!request.ok()) return 0;
  for (const meridian::serving::Tensor& input : request->inputs) {
    if (!input.CheckConsistent().ok()) __builtin_trap();
  }
  // Encoding the inputs back as outputs must work for whatever decoded.
  meridian::serving::InferenceResponse response{.model = "m", .version = "1", .id = request->id,
                                                .outputs = request->inputs};
  meridian::protocol::EncodeInferResponse(response, *request);
  return 0;
}
