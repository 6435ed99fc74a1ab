#pragma once

// ModelStreamInfer (Triton's streaming extension of OIP v2 gRPC): one bidirectional stream carries
// many ModelInferRequests and their answers, which spares each request gRPC's per-call work (the
// call's creation, metadata and status). Answers go out as they complete, each with its request's
// id; a request that fails gets an answer with error_message, and the stream goes on. A stream
// holds at most kMaxStreamRequestsInFlight requests read but not yet answered: beyond that it
// stops reading, so a client that sends faster than it is answered (or than it reads its answers)
// is held back by HTTP/2 flow control instead of queueing without bound.

#include <grpcpp/grpcpp.h>

#include "api/grpc_predict_v2.grpc.pb.h"
#include "serving/inference_service.h"

namespace meridian::protocol {

inline constexpr int kMaxStreamRequestsInFlight = 128;

using InferStreamReactor = grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>;

// Serves one stream on `service`; the reactor deletes itself when the stream is done.
InferStreamReactor* StartInferStream(grpc::CallbackServerContext* context, serving::InferenceService* service);

// A stream refused before it starts (authentication, authorization): it ends with `status`.
InferStreamReactor* RefuseInferStream(const grpc::Status& status);

}  // namespace meridian::protocol
