#pragma once

// Reads a serialized inference.ModelInferRequest straight from its wire format into an
// InferenceRequest whose input tensors view the message's bytes: no protobuf message is built and
// no tensor is copied, which on the unary gRPC path costs more than the rest of the decoding.
//
// It reads what requests commonly carry: the model's name and version, the id, parameters of the
// four kinds OIP defines (bool, int64, double, string), inputs with raw_input_contents, and
// requested outputs. Anything else (typed contents, fields it does not know, strings that are
// not ASCII, non-canonical tags, and every invalid request) it leaves to the protobuf path
// (DecodeGrpcInferRequest), which decodes or refuses it with its own messages. For every message
// it does read, the protobuf path gives the same request.

#include <memory>
#include <optional>

#include "absl/strings/string_view.h"
#include "serving/inference.h"

namespace meridian::protocol {

// nullopt: not read here (see above). The tensors view `message` and hold `owner`, which keeps it
// valid as long as a tensor does (null: the caller keeps it valid).
std::optional<serving::InferenceRequest> ReadCommonInferRequest(absl::string_view message,
                                                                const std::shared_ptr<const void>& owner);

}  // namespace meridian::protocol
