#pragma once

// ModelStreamInfer (Triton's streaming extension of OIP v2 gRPC): one bidirectional stream carries
// many ModelInferRequests and their answers, which spares each request gRPC's per-call work (the
// call's creation, metadata and status). Answers go out as they complete, each with its request's
// id; a request that fails gets an answer with error_message, and the stream goes on. A stream
// holds at most kMaxStreamRequestsInFlight requests read but not yet answered: beyond that it
// stops reading, so a client that sends faster than it is answered (or than it reads its answers)
// is held back by HTTP/2 flow control instead of queueing without bound.

#include <grpcpp/grpcpp.h>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "api/grpc_predict_v2.grpc.pb.h"
#include "serving/inference_service.h"

namespace meridian::protocol {

inline constexpr int kMaxStreamRequestsInFlight = 128;

using InferStreamReactor = grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>;

class InferStream;

// The server's open streams, so that shutdown can end them: a stream whose client stays
// connected would otherwise hold the server until its drain timeout. Thread-safe.
class InferStreams {
 public:
  // Ends every stream, and every stream opened from now on: each stops reading, writes the
  // answers of the requests it has taken, and finishes with UNAVAILABLE (clients go elsewhere).
  void CloseAll();

 private:
  friend class InferStream;
  // False when closing has begun (the stream must close itself).
  bool Add(InferStream* stream);
  void Remove(InferStream* stream);

  absl::Mutex mu_;
  absl::flat_hash_set<InferStream*> streams_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
};

// Serves one stream on `service`; the reactor deletes itself when the stream is done. `streams`
// must outlive it.
InferStreamReactor* StartInferStream(grpc::CallbackServerContext* context, serving::InferenceService* service,
                                     InferStreams* streams);

// A stream refused before it starts (authentication, authorization): it ends with `status`.
InferStreamReactor* RefuseInferStream(const grpc::Status& status);

}  // namespace meridian::protocol
