#include "protocol/grpc_infer_stream.h"

#include <deque>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "protocol/grpc_tensor_codec.h"

namespace meridian::protocol {

// The stream's state is shared by gRPC's reactions (read done, write done), the instance threads
// that answer its requests and the shutdown, so it sits behind one mutex. gRPC's Start* and Finish
// calls are made after releasing it; at most one read and one write are ever outstanding, and
// Finish waits for a read being started (Finish may come while a read is outstanding: the read
// then fails, which is how a shutdown ends a stream whose client is idle).
class InferStream final : public InferStreamReactor {
  using Request = inference::ModelInferRequest;
  using Answer = inference::ModelStreamInferResponse;

 public:
  InferStream(grpc::CallbackServerContext* context, serving::InferenceService* service, InferStreams* streams)
      : context_(context), service_(service), streams_(streams) {
    ReadNext();
    if (!streams_->Add(this)) Close();
  }

  explicit InferStream(const grpc::Status& refusal) { Finish(refusal); }

  // Stops taking requests: the stream finishes, with UNAVAILABLE, once the answers of those it has
  // taken are written. A read under way ends with the stream.
  void Close() {
    Lock lock(this);
    closing_ = true;
    reading_ = false;
    read_paused_ = false;
    FinishIfDone(lock);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed its side, or the stream broke: finish once all is answered
      Lock lock(this);
      reading_ = false;
      return FinishIfDone(lock);
    }
    std::shared_ptr<Request> request = std::move(next_request_);
    bool read_on = false;
    {
      Lock lock(this);
      if (closing_) return FinishIfDone(lock);  // taken after shutdown began: not answered
      ++outstanding_;
      read_on = outstanding_ < kMaxStreamRequestsInFlight;
      read_paused_ = !read_on;
    }
    // Submitted after deciding whether to read on: an answer that comes at once may resume
    // reading when paused.
    Submit(std::move(request));
    if (!read_on) return;
    Lock lock(this);
    if (closing_) return FinishIfDone(lock);
    StartReadAfterUnlock(lock);
  }

  void OnWriteDone(bool ok) override {
    Lock lock(this);
    writing_.reset();
    --outstanding_;
    if (!ok) {  // the client is gone: nobody reads the rest
      broken_ = true;
      outstanding_ -= static_cast<int>(unwritten_.size());
      unwritten_.clear();
    }
    WriteNext(lock);
  }

  void OnDone() override {
    if (streams_ != nullptr) streams_->Remove(this);
    delete this;
  }

 private:
  // Holds mu_ and, once it is released, makes the gRPC calls decided under it. Holding the lock
  // while calling into gRPC is avoided: a reaction may run on another thread at once and need it.
  class ABSL_SCOPED_LOCKABLE Lock {
   public:
    explicit Lock(InferStream* stream) ABSL_EXCLUSIVE_LOCK_FUNCTION(stream->mu_) : stream_(stream) {
      stream_->mu_.Lock();
    }
    ~Lock() ABSL_UNLOCK_FUNCTION() {
      stream_->mu_.Unlock();
      if (write_ != nullptr) stream_->StartWrite(write_);
      if (read_) {
        stream_->ReadNext();
        // Only now may the stream finish (a read must not start after Finish).
        Lock again(stream_);
        stream_->starting_read_ = false;
        stream_->FinishIfDone(again);
      }
      if (finish_) stream_->Finish(status_);  // last: the reactor may be deleted after it
    }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    friend class InferStream;
    InferStream* stream_;
    const Answer* write_ = nullptr;
    bool read_ = false;
    bool finish_ = false;
    grpc::Status status_;
  };

  void ReadNext() {
    next_request_ = std::make_shared<Request>();
    StartRead(next_request_.get());
  }

  void Submit(std::shared_ptr<Request> request) {
    absl::StatusOr<serving::InferenceRequest> decoded = DecodeGrpcInferRequest(*request);
    if (!decoded.ok()) return Deliver(FailedAnswer(*request, decoded.status()));
    // The reactor outlives every request it submitted (it finishes only once all are answered).
    decoded->client_gone = [this] { return context_->IsCancelled(); };
    // The decoded tensors view `request`'s bytes: it lives until the answer.
    service_->Infer(std::move(*decoded), [this, request](absl::StatusOr<serving::InferenceResponse> result) {
      if (!result.ok()) return Deliver(FailedAnswer(*request, result.status()));
      auto answer = std::make_unique<Answer>();
      EncodeGrpcInferResponse(*result, answer->mutable_infer_response());
      Deliver(std::move(answer));
    });
  }

  static std::unique_ptr<Answer> FailedAnswer(const Request& request, const absl::Status& status) {
    auto answer = std::make_unique<Answer>();
    answer->set_error_message(std::string(status.message()));
    inference::ModelInferResponse* response = answer->mutable_infer_response();
    response->set_model_name(request.model_name());
    response->set_model_version(request.model_version());
    response->set_id(request.id());
    return answer;
  }

  void Deliver(std::unique_ptr<Answer> answer) {
    Lock lock(this);
    if (broken_) {
      --outstanding_;
    } else {
      unwritten_.push_back(std::move(answer));
    }
    WriteNext(lock);
  }

  // With mu_ held: starts the next write if none is under way, resumes reading when there is room
  // again, and finishes when everything read has been answered.
  void WriteNext(Lock& lock) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ == nullptr && !unwritten_.empty()) {
      writing_ = std::move(unwritten_.front());
      unwritten_.pop_front();
      lock.write_ = writing_.get();
    }
    if (read_paused_ && !closing_ && outstanding_ < kMaxStreamRequestsInFlight) {
      read_paused_ = false;
      StartReadAfterUnlock(lock);
    }
    FinishIfDone(lock);
  }

  void StartReadAfterUnlock(Lock& lock) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    starting_read_ = true;
    lock.read_ = true;
  }

  void FinishIfDone(Lock& lock) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (reading_ || read_paused_ || starting_read_ || outstanding_ > 0 || writing_ != nullptr || finished_) return;
    finished_ = true;
    lock.finish_ = true;
    lock.status_ = broken_    ? grpc::Status::CANCELLED
                   : closing_ ? grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                             "the server is shutting down; send the remaining requests elsewhere")
                              : grpc::Status::OK;
  }

  grpc::CallbackServerContext* context_ = nullptr;
  serving::InferenceService* service_ = nullptr;
  InferStreams* streams_ = nullptr;
  std::shared_ptr<Request> next_request_;  // the read under way (one at a time)

  absl::Mutex mu_;
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;  // read, not yet written (or dropped)
  bool reading_ ABSL_GUARDED_BY(mu_) = true;  // the client may send more
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;  // a write failed
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;        // the server is shutting down
  bool starting_read_ ABSL_GUARDED_BY(mu_) = false;  // a thread is about to start a read
  std::unique_ptr<Answer> writing_ ABSL_GUARDED_BY(mu_);
  std::deque<std::unique_ptr<Answer>> unwritten_ ABSL_GUARDED_BY(mu_);
};

void InferStreams::CloseAll() {
  absl::MutexLock lock(&mu_);
  closing_ = true;
  for (InferStream* stream : streams_) stream->Close();
}

bool InferStreams::Add(InferStream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.insert(stream);
  return !closing_;
}

void InferStreams::Remove(InferStream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.erase(stream);
}

InferStreamReactor* StartInferStream(grpc::CallbackServerContext* context, serving::InferenceService* service,
                                     InferStreams* streams) {
  return new InferStream(context, service, streams);
}

InferStreamReactor* RefuseInferStream(const grpc::Status& status) { return new InferStream(status); }

}  // namespace meridian::protocol
