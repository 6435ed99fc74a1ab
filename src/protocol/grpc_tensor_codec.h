#pragma once

// ModelInferRequest -> the protocol-neutral inference request. Raw contents are viewed, not
// copied; each viewing tensor holds an owner that keeps the bytes valid, so a request may outlive
// the call that carried it (a shadow deployment's copy still queued when the call has its answer).
// Answers are written by grpc_infer_response_writer.h.

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/grpc_predict_v2.pb.h"
#include "serving/inference.h"

namespace meridian::protocol {

// Tensors of raw contents view `request`'s bytes and hold `owner`, which keeps `request` valid
// (null: the caller keeps it valid until the decoded request is gone).
absl::StatusOr<serving::InferenceRequest> DecodeGrpcInferRequest(const inference::ModelInferRequest& request,
                                                                 const std::shared_ptr<const void>& owner);

// A serialized ModelInferRequest, read straight from its bytes when ReadCommonInferRequest can
// (the tensors then view `bytes` and hold `owner`, which keeps them valid), else parsed by
// protobuf into *parsed and decoded (the tensors view and hold *parsed). nullopt: `bytes` is not
// a valid ModelInferRequest (*parsed holds what protobuf made of it).
std::optional<absl::StatusOr<serving::InferenceRequest>> DecodeGrpcInferMessage(
    absl::string_view bytes, const std::shared_ptr<const void>& owner,
    std::shared_ptr<inference::ModelInferRequest>* parsed);

}  // namespace meridian::protocol
