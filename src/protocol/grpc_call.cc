#include "protocol/grpc_call.h"

#include <cctype>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_codes.h"

namespace meridian::protocol {
namespace {

uint32_t ReadLength(absl::string_view prefix) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(prefix[1])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(prefix[2])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(prefix[3])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(prefix[4]));
}

}  // namespace

std::optional<absl::Duration> ParseGrpcTimeout(absl::string_view value) {
  // At most 8 digits, then the unit (gRPC over HTTP/2, "Timeout").
  if (value.size() < 2 || value.size() > 9) return std::nullopt;
  int64_t amount = 0;
  if (!absl::SimpleAtoi(value.substr(0, value.size() - 1), &amount) || amount < 0 ||
      !std::isdigit(static_cast<unsigned char>(value[0]))) {
    return std::nullopt;
  }
  switch (value.back()) {
    case 'H': return absl::Hours(amount);
    case 'M': return absl::Minutes(amount);
    case 'S': return absl::Seconds(amount);
    case 'm': return absl::Milliseconds(amount);
    case 'u': return absl::Microseconds(amount);
    case 'n': return absl::Nanoseconds(amount);
    default: return std::nullopt;
  }
}

std::string PercentEncodeGrpcMessage(absl::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (const char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte <= 0x7e && byte != '%') {
      out.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  return out;
}

std::string FrameMessage(const google::protobuf::MessageLite& message) {
  const size_t size = message.ByteSizeLong();
  std::string framed(kGrpcMessagePrefixBytes + size, '\0');
  const auto n = static_cast<uint32_t>(size);
  framed[1] = static_cast<char>(n >> 24);
  framed[2] = static_cast<char>(n >> 16);
  framed[3] = static_cast<char>(n >> 8);
  framed[4] = static_cast<char>(n);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(framed.data() + kGrpcMessagePrefixBytes));
  return framed;
}

GrpcCall::GrpcCall(std::shared_ptr<http::Http2Stream> stream, uint64_t max_message_bytes)
    : stream_(std::move(stream)), max_message_bytes_(max_message_bytes) {}

bool GrpcCall::cancelled() const {
  return gone_.load(std::memory_order_acquire) || (deadline_ != absl::InfiniteFuture() && absl::Now() >= deadline_);
}

void GrpcCall::Start(const std::shared_ptr<GrpcCall>& call, Handlers handlers) {
  call->handlers_ = std::move(handlers);
  // The stream holds the call (owner) until it closes; the callbacks need not each hold it.
  GrpcCall* self = call.get();
  call->stream_->set_callbacks({
      .data = [self](absl::string_view piece) { self->OnData(piece); },
      .end =
          [self] {
            self->request_ended_ = true;
            self->Deliver();
          },
      .reset =
          [self] {
            self->gone_.store(true, std::memory_order_release);
            self->finished_ = true;
            std::function<void()> cancelled = std::move(self->handlers_.cancelled);
            self->ReleaseHandlers();
            if (cancelled) cancelled();
          },
      .sent =
          [self] {
            if (self->handlers_.sent) self->handlers_.sent();
          },
      // The method's handlers may hold the call: let go of them, or neither is ever freed.
      .closed = [self] { self->ReleaseHandlers(); },
      .owner = call,
  });
}

void GrpcCall::StartUnary(const std::shared_ptr<GrpcCall>& call, UnaryMethod method) {
  call->unary_method_ = std::move(method);
  GrpcCall* self = call.get();  // the stream holds the call while its handlers can run
  Start(call, {.message =
                   [self](GrpcMessage message) {
                     if (self->request_) {
                       return self->Finish(
                           absl::InvalidArgumentError("a unary call carries one request message; this one has more"));
                     }
                     self->request_ = std::move(message);
                   },
               .end =
                   [self] {
                     if (self->finished_) return;
                     if (!self->request_) {
                       return self->Finish(absl::InvalidArgumentError("the call has no request message"));
                     }
                     UnaryMethod method = std::move(self->unary_method_);
                     self->unary_method_ = nullptr;
                     method(self->shared_from_this());
                   }});
}

void GrpcCall::ReleaseHandlers() {
  handlers_ = {};
  unary_method_ = nullptr;
}

void GrpcCall::OnData(absl::string_view piece) {
  if (finished_) {  // answered already (a refusal): what the client still sends is dropped
    stream_->Consume(piece.size());
    return;
  }
  buffer_.append(piece.data(), piece.size());
  if (paused_) {
    unconsumed_ += piece.size();
    return;
  }
  stream_->Consume(piece.size());
  Deliver();
}

