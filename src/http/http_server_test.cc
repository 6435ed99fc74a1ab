#include "http/http_server.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_client.h"
#include "testing/raw_connection.h"

namespace meridian::http {
namespace {

using ::testing::HasSubstr;
using testing::RawConnection;
using namespace std::chrono_literals;

class RecordingObserver : public RequestObserver {
 public:
  void OnRequestCompleted(const CompletedRequest& r) override {
    absl::MutexLock lock(&mu_);
    records_.push_back(std::string(r.method) + " " + std::string(r.route) + " " + std::to_string(r.status));
  }
  std::vector<std::string> records() {
    absl::MutexLock lock(&mu_);
    return records_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> records_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_ = std::make_shared<Router>();
    Add(HttpMethod::kGet, "/hello", Sync([](const HttpRequest&) {
          return HttpResponse::Json(200, R"({"hello":"world"})");
        }));
    Add(HttpMethod::kGet, "/things/{id}", Sync([](const HttpRequest& r) {
          return HttpResponse::Text(200, std::string(r.PathParam("id")));
        }));
    Add(HttpMethod::kDelete, "/things/{id}", Sync([](const HttpRequest&) {
          return HttpResponse::Json(200, "{}");
        }));
    Add(HttpMethod::kPost, "/echo", Sync([](const HttpRequest& r) {
          return HttpResponse::Text(200, r.body);
        }), 16);
    Add(HttpMethod::kPost, "/big", Sync([](const HttpRequest& r) {
          return HttpResponse::Text(200, std::to_string(r.body.size()));
        }));
    Add(HttpMethod::kGet, "/request-id", Sync([](const HttpRequest& r) {
          return HttpResponse::Text(200, r.request_id);
        }));
    // Answers from another thread after a delay, as a batcher would.
    Add(HttpMethod::kGet, "/slow", [this](HttpRequest, Responder responder) {
      slow_started_.fetch_add(1);
      workers_.emplace_back([responder = std::move(responder), delay = slow_delay_]() mutable {
        std::this_thread::sleep_for(delay);
        responder.Send(HttpResponse::Json(200, R"({"slow":true})"));
      });
    });
    Add(HttpMethod::kGet, "/forgetful", [](HttpRequest, Responder) {});
    // A large answer from another thread: more than a socket takes at once.
    Add(HttpMethod::kGet, "/large-from-thread", [this](HttpRequest, Responder responder) {
      workers_.emplace_back([responder = std::move(responder)]() mutable {
        std::string body(16 << 20, '\0');
        for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 23);
        responder.Send(HttpResponse::Text(200, std::move(body)));
      });
    });
    // Streams its body into a sink that keeps it in memory (or fails on demand).
    ASSERT_TRUE(router_->Add(Route{
        .method = HttpMethod::kPost, .pattern = "/upload", .resource = "test", .verb = "create",
        .max_body_bytes = 4 << 20,
        .body_sink = [this](const HttpRequest& head) -> absl::StatusOr<std::shared_ptr<BodySink>> {
          if (head.Header("X-Refuse")) return absl::AlreadyExistsError("refused by the sink factory");
          auto sink = std::make_shared<MemorySink>(&sinks_alive_, head.Header("X-Fail-After").has_value());
          return sink;
        },
        .handler = Sync([](const HttpRequest& r) {
          auto* sink = static_cast<MemorySink*>(r.body_sink.get());
          return HttpResponse::Text(200, std::to_string(sink->data.size()) + ":" +
                                             std::to_string(std::hash<std::string>()(sink->data)));
        })}).ok());
    Add(HttpMethod::kGet, "/file", Sync([this](const HttpRequest& r) {
          return FileResponse(r, file_path_, file_content_.size(), "application/octet-stream");
        }));
  }

  struct MemorySink : BodySink {
    MemorySink(std::atomic<int>* alive, bool fail) : alive(alive), fail(fail) { alive->fetch_add(1); }
    ~MemorySink() override { alive->fetch_sub(1); }
    absl::Status Write(absl::string_view chunk) override {
      if (fail && !data.empty()) return absl::ResourceExhaustedError("disk full");
      data.append(chunk.data(), chunk.size());
      return absl::OkStatus();
    }
    std::atomic<int>* alive;
    bool fail;
    std::string data;
  };

  void TearDown() override {
    server_.reset();
    for (auto& t : workers_) t.join();
  }

  void Add(HttpMethod method, std::string pattern, AsyncHandler handler,
           std::optional<uint64_t> limit = std::nullopt) {
    ASSERT_TRUE(router_->Add(Route{.method = method, .pattern = std::move(pattern), .resource = "test",
                                   .verb = "get", .max_body_bytes = limit,
                                   .handler = std::move(handler)})
                    .ok());
  }

