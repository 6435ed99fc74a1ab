#include "tests/raw_http2_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"

namespace meridian::testing {
namespace {

// One request's stream and its answer.
struct StreamState {
  int header_blocks = 0;
  bool closed = false;
  RawHttp2Answer answer;
  std::string body;
  size_t body_sent = 0;
};

// One connection's streams.
struct Exchange {
  int fd = -1;
  std::map<int32_t, StreamState> streams;
  size_t open = 0;

  StreamState* Find(int32_t id) {
    auto found = streams.find(id);
    return found == streams.end() ? nullptr : &found->second;
  }
};

ssize_t Send(nghttp2_session*, const uint8_t* data, size_t length, int, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const ssize_t n = ::send(exchange->fd, data, length, MSG_NOSIGNAL);
  return n < 0 ? static_cast<ssize_t>(NGHTTP2_ERR_CALLBACK_FAILURE) : n;
}

int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t name_length,
             const uint8_t* value, size_t value_length, uint8_t, void* user) {
  StreamState* stream = static_cast<Exchange*>(user)->Find(frame->hd.stream_id);
  if (stream == nullptr) return 0;
  auto& target = stream->header_blocks <= 1 ? stream->answer.headers : stream->answer.trailers;
  target[std::string(reinterpret_cast<const char*>(name), name_length)] =
      std::string(reinterpret_cast<const char*>(value), value_length);
  return 0;
}

int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  if (StreamState* stream = static_cast<Exchange*>(user)->Find(frame->hd.stream_id)) ++stream->header_blocks;
  return 0;
}

int OnData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t length, void* user) {
  if (StreamState* stream = static_cast<Exchange*>(user)->Find(id)) {
    stream->answer.body.append(reinterpret_cast<const char*>(data), length);
  }
  return 0;
}

int OnFrameReceived(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  StreamState* stream = exchange->Find(frame->hd.stream_id);
  if (frame->hd.type == NGHTTP2_RST_STREAM && stream != nullptr) {
    stream->answer.reset = true;
    stream->answer.reset_code = frame->rst_stream.error_code;
  }
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    for (auto& [id, each] : exchange->streams) {
      if (!each.closed) each.answer.goaway = true;
    }
  }
  return 0;
}

int OnClose(nghttp2_session*, int32_t id, uint32_t, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  StreamState* stream = exchange->Find(id);
  if (stream != nullptr && !stream->closed) {
    stream->closed = true;
    --exchange->open;
  }
  return 0;
}

ssize_t ReadBody(nghttp2_session*, int32_t id, uint8_t* buffer, size_t length, uint32_t* flags, nghttp2_data_source*,
                 void* user) {
  StreamState* stream = static_cast<Exchange*>(user)->Find(id);
  if (stream == nullptr) return NGHTTP2_ERR_CALLBACK_FAILURE;
  const size_t n = std::min(length, stream->body.size() - stream->body_sent);
  std::memcpy(buffer, stream->body.data() + stream->body_sent, n);
  stream->body_sent += n;
  if (stream->body_sent == stream->body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

}  // namespace

absl::StatusOr<RawHttp2Answer> RawHttp2Request(uint16_t port,
                                               const std::vector<std::pair<std::string, std::string>>& headers,
                                               const std::string& body, absl::Duration timeout) {
  absl::StatusOr<std::vector<RawHttp2Answer>> answers = RawHttp2Requests(port, {{headers, body}}, timeout);
  if (!answers.ok()) return answers.status();
  return std::move(answers->front());
}

absl::StatusOr<std::vector<RawHttp2Answer>> RawHttp2Requests(uint16_t port, const std::vector<RawHttp2Call>& calls,
                                                             absl::Duration timeout) {
  Exchange exchange;
  exchange.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(exchange.fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(exchange.fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to port ", port));
  }
  // As HTTP/2 clients do: small frames (WINDOW_UPDATE) must not wait for the peer's delayed ACK.
  const int on = 1;
  ::setsockopt(exchange.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_send_callback(callbacks, &Send);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &OnHeader);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &OnBeginHeaders);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &OnData);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &OnFrameReceived);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &OnClose);
  nghttp2_session* session = nullptr;
  nghttp2_session_client_new(&session, callbacks, &exchange);
  nghttp2_session_callbacks_del(callbacks);
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  std::vector<int32_t> ids;
  for (const RawHttp2Call& call : calls) {
    std::vector<nghttp2_nv> nvs;
    for (const auto& [name, value] : call.headers) {
      nvs.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                     reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                     NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_data_provider provider{};
    provider.read_callback = &ReadBody;
    // The stream's state exists before nghttp2 asks for its body.
    const int32_t id = nghttp2_submit_request(session, nullptr, nvs.data(), nvs.size(), &provider, nullptr);
    exchange.streams[id].body = call.body;
    ++exchange.open;
    ids.push_back(id);
  }
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status failure;
  while (exchange.open > 0) {
    if (nghttp2_session_send(session) != 0) {
      failure = absl::UnavailableError("cannot send");
      break;
    }
    const int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (wait_ms <= 0) {
      failure = absl::DeadlineExceededError("no answer in time");
      break;
    }
    pollfd readable{exchange.fd, POLLIN, 0};
    if (::poll(&readable, 1, wait_ms) <= 0) continue;
    char buffer[16384];
    const ssize_t n = ::recv(exchange.fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      failure = absl::UnavailableError("the server closed the connection");
      break;
    }
    if (nghttp2_session_mem_recv(session, reinterpret_cast<const uint8_t*>(buffer), static_cast<size_t>(n)) < 0) {
      failure = absl::InternalError("the server's bytes are not HTTP/2");
      break;
    }
  }
  nghttp2_session_del(session);
  ::close(exchange.fd);
  if (!failure.ok()) return failure;
  std::vector<RawHttp2Answer> answers;
  for (int32_t id : ids) answers.push_back(std::move(exchange.streams[id].answer));
  return answers;
}

std::vector<std::pair<std::string, std::string>> GrpcHeaders(const std::string& method,
                                                             std::vector<std::pair<std::string, std::string>> extra) {
  std::vector<std::pair<std::string, std::string>> headers = {{":method", "POST"},
                                                              {":scheme", "http"},
                                                              {":authority", "127.0.0.1"},
                                                              {":path", "/inference.GRPCInferenceService/" + method},
                                                              {"content-type", "application/grpc"},
                                                              {"te", "trailers"}};
  for (auto& header : extra) {
    bool replaced = false;
    for (auto& existing : headers) {
      if (existing.first == header.first) {
        existing.second = header.second;
        replaced = true;
      }
    }
    if (!replaced) headers.push_back(std::move(header));
  }
  return headers;
}

std::string GrpcFrame(const std::string& message, bool compressed) {
  std::string framed(5, '\0');
  framed[0] = compressed ? 1 : 0;
  const auto n = static_cast<uint32_t>(message.size());
  framed[1] = static_cast<char>(n >> 24);
  framed[2] = static_cast<char>(n >> 16);
  framed[3] = static_cast<char>(n >> 8);
  framed[4] = static_cast<char>(n);
  return framed + message;
}

}  // namespace meridian::testing
