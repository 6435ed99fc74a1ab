#pragma once

// ModelInferRequest/Response <-> the protocol-neutral inference types. Raw contents are viewed,
// not copied: the gRPC request message must outlive the decoded request's execution.

#include "absl/status/statusor.h"
#include "api/grpc_predict_v2.pb.h"
#include "serving/inference.h"

namespace meridian::protocol {

absl::StatusOr<serving::InferenceRequest> DecodeGrpcInferRequest(const inference::ModelInferRequest& request);

// Outputs go out as raw_output_contents, one entry per output.
void EncodeGrpcInferResponse(const serving::InferenceResponse& response, inference::ModelInferResponse* out);

}  // namespace meridian::protocol