  void StartServer(HttpServerOptions options = {}) {
    options.io_threads = 2;
    auto server = HttpServer::Start(options, router_, {&observer_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<HttpClient> Client() {
    return *HttpClient::Create("http://127.0.0.1:" + std::to_string(server_->port()));
  }

  std::shared_ptr<Router> router_;
  RecordingObserver observer_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> workers_;
  std::chrono::milliseconds slow_delay_ = 300ms;
  std::atomic<int> slow_started_{0};  // /slow handlers entered
  std::atomic<int> sinks_alive_{0};
  std::string file_path_ = ::testing::TempDir() + "/meridian-http-file-test.bin";
  std::string file_content_;
};

TEST_F(HttpServerTest, ServesRoutesWithPathParameters) {
  StartServer();
  auto r = Client()->Get("/things/a%20b");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "a b");
  EXPECT_EQ(*r->Header("Content-Type"), "text/plain");
}

TEST_F(HttpServerTest, UnknownRouteIsJson404) {
  StartServer();
  auto r = Client()->Get("/nope");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(*r->Header("Content-Type"), "application/json");
  EXPECT_EQ(r->body, R"({"error":"no route for GET /nope"})");
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
  StartServer();
  auto r = Client()->Send(HttpMethod::kPut, "/things/1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(*r->Header("Allow"), "GET, DELETE");
  EXPECT_THAT(r->body, HasSubstr("not allowed"));

  RawConnection conn(server_->port());
  conn.Send("BREW /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  auto raw = conn.ReadResponse();
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->result_int(), 405);
}

TEST_F(HttpServerTest, KeepAliveAndPipelining) {
  StartServer();
  RawConnection conn(server_->port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(conn.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = conn.ReadResponse();
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(r->result_int(), 200);
    EXPECT_TRUE(r->keep_alive());
  }
  // Two requests in one packet are answered in order.
  ASSERT_TRUE(conn.Send("GET /things/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /things/2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(conn.ReadResponse()->body(), "1");
  EXPECT_EQ(conn.ReadResponse()->body(), "2");
}

TEST_F(HttpServerTest, PipelinedRequestsAnsweredFromAnotherThreadComeBackInOrder) {
  // Each /slow answer is sent by its worker thread; the second request, already read with the
  // first, is parsed only after the first answer's bookkeeping on the I/O thread.
  slow_delay_ = 50ms;
  StartServer();
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.Send("GET /slow HTTP/1.1\r\nHost: x\r\nX-Request-Id: first\r\n\r\n"
                        "GET /slow HTTP/1.1\r\nHost: x\r\nX-Request-Id: second\r\n\r\n"));
  for (const char* id : {"first", "second"}) {
    auto r = conn.ReadResponse();
    ASSERT_TRUE(r.has_value()) << id;
    EXPECT_EQ(r->result_int(), 200);
    EXPECT_EQ(r->body(), R"({"slow":true})");
    EXPECT_EQ((*r)["X-Request-Id"], id);
  }
  ASSERT_TRUE(conn.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto last = conn.ReadResponse();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->result_int(), 200);
}

TEST_F(HttpServerTest, BodyOverRouteLimitIs413) {
  StartServer();
  auto r = Client()->Send(HttpMethod::kPost, "/echo", std::string(17, 'x'));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 413);
  EXPECT_THAT(r->body, HasSubstr("limit of 16 bytes"));
  auto ok = Client()->Send(HttpMethod::kPost, "/echo", std::string(16, 'x'));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, ServerWideBodyLimitAppliesToOtherRoutes) {
  StartServer({.max_body_bytes = 1000});
  EXPECT_EQ(Client()->Send(HttpMethod::kPost, "/big", std::string(1001, 'x'))->status, 413);
  EXPECT_EQ(Client()->Send(HttpMethod::kPost, "/big", std::string(1000, 'x'))->body, "1000");
}

TEST_F(HttpServerTest, AnnouncedHugeBodyIsRefusedBeforeItIsSent) {
  StartServer();
  RawConnection conn(server_->port());
  conn.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n");
  auto r = conn.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 413);
  EXPECT_FALSE(r->keep_alive());
}

TEST_F(HttpServerTest, ChunkedBodyOverLimitIs413) {
  StartServer();
  RawConnection conn(server_->port());
  conn.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
  auto r = conn.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 413);
}

TEST_F(HttpServerTest, ChunkedBodyWithinLimitIsServed) {
  StartServer();
  RawConnection conn(server_->port());
  conn.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n0\r\n\r\n");
  auto r = conn.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body(), "hello");
}

TEST_F(HttpServerTest, ExpectContinueIsHonoured) {
  StartServer();
  RawConnection conn(server_->port());
  conn.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_THAT(conn.ReadUntil("\r\n\r\n"), HasSubstr("100 Continue"));
  conn.Send("hello");
  auto r = conn.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body(), "hello");
}

TEST_F(HttpServerTest, HeadersTooLargeIs431) {
  StartServer({.max_header_bytes = 2048});
  RawConnection conn(server_->port());
  conn.Send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n");
  auto r = conn.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 431);
  EXPECT_THAT(r->body(), HasSubstr("2048 bytes"));
}

