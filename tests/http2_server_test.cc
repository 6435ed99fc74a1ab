// http::Http2Server on its own, with a handler that echoes: flow control both ways beyond the
// windows, the preface and idle timeouts, oversized headers, and shutdown's drain. The gRPC layer
// on top is tested in serving_grpc_e2e_test.cc.

#include "http/http2_server.h"

#include <arpa/inet.h>
#include <nghttp2/nghttp2.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/raw_http2_client.h"

namespace meridian::http {
namespace {

// Answers each request with 200, its body (or, with x-response-bytes, that many bytes), and a
// trailer counting the body it read. Path /hold is never answered; /later is answered from
// another thread after 300 ms; /pieces is answered from another thread in 101 tasks handed to
// the I/O thread one by one (headers, then "0," to "99,"); /streams is answered with a trailer
// counting the streams open on its connection when its request ended.
class EchoHandler final : public Http2Handler {
 public:
  ~EchoHandler() override {
    for (std::thread& thread : threads_) thread.join();
  }

  void OnStream(std::shared_ptr<Http2Stream> stream) override {
    const std::string path(stream->Header(":path"));
    if (path == "/hold") {
      std::lock_guard<std::mutex> lock(mu_);
      held_.push_back(stream);
      return;
    }
    uint64_t response_bytes = 0;
    const bool sized = absl::SimpleAtoi(stream->Header("x-response-bytes"), &response_bytes);
    auto body = std::make_shared<std::string>();
    Http2Stream* raw = stream.get();
    auto answer = [raw, body, sized, response_bytes] {
      raw->SendHeaders({{":status", "200"}}, false);
      std::string out = sized ? std::string(response_bytes, 'r') : *body;
      for (size_t at = 0; at < out.size(); at += 64 * 1024) raw->SendData(out.substr(at, 64 * 1024));
      raw->SendTrailers({{"x-body-bytes", std::to_string(body->size())}});
    };
    stream->set_callbacks({.data =
                               [raw, body](absl::string_view piece) {
                                 body->append(piece.data(), piece.size());
                                 raw->Consume(piece.size());
                               },
                           .end =
                               [this, raw, answer, path] {
                                 if (path == "/pieces") return AnswerInPieces(raw);
                                 if (path == "/streams") {
                                   raw->SendHeaders({{":status", "200"}}, false);
                                   return raw->SendTrailers(
                                       {{"x-streams-on-connection", std::to_string(raw->streams_on_connection())}});
                                 }
                                 if (path != "/later") return answer();
                                 std::lock_guard<std::mutex> lock(mu_);
                                 threads_.emplace_back([raw, answer] {
                                   std::this_thread::sleep_for(std::chrono::milliseconds(300));
                                   raw->Run(answer);
                                 });
                               },
                           .owner = stream});
  }

 private:
  void AnswerInPieces(Http2Stream* raw) {
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back([raw] {
      raw->Run([raw] { raw->SendHeaders({{":status", "200"}}, false); });
      for (int i = 0; i < 100; ++i) raw->Run([raw, i] { raw->SendData(std::to_string(i) + ","); });
      raw->Run([raw] { raw->SendTrailers({{"x-body-bytes", "0"}}); });
    });
  }

  std::mutex mu_;
  std::vector<std::shared_ptr<Http2Stream>> held_;
  std::vector<std::thread> threads_;
};

std::vector<std::pair<std::string, std::string>> Post(const std::string& path,
                                                      std::vector<std::pair<std::string, std::string>> extra = {}) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {":method", "POST"}, {":scheme", "http"}, {":authority", "127.0.0.1"}, {":path", path}};
  for (auto& header : extra) headers.push_back(std::move(header));
  return headers;
}

