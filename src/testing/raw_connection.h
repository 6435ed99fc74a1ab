#pragma once

// A blocking TCP connection for tests that need to send exactly the bytes they choose
// (malformed requests, pipelining, slow clients) and read raw responses.

#include <chrono>
#include <optional>
#include <string>

#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace meridian::testing {

class RawConnection {
 public:
  explicit RawConnection(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : stream_(ctx_) {
    stream_.expires_after(timeout);
    stream_.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    timeout_ = timeout;
  }

  bool Send(const std::string& bytes) {
    boost::beast::error_code ec;
    stream_.expires_after(timeout_);
    boost::asio::write(stream_.socket(), boost::asio::buffer(bytes), ec);
    return !ec;
  }

  // Reads one response; nullopt when the connection closed or timed out first.
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> ReadResponse() {
    boost::beast::error_code ec;
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // boost::none misbehaves in 1.74
    stream_.expires_after(timeout_);
    boost::beast::http::read(stream_, buffer_, parser, ec);
    if (ec) return std::nullopt;
    return parser.release();
  }

  // Reads raw bytes until `needle` appears; returns what was read (empty on close/timeout).
  std::string ReadUntil(const std::string& needle) {
    std::string out;
    char chunk[1024];
    for (;;) {
      if (out.find(needle) != std::string::npos) return out;
      boost::beast::error_code ec;
      stream_.expires_after(timeout_);
      size_t n = stream_.read_some(boost::asio::buffer(chunk), ec);
      if (ec) return out.find(needle) != std::string::npos ? out : std::string();
      out.append(chunk, n);
    }
  }

  // True when the server closes the connection (EOF or reset) within `within`.
  bool ClosedByPeerWithin(std::chrono::milliseconds within) {
    char chunk[1024];
    stream_.expires_after(within);
    for (;;) {
      boost::beast::error_code ec;
      stream_.read_some(boost::asio::buffer(chunk), ec);
      if (ec == boost::beast::error::timeout) return false;
      if (ec) return true;
    }
  }

 private:
  boost::asio::io_context ctx_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
};

}  // namespace meridian::testing
