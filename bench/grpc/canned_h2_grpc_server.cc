// A lean HTTP/2 transport's ceiling for gRPC: nghttp2's server session on plain Asio sockets,
// answering every unary gRPC call with the canned MLP ModelInferResponse (no inference). Against
// canned_grpc_server.cc it shows what gRPC's own core costs per call.
//
// Usage: canned_h2_grpc_server PORT THREADS

#include <nghttp2/nghttp2.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "bench/grpc/canned_response.h"
#include "bench/http/serve_sessions.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"

namespace net = boost::asio;
using tcp = net::ip::tcp;

const std::string& CannedMessage() {
  static const std::string framed = [] {
    const std::string message = CannedInferResponse().SerializeAsString();
    std::string out(5, '\0');
    const uint32_t n = static_cast<uint32_t>(message.size());
    out[1] = static_cast<char>(n >> 24);
    out[2] = static_cast<char>(n >> 16);
    out[3] = static_cast<char>(n >> 8);
    out[4] = static_cast<char>(n);
    return out + message;
  }();
  return framed;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)), buffer_(64 * 1024, '\0') {
    nghttp2_session_callbacks* callbacks;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Session::OnFrame);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Session::OnClose);
    nghttp2_session_server_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 1);
  }
  ~Session() { nghttp2_session_del(session_); }

  void Read() {
    Flush();
    socket_.async_read_some(net::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      if (ec) return;
      if (nghttp2_session_mem_recv(self->session_, reinterpret_cast<const uint8_t*>(self->buffer_.data()), n) < 0) return;
      self->Read();
    });
  }

 private:
  static int OnFrame(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      static_cast<Session*>(user)->Answer(session, frame->hd.stream_id);
    }
    return 0;
  }
  static int OnClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user) {
    static_cast<Session*>(user)->sent_.erase(stream_id);
    return 0;
  }
  static ssize_t ReadBody(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t length,
                          uint32_t* flags, nghttp2_data_source*, void* user) {
    auto& offset = static_cast<Session*>(user)->sent_[stream_id];
    const std::string& body = CannedMessage();
    const size_t n = std::min(length, body.size() - offset);
    std::memcpy(buf, body.data() + offset, n);
    offset += n;
    if (offset == body.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      static nghttp2_nv trailer[] = {{(uint8_t*)"grpc-status", (uint8_t*)"0", 11, 1, NGHTTP2_NV_FLAG_NONE}};
      nghttp2_submit_trailer(session, stream_id, trailer, 1);
    }
    return static_cast<ssize_t>(n);
  }
  void Answer(nghttp2_session* session, int32_t stream_id) {
    static nghttp2_nv head[] = {{(uint8_t*)":status", (uint8_t*)"200", 7, 3, NGHTTP2_NV_FLAG_NONE},
                                {(uint8_t*)"content-type", (uint8_t*)"application/grpc", 12, 16, NGHTTP2_NV_FLAG_NONE}};
    sent_[stream_id] = 0;
    nghttp2_data_provider provider{};
    provider.read_callback = &Session::ReadBody;
    nghttp2_submit_response(session, stream_id, head, 2, &provider);
  }
  void Flush() {
    if (writing_) return;
    out_.clear();
    const uint8_t* data;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(session_, &data)) > 0) out_.append(reinterpret_cast<const char*>(data), n);
    if (out_.empty()) return;
    writing_ = true;
    net::async_write(socket_, net::buffer(out_), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      self->writing_ = false;
      if (!ec) self->Flush();
    });
  }

  tcp::socket socket_;
  std::string buffer_;
  std::string out_;
  bool writing_ = false;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, size_t> sent_;
};

int main(int argc, char** argv) { return ServeSessions<Session>(argc, argv); }