// A plain TCP connection to 127.0.0.1:port that says nothing yet; -1 when it fails.
int ConnectTo(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

class Http2ServerTest : public ::testing::Test {
 protected:
  void Start(Http2ServerOptions options = {}) {
    options.io_threads = 2;
    absl::StatusOr<std::unique_ptr<Http2Server>> server = Http2Server::Start(options, &handler_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  EchoHandler handler_;
  std::unique_ptr<Http2Server> server_;
};

TEST_F(Http2ServerTest, BodiesLargerThanEveryWindowGoBothWaysWhole) {
  Start();
  // 20 MiB in (the server's windows: 1 MiB per stream, 16 MiB per connection), 3 MiB out (the
  // client's window: 64 KiB).
  std::string body(20 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 31);
  absl::StatusOr<testing::RawHttp2Answer> echoed = testing::RawHttp2Request(server_->port(), Post("/echo"), body);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(echoed->headers[":status"], "200");
  EXPECT_EQ(echoed->trailers["x-body-bytes"], std::to_string(body.size()));
  EXPECT_TRUE(echoed->body == body) << "the echo differs; " << echoed->body.size() << " bytes came back";

  absl::StatusOr<testing::RawHttp2Answer> sized = testing::RawHttp2Request(
      server_->port(), Post("/sized", {{"x-response-bytes", std::to_string(3 << 20)}}), "abc");
  ASSERT_TRUE(sized.ok()) << sized.status();
  EXPECT_EQ(sized->body.size(), 3u << 20);
  EXPECT_EQ(sized->trailers["x-body-bytes"], "3");
  EXPECT_EQ(server_->open_streams(), 0);
}

TEST_F(Http2ServerTest, TasksHandedToTheIoThreadRunInOrderAndAllGoOut) {
  Start();
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += std::to_string(i) + ",";
  for (int round = 0; round < 20; ++round) {
    absl::StatusOr<testing::RawHttp2Answer> answer = testing::RawHttp2Request(server_->port(), Post("/pieces"), "");
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer->headers[":status"], "200");
    ASSERT_EQ(answer->body, expected) << "round " << round;
    EXPECT_EQ(answer->trailers["x-body-bytes"], "0");
  }
}

// What the gRPC endpoint asks to tell a channel's many calls from a lone call per connection.
TEST_F(Http2ServerTest, AStreamCountsTheStreamsOpenOnItsConnection) {
  Start();
  absl::StatusOr<testing::RawHttp2Answer> lone = testing::RawHttp2Request(server_->port(), Post("/streams"), "");
  ASSERT_TRUE(lone.ok()) << lone.status();
  EXPECT_EQ(lone->trailers["x-streams-on-connection"], "1");
  // A call still open (answered in 300 ms) beside it on the same connection.
  absl::StatusOr<std::vector<testing::RawHttp2Answer>> two =
      testing::RawHttp2Requests(server_->port(), {{Post("/later"), "a"}, {Post("/streams"), ""}});
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ((*two)[0].trailers["x-body-bytes"], "1");
  EXPECT_EQ((*two)[1].trailers["x-streams-on-connection"], "2");
}

TEST_F(Http2ServerTest, AConnectionThatNeverSpeaksIsClosedAfterThePrefaceTimeout) {
  Start({.preface_timeout = absl::Milliseconds(200)});
  const int fd = ConnectTo(server_->port());
  ASSERT_GE(fd, 0);
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    pollfd readable{fd, POLLIN, 0};
    if (::poll(&readable, 1, 100) <= 0) continue;
    char buffer[1024];
    closed = ::recv(fd, buffer, sizeof(buffer), 0) <= 0;  // the server's SETTINGS come first
  }
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
  // A client that speaks at once is answered, however long it then takes.
  absl::StatusOr<testing::RawHttp2Answer> later = testing::RawHttp2Request(server_->port(), Post("/later"), "x");
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->body, "x");
}

// Reads HTTP/2 frames from `fd` until the server closes it or `limit` passes; returns the types of
// the frames it sent and whether it closed.
std::pair<std::vector<uint8_t>, bool> FramesUntilClosed(int fd, std::chrono::milliseconds limit) {
  std::vector<uint8_t> types;
  std::string pending;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < limit) {
    pollfd readable{fd, POLLIN, 0};
    if (::poll(&readable, 1, 50) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return {types, true};
    pending.append(buffer, static_cast<size_t>(n));
    while (pending.size() >= 9) {  // a frame header: length (3 bytes), type, flags, stream (4)
      const size_t length = (static_cast<uint8_t>(pending[0]) << 16) | (static_cast<uint8_t>(pending[1]) << 8) |
                            static_cast<uint8_t>(pending[2]);
      if (pending.size() < 9 + length) break;
      types.push_back(static_cast<uint8_t>(pending[3]));
      pending.erase(0, 9 + length);
    }
  }
  return {types, false};
}

