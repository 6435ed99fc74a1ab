#pragma once

// ModelStreamInfer (Triton's streaming extension of OIP v2 gRPC): one bidirectional stream carries
// many ModelInferRequests and their answers, which spares each request a call's own work (its
// headers and status). Answers go out as they complete, each with its request's id; a request
// that fails gets an answer with error_message, and the stream goes on. A stream holds at most
// kMaxStreamRequestsInFlight requests read but not yet answered or whose answers the client has
// not yet taken: beyond that it stops reading, so a client that sends faster than it is answered
// (or than it reads its answers) is held back by HTTP/2 flow control instead of queueing without
// bound.

#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "protocol/grpc_call.h"
#include "serving/inference_service.h"

namespace meridian::protocol {

inline constexpr int kMaxStreamRequestsInFlight = 128;

class InferStream;

// The server's open streams, so that shutdown can end them: a stream whose client stays
// connected would otherwise hold the server until its drain timeout. Thread-safe.
class InferStreams {
 public:
  // Ends every stream, and every stream opened from now on: each stops reading, sends the
  // answers of the requests it has taken, and finishes with UNAVAILABLE (clients go elsewhere).
  void CloseAll();

 private:
  friend class InferStream;
  // False when closing has begun (the stream must close itself).
  bool Add(const std::shared_ptr<InferStream>& stream);
  void Remove(const InferStream* stream);

  absl::Mutex mu_;
  absl::flat_hash_map<const InferStream*, std::weak_ptr<InferStream>> streams_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
};

// Serves the stream `call` on `service` until the client ends it, registered in `streams` (held:
// an instance thread may finish the stream's last request after the server is gone). On the call's
// I/O thread.
void StartInferStream(std::shared_ptr<GrpcCall> call, serving::InferenceService* service,
                      std::shared_ptr<InferStreams> streams);

}  // namespace meridian::protocol