void GrpcCall::Resume() {
  if (!paused_) return;
  paused_ = false;
  stream_->Consume(unconsumed_);
  unconsumed_ = 0;
  Deliver();
}

void GrpcCall::Deliver() {
  // Messages are taken from delivered_ on, and what is left moves to the front once at the end:
  // a DATA frame of a pipelining client carries several messages, and moving the rest after
  // each one cost more than the messages' own copies. delivered_ is a member, not a local: should
  // a handler reach Deliver again (through Resume), the inner call reads on from where this loop
  // is, and this loop from where the inner one left off.
  absl::Status failure;
  while (!paused_ && !finished_ && buffer_.size() - delivered_ >= kGrpcMessagePrefixBytes) {
    const absl::string_view pending = absl::string_view(buffer_).substr(delivered_);
    const uint8_t flags = static_cast<uint8_t>(pending[0]);
    const uint64_t length = ReadLength(pending);
    if (length > max_message_bytes_) {
      failure = absl::ResourceExhaustedError(absl::StrCat("the request message is ", length,
                                                          " bytes, more than the server's limit of ",
                                                          max_message_bytes_, " bytes"));
      break;
    }
    if (pending.size() < kGrpcMessagePrefixBytes + length) break;
    std::optional<GrpcMessage> message;
    if (delivered_ == 0 && buffer_.size() == kGrpcMessagePrefixBytes + length) {
      message.emplace(std::move(buffer_), kGrpcMessagePrefixBytes);
      buffer_.clear();
    } else {
      message.emplace(std::string(pending.substr(kGrpcMessagePrefixBytes, length)), 0);
      delivered_ += kGrpcMessagePrefixBytes + length;
    }
    if ((flags & 1) != 0) {
      absl::StatusOr<std::string> inflated = DecompressGrpcMessage(encoding_, message->bytes(), max_message_bytes_);
      if (!inflated.ok()) {
        failure = inflated.status();
        break;
      }
      message.emplace(*std::move(inflated), 0);
    }
    if (handlers_.message) handlers_.message(*std::move(message));
  }
  buffer_.erase(0, delivered_);
  delivered_ = 0;
  if (!failure.ok()) return Fail(failure);
  if (paused_ || finished_ || !request_ended_ || end_delivered_) return;
  if (!buffer_.empty()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("the request ended inside a message (", buffer_.size(), " bytes of an incomplete message)")));
  }
  end_delivered_ = true;
  if (handlers_.end) handlers_.end();
}

// The request cannot be read on: the call ends with `status` and its method hears of it as a
// cancellation.
void GrpcCall::Fail(const absl::Status& status) {
  Finish(status);
  gone_.store(true, std::memory_order_release);
  std::function<void()> cancelled = std::move(handlers_.cancelled);
  ReleaseHandlers();
  if (cancelled) cancelled();
}

const http::Http2Stream::HeaderList& GrpcCall::ResponseHeaders() {
  static const auto* const headers = new http::Http2Stream::HeaderList{
      {":status", "200"}, {"content-type", "application/grpc"}, {"grpc-accept-encoding", std::string(kGrpcAcceptEncoding)}};
  return *headers;
}

void GrpcCall::EnsureHeaders() {
  if (headers_sent_) return;
  headers_sent_ = true;
  stream_->SendHeaders(ResponseHeaders(), /*end_stream=*/false);
}

void GrpcCall::SendMessage(std::string framed) {
  if (finished_) return;
  EnsureHeaders();
  stream_->SendData(std::move(framed));
}

void GrpcCall::Finish(const absl::Status& status, const http::Http2Stream::HeaderList& trailers) {
  if (finished_) return;
  finished_ = true;
  http::Http2Stream::HeaderList out;
  const bool trailers_only = !headers_sent_;  // one HEADERS frame carries the status
  if (trailers_only) {
    headers_sent_ = true;
    out = ResponseHeaders();
  }
  out.emplace_back("grpc-status", std::to_string(status.ok() ? 0 : ToGrpcCode(status)));
  if (!status.ok()) out.emplace_back("grpc-message", PercentEncodeGrpcMessage(status.message()));
  out.insert(out.end(), trailers.begin(), trailers.end());
  if (trailers_only) {
    stream_->SendHeaders(out, /*end_stream=*/true);
  } else {
    stream_->SendTrailers(std::move(out));
  }
}

}  // namespace meridian::protocol
