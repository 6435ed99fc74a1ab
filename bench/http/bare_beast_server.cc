// The baseline for bench/http: the least a Boost.Beast HTTP/1.1 server can do to answer
// GET /health/live with keep-alive, using the same threading model as Meridian's server
// (one io_context per I/O thread). No router, no logging, no metrics, no timeouts.
// For bench/serving it also answers any POST .../infer with a canned OIP binary response of the
// size Meridian sends for the MLP (no inference): the transport's own cost, the ceiling for any
// server built on it.
//
// Usage: bare_beast_server PORT THREADS

#include <memory>
#include <string>

#include "bench/http/serve_sessions.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : stream_(std::move(socket)) {}
  void Read() {
    request_ = {};
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return;
                       self->Write();
                     });
  }

 private:
  void Write() {
    response_ = {};
    response_.version(11);
    response_.set(http::field::content_type, "application/json");
    if (request_.method() == http::verb::post && request_.target().ends_with("/infer")) {
      static const std::string kHeader =
          R"({"model_name":"mlp","model_version":"1.0.0","outputs":[{"name":"output__0","datatype":"FP32",)"
          R"("shape":[1,10],"parameters":{"binary_data_size":40}}]})";
      response_.result(http::status::ok);
      response_.set(http::field::content_type, "application/octet-stream");
      response_.set("Inference-Header-Content-Length", std::to_string(kHeader.size()));
      response_.body() = kHeader + std::string(40, '\0');
    } else {
      response_.result(request_.target() == "/health/live" ? http::status::ok : http::status::not_found);
      response_.body() = R"({"status":"live"})";
    }
    response_.keep_alive(request_.keep_alive());
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || !self->response_.keep_alive()) return;
      self->Read();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

int main(int argc, char** argv) { return ServeSessions<Session>(argc, argv); }