TEST_F(HttpServerTest, MalformedRequestIs400AndServerKeepsServing) {
  StartServer();
  for (const char* garbage : {"this is not http\r\n\r\n", "GET /hello HTTP/9.9\r\n\r\n",
                              "GET /hello HTTP/1.1\r\nBad Header\r\n\r\n",
                              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                              "GET hello HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    RawConnection conn(server_->port());
    conn.Send(garbage);
    auto r = conn.ReadResponse();
    ASSERT_TRUE(r.has_value()) << garbage;
    EXPECT_EQ(r->result_int(), 400) << garbage;
    EXPECT_THAT(r->body(), HasSubstr("\"error\"")) << garbage;
  }
  EXPECT_EQ(Client()->Get("/hello")->status, 200);
}

TEST_F(HttpServerTest, SlowLorisIsClosedAfterReadTimeoutWithoutBlockingOthers) {
  StartServer({.read_timeout = absl::Milliseconds(400)});
  RawConnection slow(server_->port());
  ASSERT_TRUE(slow.Send("GET /hello HTTP/1.1\r\nHo"));
  // Others are served meanwhile.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Client()->Get("/hello")->status, 200);
  std::this_thread::sleep_for(150ms);
  slow.Send("s");  // trickling bytes does not extend the deadline
  EXPECT_TRUE(slow.ClosedByPeerWithin(2s));
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  StartServer({.idle_timeout = absl::Milliseconds(200)});
  RawConnection conn(server_->port());
  conn.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(conn.ReadResponse().has_value());
  EXPECT_TRUE(conn.ClosedByPeerWithin(2s));
}

TEST_F(HttpServerTest, AKeptAliveConnectionStaysOpenWithinItsIdleTimeout) {
  StartServer({.idle_timeout = absl::Seconds(5)});
  RawConnection conn(server_->port());
  conn.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(conn.ReadResponse().has_value());
  EXPECT_FALSE(conn.ClosedByPeerWithin(300ms));  // the wait ends with the timeout, not a hang
}

TEST_F(HttpServerTest, AsyncHandlerAnswersFromAnotherThread) {
  slow_delay_ = 50ms;
  StartServer();
  auto r = Client()->Get("/slow");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, R"({"slow":true})");
}

TEST_F(HttpServerTest, ALargeAnswerFromAnotherThreadArrivesWholeAndTheConnectionGoesOn) {
  // Answers from other threads are sent from there when the server is not busy; what the socket
  // does not take at once (the client reads nothing for a while) the I/O thread writes after.
  StartServer();
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.Send("GET /large-from-thread HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(300ms);
  auto large = connection.ReadResponse();
  ASSERT_TRUE(large.has_value());
  EXPECT_EQ(large->result_int(), 200);
  ASSERT_EQ(large->body().size(), 16u << 20);
  bool intact = true;
  for (size_t i = 0; i < large->body().size() && intact; ++i) intact = large->body()[i] == static_cast<char>('a' + i % 23);
  EXPECT_TRUE(intact);
  ASSERT_TRUE(connection.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto next = connection.ReadResponse();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body(), R"({"hello":"world"})");
  for (int i = 0; i < 100 && observer_.records().size() < 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_THAT(observer_.records(), ::testing::ElementsAre("GET /large-from-thread 200", "GET /hello 200"));
}

TEST_F(HttpServerTest, HandlerThatNeverAnswersGets500) {
  StartServer();
  auto r = Client()->Get("/forgetful");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_THAT(r->body, HasSubstr("did not produce a response"));
}

TEST_F(HttpServerTest, AHandlerCanTellThatTheClientHasGone) {
  std::mutex mutex;
  std::function<bool()> client_gone;
  std::optional<Responder> held;
  Add(HttpMethod::kGet, "/hold", [&](HttpRequest request, Responder responder) {
    std::lock_guard<std::mutex> lock(mutex);
    client_gone = request.client_gone;
    held.emplace(std::move(responder));
  });
  StartServer();
  auto gone = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return client_gone && client_gone();
  };
  auto handled = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return held.has_value();
  };
  {
    RawConnection conn(server_->port());
    conn.Send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    for (int i = 0; i < 400 && !handled(); ++i) std::this_thread::sleep_for(5ms);
    ASSERT_TRUE(handled());
    EXPECT_FALSE(gone());  // connected and waiting
  }  // the client closes its connection
  for (int i = 0; i < 400 && !gone(); ++i) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(gone());
  held->Send(HttpResponse::Text(200, "too late"));  // answering a departed client is harmless
}

