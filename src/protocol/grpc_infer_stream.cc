#include "protocol/grpc_infer_stream.h"

#include <memory>

#include "api/grpc_predict_v2.pb.h"
#include "protocol/grpc_infer_response_writer.h"
#include "protocol/grpc_tensor_codec.h"

namespace meridian::protocol {

// Everything of a stream runs on its call's I/O thread (answers computed elsewhere are handed
// there with GrpcCall::Run), so its state needs no lock.
class InferStream final : public std::enable_shared_from_this<InferStream> {
  using Request = inference::ModelInferRequest;
  using Answer = inference::ModelStreamInferResponse;

 public:
  InferStream(std::shared_ptr<GrpcCall> call, serving::InferenceService* service, std::shared_ptr<InferStreams> streams)
      : call_(std::move(call)), service_(service), streams_(std::move(streams)) {}
  ~InferStream() { streams_->Remove(this); }

  void Start() {
    // The call's handlers hold the stream until the call is over.
    std::shared_ptr<InferStream> self = shared_from_this();
    GrpcCall::Start(call_, {.message = [self](GrpcMessage message) { self->OnMessage(std::move(message)); },
                            .end =
                                [self] {
                                  self->client_done_ = true;
                                  self->FinishIfDone();
                                },
                            .cancelled = [self] { self->cancelled_ = true; },
                            .sent =
                                [self] {
                                  --self->outstanding_;
                                  self->ReadOnIfRoom();
                                  self->FinishIfDone();
                                }});
    if (!streams_->Add(self)) Close();
  }

  // Stops taking requests: the stream finishes, with UNAVAILABLE, once the answers of those it has
  // taken are sent. On the I/O thread.
  void Close() {
    closing_ = true;
    call_->Pause();
    FinishIfDone();
  }

  const std::shared_ptr<GrpcCall>& call() const { return call_; }

 private:
  void OnMessage(GrpcMessage message) {
    if (closing_) return;  // taken after shutdown began: not answered
    ++outstanding_;
    if (outstanding_ >= kMaxStreamRequestsInFlight) call_->Pause();
    // The decoded tensors view the message and hold it.
    auto whole = std::make_shared<const GrpcMessage>(std::move(message));
    std::shared_ptr<Request> parsed;
    std::optional<absl::StatusOr<serving::InferenceRequest>> read =
        DecodeGrpcInferMessage(whole->bytes(), whole, &parsed);
    if (!read) {
      return Deliver(FailedAnswer(*parsed, absl::InvalidArgumentError(
                                               "a stream message is not a valid inference.ModelInferRequest")));
    }
    absl::StatusOr<serving::InferenceRequest>& decoded = *read;
    // Only what protobuf decoded can be refused: what the reader reads is valid.
    if (!decoded.ok()) return Deliver(FailedAnswer(*parsed, decoded.status()));
    decoded->client_gone = [call = call_] { return call->cancelled(); };
    decoded->may_execute_batch_inline = true;
    Identity identity{.model = decoded->model, .version = decoded->version, .id = decoded->id};
    service_->Infer(std::move(*decoded), [self = shared_from_this(), identity = std::move(identity)](
                                             absl::StatusOr<serving::InferenceResponse> result) {
      std::string framed = result.ok() ? FramedStreamInferResponse(*result)
                                       : FrameMessage(FailedAnswer(identity, result.status()));
      self->call_->Run([self, framed = std::move(framed)]() mutable { self->Deliver(std::move(framed)); });
    });
  }

  // What a failed answer repeats of its request.
  struct Identity {
    std::string model;
    std::string version;
    std::string id;
  };
  static Answer FailedAnswer(const Request& request, const absl::Status& status) {
    return FailedAnswer({.model = request.model_name(), .version = request.model_version(), .id = request.id()},
                        status);
  }
  static Answer FailedAnswer(const Identity& identity, const absl::Status& status) {
    Answer answer;
    answer.set_error_message(std::string(status.message()));
    inference::ModelInferResponse* response = answer.mutable_infer_response();
    response->set_model_name(identity.model);
    response->set_model_version(identity.version);
    response->set_id(identity.id);
    return answer;
  }
  void Deliver(const Answer& answer) { Deliver(FrameMessage(answer)); }

  // An answer is ready: it counts as outstanding until the client's window takes it.
  void Deliver(std::string framed) {
    if (cancelled_ || call_->finished()) {
      --outstanding_;
      return FinishIfDone();
    }
    call_->SendMessage(std::move(framed));
  }

  void ReadOnIfRoom() {
    if (!closing_ && !cancelled_ && outstanding_ < kMaxStreamRequestsInFlight) call_->Resume();
  }

  void FinishIfDone() {
    if (outstanding_ > 0 || call_->finished()) return;
    if (closing_) {
      call_->Finish(absl::UnavailableError("the server is shutting down; send the remaining requests elsewhere"));
    } else if (client_done_) {
      call_->Finish(absl::OkStatus());
    }
  }

  std::shared_ptr<GrpcCall> call_;
  serving::InferenceService* service_;
  std::shared_ptr<InferStreams> streams_;
  int outstanding_ = 0;  // read, and not yet answered and taken by the client
  bool client_done_ = false;
  bool closing_ = false;
  bool cancelled_ = false;
};

void InferStreams::CloseAll() {
  std::vector<std::shared_ptr<InferStream>> open;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    for (auto& [key, weak] : streams_) {
      if (std::shared_ptr<InferStream> stream = weak.lock()) open.push_back(std::move(stream));
    }
  }
  // Outside the lock: a stream let go of here is destroyed, and removes itself.
  for (std::shared_ptr<InferStream>& stream : open) {
    std::shared_ptr<GrpcCall> call = stream->call();
    call->Run([stream = std::move(stream)] { stream->Close(); });
  }
}

bool InferStreams::Add(const std::shared_ptr<InferStream>& stream) {
  absl::MutexLock lock(&mu_);
  streams_.emplace(stream.get(), stream);
  return !closing_;
}

void InferStreams::Remove(const InferStream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.erase(stream);
}

void StartInferStream(std::shared_ptr<GrpcCall> call, serving::InferenceService* service,
                      std::shared_ptr<InferStreams> streams) {
  auto stream = std::make_shared<InferStream>(std::move(call), service, std::move(streams));
  stream->Start();
}

}  // namespace meridian::protocol
