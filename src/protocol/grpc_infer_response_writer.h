#pragma once

// Writes the gRPC message for an inference answer (the 5-byte prefix and a serialized
// inference.ModelInferResponse, or a ModelStreamInferResponse holding one) straight from the
// answer: byte for byte what protobuf would serialize (outputs as raw_output_contents, one entry
// per output), without building a protobuf message, and with each output's bytes copied once.

#include <string>

#include "serving/inference.h"

namespace meridian::protocol {

std::string FramedInferResponse(const serving::InferenceResponse& response);
// The same answer as a ModelStreamInferResponse (no error message), for ModelStreamInfer.
std::string FramedStreamInferResponse(const serving::InferenceResponse& response);

}  // namespace meridian::protocol