TEST_F(HttpServerTest, RequestIdIsEchoedOrGenerated) {
  StartServer();
  auto given = Client()->Send(HttpMethod::kGet, "/request-id", "", {{"X-Request-Id", "abc-123"}});
  EXPECT_EQ(given->body, "abc-123");
  EXPECT_EQ(*given->Header("X-Request-Id"), "abc-123");
  auto a = Client()->Get("/request-id");
  auto b = Client()->Get("/request-id");
  EXPECT_FALSE(a->body.empty());
  EXPECT_NE(a->body, b->body);
  EXPECT_EQ(*a->Header("X-Request-Id"), a->body);
}

TEST_F(HttpServerTest, ObserversSeeEveryAnsweredRequest) {
  StartServer();
  ASSERT_TRUE(Client()->Get("/things/9").ok());
  ASSERT_TRUE(Client()->Get("/missing").ok());
  // Observers run once the write completes, which may be just after the client has the answer.
  for (int i = 0; i < 200 && observer_.records().size() < 2; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_THAT(observer_.records(), ::testing::ElementsAre("GET /things/{id} 200", "GET unmatched 404"));
}

TEST_F(HttpServerTest, GracefulShutdownFinishesRequestsInFlight) {
  slow_delay_ = 400ms;
  StartServer();
  const uint16_t port = server_->port();
  auto pending = std::async(std::launch::async, [port] {
    return HttpClient::Create("http://127.0.0.1:" + std::to_string(port)).value()->Get("/slow");
  });
  RawConnection idle(port);  // an idle keep-alive connection must not hold up shutdown
  idle.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(idle.ReadResponse().has_value());
  while (slow_started_.load() == 0) std::this_thread::sleep_for(1ms);

  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5)));
  auto r = pending.get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(*r->Header("Connection"), "close");
  EXPECT_TRUE(idle.ClosedByPeerWithin(1s));
  EXPECT_FALSE(Client()->Get("/hello").ok());  // no longer accepting
}

