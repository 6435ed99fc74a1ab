#pragma once

// ModelInferRequest -> the protocol-neutral inference request. Raw contents are viewed, not
// copied: the gRPC request message must outlive the decoded request's execution. Answers are
// written by grpc_infer_response_writer.h.

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/grpc_predict_v2.pb.h"
#include "serving/inference.h"

namespace meridian::protocol {

absl::StatusOr<serving::InferenceRequest> DecodeGrpcInferRequest(const inference::ModelInferRequest& request);

// A serialized ModelInferRequest, read straight from its bytes when ReadCommonInferRequest can
// (the tensors then view `bytes`), else parsed by protobuf into *parsed and decoded (the tensors
// view *parsed). nullopt: `bytes` is not a valid ModelInferRequest (*parsed holds what protobuf
// made of it). Whichever the tensors view must outlive the request's execution.
std::optional<absl::StatusOr<serving::InferenceRequest>> DecodeGrpcInferMessage(
    absl::string_view bytes, std::shared_ptr<inference::ModelInferRequest>* parsed);


}  // namespace meridian::protocol
