#pragma once

// Writes the gRPC message for an inference answer (the 5-byte prefix and a serialized
// inference.ModelInferResponse) straight from the answer: byte for byte what FrameMessage of
// EncodeGrpcInferResponse gives, without building a protobuf message, and with each output's
// bytes copied once.

#include <string>

#include "serving/inference.h"

namespace meridian::protocol {

std::string FramedInferResponse(const serving::InferenceResponse& response);

}  // namespace meridian::protocol
