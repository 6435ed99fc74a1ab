#pragma once

// One gRPC call on an HTTP/2 stream (the wire format of gRPC over HTTP/2): the request body's
// length-prefixed messages in, the response's messages and its status (grpc-status and
// grpc-message trailers) out. Meridian's gRPC endpoint is built on these and http::Http2Server
// rather than on gRPC's own server library, which alone took 143-159 us of a unary call's time
// (docs/benchmarks.md, "Where unary gRPC's time goes").
//
// Thread-safety: Start, SendMessage, Finish, Pause and Resume run on the stream's I/O thread
// (Run gets there from any thread); cancelled() and deadline() may be asked from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message_lite.h"
#include "http/http2_server.h"
#include "protocol/grpc_compression.h"

namespace meridian::protocol {

// "1H", "250m", "100u" (the grpc-timeout header) as a duration; nullopt when malformed.
std::optional<absl::Duration> ParseGrpcTimeout(absl::string_view value);
// The grpc-message trailer's percent-encoding (bytes outside printable ASCII, and '%').
std::string PercentEncodeGrpcMessage(absl::string_view message);

// One request message as it arrived. A body that is one whole message becomes one without a copy:
// its bytes then sit behind the 5-byte prefix.
class GrpcMessage {
 public:
  GrpcMessage(std::string storage, size_t offset) : storage_(std::move(storage)), offset_(offset) {}
  absl::string_view bytes() const { return absl::string_view(storage_).substr(offset_); }

 private:
  std::string storage_;
  size_t offset_;
};

class GrpcCall : public std::enable_shared_from_this<GrpcCall> {
 public:
  // What the method hears; each runs on the I/O thread.
  struct Handlers {
    // One whole request message, in order.
    std::function<void(GrpcMessage message)> message;
    std::function<void()> end;  // the client has sent its last message
    // The client cancelled, went away, or the call failed on its input (after Finish was called
    // with the reason). No handler runs after this.
    std::function<void()> cancelled;
    std::function<void()> sent;  // a message given to SendMessage has gone to the client's window
  };

  GrpcCall(std::shared_ptr<http::Http2Stream> stream, uint64_t max_message_bytes);
  GrpcCall(const GrpcCall&) = delete;
  GrpcCall& operator=(const GrpcCall&) = delete;

  // The client's deadline (grpc-timeout), InfiniteFuture without one.
  absl::Time deadline() const { return deadline_; }
  void set_deadline(absl::Time deadline) { deadline_ = deadline; }
  // How the client's messages marked compressed are compressed (grpc-encoding).
  void set_encoding(GrpcEncoding encoding) { encoding_ = encoding; }
  // True once the client has cancelled or gone, or its deadline has passed: a queued request
  // nobody waits for. Thread-safe.
  bool cancelled() const;
  http::Http2Stream& stream() { return *stream_; }

  // Starts reading the request's messages. The call keeps itself alive through the stream's
  // callbacks until the stream closes.
  static void Start(const std::shared_ptr<GrpcCall>& call, Handlers handlers);
  // Starts a unary call: reads its one request message, and once the client has ended the request
  // runs `method` (on the I/O thread), which finds the message in request_message(). A request
  // without a message, or with more than one, ends the call with INVALID_ARGUMENT instead.
  using UnaryMethod = std::function<void(const std::shared_ptr<GrpcCall>& call)>;
  static void StartUnary(const std::shared_ptr<GrpcCall>& call, UnaryMethod method);
  // A unary call's request message, kept as long as the call is: what views its bytes may hold
  // the call instead of a copy.
  absl::string_view request_message() const { return request_ ? request_->bytes() : absl::string_view(); }
  // Runs `task` on the call's I/O thread (see Http2Stream::Run).
  template <class Task>
  void Run(Task&& task) {
    stream_->Run(std::forward<Task>(task));
  }

  // Sends one response message: `framed` is its 5-byte prefix and bytes (FrameMessage). The first
  // sends the response headers.
  void SendMessage(std::string framed);
  // Ends the call with `status` (OK or an error, its message for the client), plus `trailers`.
  void Finish(const absl::Status& status, const http::Http2Stream::HeaderList& trailers = {});
  bool finished() const { return finished_; }

  // Flow control: while paused the call stops delivering messages, and the client is held back
  // once it has filled the stream's window.
  void Pause() { paused_ = true; }
  void Resume();

 private:
  void OnData(absl::string_view piece);
  void Deliver();
  void Fail(const absl::Status& status);
  void EnsureHeaders();
  void ReleaseHandlers();
  static const http::Http2Stream::HeaderList& ResponseHeaders();

  std::shared_ptr<http::Http2Stream> stream_;
  const uint64_t max_message_bytes_;
  absl::Time deadline_ = absl::InfiniteFuture();
  GrpcEncoding encoding_ = GrpcEncoding::kIdentity;
  std::atomic<bool> gone_{false};
  Handlers handlers_;
  UnaryMethod unary_method_;  // StartUnary's, until it runs or the call ends
  std::optional<GrpcMessage> request_;  // StartUnary's request message
  std::string buffer_;  // request bytes not yet delivered as messages (from delivered_ on)
  size_t delivered_ = 0;  // within a Deliver: the bytes of buffer_ already delivered
  size_t unconsumed_ = 0;  // received while paused: the client's window is not yet given back
  bool paused_ = false;
  bool request_ended_ = false;
  bool end_delivered_ = false;
  bool headers_sent_ = false;
  bool finished_ = false;
};

// `message` serialized behind gRPC's 5-byte prefix (uncompressed, big-endian length), in one
// allocation.
// Before each gRPC message: a compressed flag and its length (4 bytes, big-endian).
inline constexpr size_t kGrpcMessagePrefixBytes = 5;

std::string FrameMessage(const google::protobuf::MessageLite& message);

}  // namespace meridian::protocol