TEST_F(HttpServerTest, ShutdownGivesUpAfterDrainTimeout) {
  slow_delay_ = 1500ms;
  StartServer();
  const uint16_t port = server_->port();
  auto pending = std::async(std::launch::async, [port] {
    return HttpClient::Create("http://127.0.0.1:" + std::to_string(port)).value()->Get("/slow");
  });
  while (slow_started_.load() == 0) std::this_thread::sleep_for(1ms);
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(server_->Shutdown(absl::Milliseconds(100)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_FALSE(pending.get().ok());  // cut off
}

TEST_F(HttpServerTest, PortInUseIsAClearError) {
  StartServer();
  auto second = HttpServer::Start({.port = server_->port()}, router_, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("in use"));
}

std::string Bytes(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>((i * 7919) % 251);
  return out;
}

TEST_F(HttpServerTest, StreamedBodyReachesTheSinkWhole) {
  StartServer();
  const std::string body = Bytes(3 << 20);
  auto r = Client()->Send(HttpMethod::kPost, "/upload", body);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, std::to_string(body.size()) + ":" + std::to_string(std::hash<std::string>()(body)));

  RawConnection conn(server_->port());  // chunked, with 100-continue
  conn.Send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_THAT(conn.ReadUntil("\r\n\r\n"), HasSubstr("100 Continue"));
  conn.Send("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  auto chunked = conn.ReadResponse();
  ASSERT_TRUE(chunked.has_value());
  EXPECT_EQ(chunked->body(), "5:" + std::to_string(std::hash<std::string>()("abcde")));
  // The handler's request (and with it the sink) goes away just after the answer is sent.
  for (int i = 0; i < 200 && sinks_alive_.load() != 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(sinks_alive_.load(), 0);
}

TEST_F(HttpServerTest, StreamedBodyErrorsAnswerAndAbandonTheSink) {
  StartServer();
  auto refused = Client()->Send(HttpMethod::kPost, "/upload", "data", {{"X-Refuse", "1"}});
  EXPECT_EQ(refused->status, 409);
  EXPECT_THAT(refused->body, HasSubstr("refused by the sink factory"));

  auto failing = Client()->Send(HttpMethod::kPost, "/upload", Bytes(1 << 20), {{"X-Fail-After", "1"}});
  ASSERT_TRUE(failing.ok()) << failing.status();
  EXPECT_EQ(failing->status, 429);
  EXPECT_THAT(failing->body, HasSubstr("disk full"));

  RawConnection over(server_->port());  // chunked past the route's 4 MiB limit
  over.Send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = Bytes(1 << 20);
  char size_line[32];
  std::snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk.size());
  for (int i = 0; i < 5; ++i) over.Send(size_line + chunk + "\r\n");
  auto r = over.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 413);

  {
    RawConnection gone(server_->port());  // the client vanishes mid-body
    gone.Send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + Bytes(1000));
    std::this_thread::sleep_for(50ms);
  }
  for (int i = 0; i < 200 && sinks_alive_.load() != 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(sinks_alive_.load(), 0);
}

TEST_F(HttpServerTest, FileResponsesServeWholeFilesAndRanges) {
  file_content_ = Bytes(1 << 20);
  {
    std::ofstream out(file_path_, std::ios::binary | std::ios::trunc);
    out << file_content_;
  }
  StartServer();
  auto whole = Client()->Get("/file");
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body, file_content_);
  EXPECT_EQ(*whole->Header("Accept-Ranges"), "bytes");

  auto range = Client()->Send(HttpMethod::kGet, "/file", "", {{"Range", "bytes=10-19"}});
  EXPECT_EQ(range->status, 206);
  EXPECT_EQ(range->body, file_content_.substr(10, 10));
  EXPECT_EQ(*range->Header("Content-Range"), "bytes 10-19/1048576");

  auto suffix = Client()->Send(HttpMethod::kGet, "/file", "", {{"Range", "bytes=-5"}});
  EXPECT_EQ(suffix->body, file_content_.substr(file_content_.size() - 5));
  auto open_ended = Client()->Send(HttpMethod::kGet, "/file", "", {{"Range", "bytes=1048570-"}});
  EXPECT_EQ(open_ended->body, file_content_.substr(1048570));

  auto beyond = Client()->Send(HttpMethod::kGet, "/file", "", {{"Range", "bytes=2000000-"}});
  EXPECT_EQ(beyond->status, 416);
  EXPECT_EQ(*beyond->Header("Content-Range"), "bytes */1048576");

  const std::string download = ::testing::TempDir() + "/meridian-http-download.bin";
  auto saved = Client()->Download("/file", download);
  ASSERT_TRUE(saved.ok()) << saved.status();
  std::ifstream in(download, std::ios::binary);
  std::string read((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(read, file_content_);
}

class TlsTest : public HttpServerTest {
 protected:
  void SetUp() override {
    HttpServerTest::SetUp();
    // Per process and test: ctest runs tests of this binary in parallel processes.
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("meridian-tls-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    const std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
        (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string() + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl must be installed (scripts/setup does)";
  }
  void TearDown() override {
    HttpServerTest::TearDown();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

TEST_F(TlsTest, ServesHttpsWithAVerifiedCertificate) {
  ASSERT_NO_FATAL_FAILURE(StartServer({.tls = TlsFiles{(dir_ / "cert.pem").string(), (dir_ / "key.pem").string()}}));
  EXPECT_TRUE(server_->tls());
  auto client = HttpClient::Create("https://127.0.0.1:" + std::to_string(server_->port()),
                                   {.ca_file = (dir_ / "cert.pem").string()});
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Get("/hello");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);

  // Without trusting the certificate the client refuses it.
  auto untrusting = HttpClient::Create("https://127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_FALSE((*untrusting)->Get("/hello").ok());
  // Plain HTTP on the TLS port gets no answer, and the server keeps serving.
  RawConnection plain(server_->port(), 2s);
  plain.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_FALSE(plain.ReadResponse().has_value());
  EXPECT_EQ((*client)->Get("/hello")->status, 200);
}

TEST_F(TlsTest, MissingCertificateNamesTheFile) {
  auto server = HttpServer::Start({.tls = TlsFiles{"/nonexistent/cert.pem", (dir_ / "key.pem").string()}},
                                  router_, {});
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("/nonexistent/cert.pem"));
}

}  // namespace
}  // namespace meridian::http
