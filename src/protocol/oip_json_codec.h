#pragma once

// The Open Inference Protocol v2 REST body: JSON, optionally followed by the binary tensor data
// extension (the JSON's length in the Inference-Header-Content-Length header, tensors with a
// `binary_data_size` parameter read in order from the bytes after it).

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "serving/inference.h"

namespace meridian::protocol {

// Decodes a request body. Binary tensors are views into `body` (no copy); `json_length` is the
// Inference-Header-Content-Length value when the header was sent.
absl::StatusOr<serving::InferenceRequest> DecodeInferRequest(std::shared_ptr<const std::string> body,
                                                             std::optional<size_t> json_length);

struct EncodedBody {
  std::string body;
  // Set when some output went out as binary data: the Inference-Header-Content-Length value.
  std::optional<size_t> json_length;
};

// Encodes the response; outputs go out as binary data when the request asked for it (the
// output's `binary_data` parameter, or the request's `binary_data_output`).
EncodedBody EncodeInferResponse(const serving::InferenceResponse& response, const serving::InferenceRequest& request);

// Parses an Inference-Header-Content-Length value.
absl::StatusOr<size_t> ParseHeaderLength(absl::string_view value, size_t body_size);

// Writes an OIP parameters object.
void WriteParameters(const serving::Parameters& parameters, rapidjson::Writer<rapidjson::StringBuffer>& writer);

}  // namespace meridian::protocol
