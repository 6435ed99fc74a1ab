#pragma once

// A TCP connection for tests that need to send exactly the bytes they choose
// (malformed requests, pipelining, slow clients) and read raw responses. Every call blocks until
// it completes or its timeout passes.

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
      : stream_(ctx_), timeout_(timeout) {
    stream_.expires_after(timeout);
    stream_.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }

  bool Send(const std::string& bytes) {
    stream_.expires_after(timeout_);
    return !Run([&](auto done) { boost::asio::async_write(stream_, boost::asio::buffer(bytes), done); });
  }

  // Reads one response; nullopt when the connection closed or timed out first.
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> ReadResponse() {
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // boost::none misbehaves in 1.74
    stream_.expires_after(timeout_);
    if (Run([&](auto done) { boost::beast::http::async_read(stream_, buffer_, parser, done); })) return std::nullopt;
    return parser.release();
  }

  // Reads raw bytes until `needle` appears; returns what was read (empty on close/timeout).
  std::string ReadUntil(const std::string& needle) {
    std::string out;
    char chunk[1024];
    for (;;) {
      if (out.find(needle) != std::string::npos) return out;
      size_t n = 0;
      stream_.expires_after(timeout_);
      boost::beast::error_code ec = Run([&](auto done) {
        stream_.async_read_some(boost::asio::buffer(chunk), [&n, done](boost::beast::error_code e, size_t got) mutable {
          n = got;
          done(e, got);
        });
      });
      if (ec) return out.find(needle) != std::string::npos ? out : std::string();
      out.append(chunk, n);
    }
  }

  // True when the server closes the connection (EOF or reset) within `within`.
  bool ClosedByPeerWithin(std::chrono::milliseconds within) {
    char chunk[1024];
    stream_.expires_after(within);
    for (;;) {
      boost::beast::error_code ec =
          Run([&](auto done) { stream_.async_read_some(boost::asio::buffer(chunk), done); });
      if (ec == boost::beast::error::timeout) return false;
      if (ec) return true;
    }
  }

 private:
  // Runs one asynchronous operation to completion and returns its error. Asynchronous because
  // tcp_stream's timeouts apply only to asynchronous operations: a synchronous read would wait
  // forever for a server that never answers, and the test would hang instead of failing.
  template <class Start>
  boost::beast::error_code Run(Start start) {
    boost::beast::error_code result;
    start([&result](boost::beast::error_code ec, size_t) { result = ec; });
    ctx_.restart();
    ctx_.run();
    return result;
  }

  boost::asio::io_context ctx_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
};

}  // namespace meridian::testing
