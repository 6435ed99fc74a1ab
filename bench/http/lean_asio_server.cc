// The transport ceiling for bench/serving: a server on plain Asio sockets that feeds Beast's
// request parser from its own reads and writes one pre-formatted response, answering any request
// with the canned OIP binary response of the size Meridian sends for the MLP (no inference, no
// routing, no timeouts). Against bare_beast_server.cc (Beast's composed async_read/async_write on
// a timed tcp_stream) it shows what those layers cost; against Meridian, what serving costs.
//
// Usage: lean_asio_server PORT THREADS

#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "bench/http/serve_sessions.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/http.hpp"

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

const std::string& CannedResponse() {
  static const std::string response = [] {
    const std::string header =
        R"({"model_name":"mlp","model_version":"1.0.0","outputs":[{"name":"output__0","datatype":"FP32",)"
        R"("shape":[1,10],"parameters":{"binary_data_size":40}}]})";
    const std::string body = header + std::string(40, '\0');
    return "HTTP/1.1 200 OK\r\nServer: lean\r\nContent-Type: application/octet-stream\r\n"
           "Inference-Header-Content-Length: " +
           std::to_string(header.size()) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return response;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)), buffer_(64 * 1024, '\0') {}

  void Read() {
    socket_.async_read_some(net::buffer(buffer_.data() + held_, buffer_.size() - held_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (ec) return;
                              self->held_ += n;
                              self->Parse();
                            });
  }

 private:
  void Parse() {
    if (!parser_) parser_.emplace().body_limit(64 * 1024 * 1024);
    size_t used = 0;
    while (used < held_ && !parser_->is_done()) {
      boost::system::error_code ec;
      const size_t n = parser_->put(net::buffer(buffer_.data() + used, held_ - used), ec);
      if (ec == http::error::need_more) break;
      if (ec) return;  // malformed: drop the connection
      used += n;
    }
    std::memmove(buffer_.data(), buffer_.data() + used, held_ - used);
    held_ -= used;
    if (!parser_->is_done()) {
      if (held_ == buffer_.size()) return;  // a request larger than the buffer: drop the connection
      return Read();
    }
    parser_.reset();
    net::async_write(socket_, net::buffer(CannedResponse()), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (!ec) self->held_ > 0 ? self->Parse() : self->Read();
    });
  }

  tcp::socket socket_;
  std::string buffer_;
  size_t held_ = 0;
  std::optional<http::request_parser<http::string_body>> parser_;
};

int main(int argc, char** argv) { return ServeSessions<Session>(argc, argv); }