TEST_F(Http2ServerTest, AConnectionWithoutStreamsIsSentGoawayAndClosedAfterTheIdleTimeout) {
  Start({.idle_timeout = absl::Milliseconds(300)});
  const int fd = ConnectTo(server_->port());
  ASSERT_GE(fd, 0);
  // The client's preface: the magic string, then an empty SETTINGS frame.
  const std::string preface = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string("\0\0\0\x04\0\0\0\0\0", 9);
  ASSERT_EQ(::send(fd, preface.data(), preface.size(), 0), static_cast<ssize_t>(preface.size()));
  const auto start = std::chrono::steady_clock::now();
  auto [types, closed] = FramesUntilClosed(fd, std::chrono::seconds(5));
  const auto waited = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_NE(std::find(types.begin(), types.end(), NGHTTP2_GOAWAY), types.end()) << "closed without GOAWAY";
  EXPECT_GE(waited, std::chrono::milliseconds(250));
}

TEST_F(Http2ServerTest, AStreamOpenLongerThanTheIdleTimeoutIsNotCutOff) {
  Start({.idle_timeout = absl::Milliseconds(100)});
  absl::StatusOr<testing::RawHttp2Answer> later = testing::RawHttp2Request(server_->port(), Post("/later"), "x");
  ASSERT_TRUE(later.ok()) << later.status();  // answered after 300 ms, three idle timeouts
  EXPECT_EQ(later->headers[":status"], "200");
  EXPECT_EQ(later->body, "x");
  EXPECT_FALSE(later->goaway) << "a connection with an open stream was told to go away";
}

TEST_F(Http2ServerTest, HeadersOverTheLimitResetTheirStreamAndTheServerGoesOn) {
  Start({.max_header_bytes = 4096});
  absl::StatusOr<testing::RawHttp2Answer> refused =
      testing::RawHttp2Request(server_->port(), Post("/echo", {{"x-big", std::string(8000, 'h')}}), "body");
  if (refused.ok()) {
    EXPECT_TRUE(refused->reset) << "answered with status " << refused->headers[":status"];
  }  // else the connection was closed, which also refuses it
  absl::StatusOr<testing::RawHttp2Answer> fine = testing::RawHttp2Request(server_->port(), Post("/echo"), "body");
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_EQ(fine->body, "body");
  EXPECT_EQ(server_->open_streams(), 0);
}

// A stream keeps a typical request's headers in itself and grows onto the heap past that: a
// header read after many others, long ones, is found whole, and a repeated one by its first value.
TEST_F(Http2ServerTest, AHeaderAfterManyLongOnesIsReadWholeAndARepeatedOneByItsFirstValue) {
  Start();
  std::vector<std::pair<std::string, std::string>> extra;
  for (int i = 0; i < 24; ++i) extra.emplace_back(absl::StrCat("x-padding-", i), std::string(40 + i, 'a' + i % 26));
  extra.emplace_back("x-response-bytes", "1234");
  extra.emplace_back("x-response-bytes", "7");
  absl::StatusOr<testing::RawHttp2Answer> answer =
      testing::RawHttp2Request(server_->port(), Post("/echo", std::move(extra)), "body");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->headers[":status"], "200");
  EXPECT_EQ(answer->body, std::string(1234, 'r'));
}

TEST_F(Http2ServerTest, ShutdownLetsOpenStreamsFinishWithinTheDrainTime) {
  Start();
  auto later = std::async(std::launch::async,
                          [this] { return testing::RawHttp2Request(server_->port(), Post("/later"), "late"); });
  while (server_->open_streams() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5))) << "a stream was cut off";
  absl::StatusOr<testing::RawHttp2Answer> answer = later.get();
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->body, "late");
}

TEST_F(Http2ServerTest, ShutdownCutsOffAStreamThatOutlastsTheDrainTime) {
  Start();
  auto held = std::async(std::launch::async, [this] {
    return testing::RawHttp2Request(server_->port(), Post("/hold"), "x", absl::Seconds(5));
  });
  while (server_->open_streams() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(server_->Shutdown(absl::Milliseconds(200)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_FALSE(held.get().ok()) << "the client should see its connection closed";
}

}  // namespace
}  // namespace meridian::http
