#include "http/http_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <limits>
#include <mutex>
#include <random>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "common/logging.h"
#include "common/status_codes.h"
#include "http/connection_registry.h"
#include "http/listener.h"
#include "http/tls_context.h"

namespace meridian::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr size_t kReadChunk = 8192;
constexpr size_t kSinkChunk = 256 * 1024;
// How long a closing connection keeps reading (and discarding) what the client still sends, so
// that the kernel does not answer it with a reset that destroys the response we just wrote.
constexpr auto kLingerTime = std::chrono::milliseconds(500);
constexpr absl::string_view kUnmatched = "unmatched";

std::chrono::steady_clock::duration ToChrono(absl::Duration d) { return absl::ToChronoNanoseconds(d); }

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // The connection's place under the connection limit, given back when the session ends.
  void Hold(ConnectionLimit::Slot slot) { slot_ = std::move(slot); }
  // Runs on the session's own thread: closes the connection if it waits for a request.
  virtual void CloseIfIdle() = 0;
  // Closes the connection now. Only when no I/O thread runs (end of shutdown).
  virtual void ForceClose() = 0;
  virtual net::any_io_executor executor() = 0;

 private:
  ConnectionLimit::Slot slot_;
};

// What every connection shares with the server. Sessions hold it by shared_ptr so that it
// outlives them however the server shuts down.
struct ServerState {
  // Owned here rather than by the server so that a Responder held past shutdown (by some
  // component that still finishes work) never refers to a destroyed io_context.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::atomic<bool> closed{false};  // the I/O threads are gone; responses are dropped
  HttpServerOptions options;
  std::shared_ptr<const Router> router;
  std::vector<RequestObserver*> observers;
  std::atomic<bool> draining{false};
  std::atomic<int64_t> in_flight{0};
  std::string request_id_prefix;
  std::atomic<uint64_t> next_request_id{1};

  ConnectionRegistry<SessionBase> sessions;

  // Whether an answer produced on another thread (an instance's) is best sent from there. With
  // few requests in flight the I/O threads are mostly asleep, and waking one costs the client a
  // thread wake-up (15-20 us on a virtual machine); under load they are awake anyway, and sends
  // from the instance thread would hold up its next batch. Measured on 2 cores, 2 I/O threads,
  // against always posting to the I/O thread: 1 client +20-25 % requests/s, 8 clients +4-6 %;
  // always sending from the instance thread: 16 clients -7..-12 %, 64 clients -7..-12 %.
  bool AnswerOnAnsweringThread() const {
    return in_flight.load(std::memory_order_relaxed) <= 4 * static_cast<int64_t>(contexts.size());
  }

  std::string NextRequestId() {
    return absl::StrCat(request_id_prefix, "-",
                        absl::Hex(next_request_id.fetch_add(1, std::memory_order_relaxed)));
  }
};

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  Session(std::shared_ptr<ServerState> state, Stream stream, std::string remote,
          std::shared_ptr<const void> tls_context = nullptr)
      : state_(std::move(state)),
        stream_(std::move(stream)),
        remote_(std::move(remote)),
        tls_context_(std::move(tls_context)),
        context_(static_cast<net::io_context&>(net::query(stream_.get_executor(), net::execution::context))) {}

  ~Session() override {
    if (file_.fd >= 0) close(file_.fd);
    if (id_ != 0) state_->sessions.Remove(id_);
    if (counted_) state_->in_flight.fetch_sub(1);
  }

  void Start() {
    id_ = state_->sessions.Add(this->weak_from_this());
    if constexpr (kTls) {
      Lowest().expires_after(ToChrono(state_->options.read_timeout));
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->Close();
                                self->client_certificate_ = PeerCommonName(self->stream_.native_handle());
                                self->WaitForRequest();
                              });
    } else {
      WaitForRequest();
    }
  }

  void CloseIfIdle() override {
    if (phase_ == Phase::kIdle) Close();
  }

  void ForceClose() override { Close(); }

  net::any_io_executor executor() override { return stream_.get_executor(); }

 private:
  enum class Phase { kIdle, kReading, kHandling, kWriting, kClosing };

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void WaitForRequest() {
    phase_ = Phase::kIdle;
    if (state_->draining.load()) return Close();
    if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
    Lowest().expires_after(ToChrono(first_request_ ? state_->options.read_timeout
                                                   : state_->options.idle_timeout));
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->buffer_.commit(n);
                              if (ec) return self->Close();
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    phase_ = Phase::kReading;
    first_request_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(state_->options.max_header_bytes));
    // Checked per route once the route is known. (Not boost::none: Boost 1.74 compares
    // `length > none` as true and rejects every body.)
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
    Lowest().expires_after(ToChrono(state_->options.read_timeout));  // for the header and the body
    ContinueHeader();
  }

  // Requests are parsed by feeding Beast's parser from our own reads rather than through
  // bhttp::async_read, and answers are written as one pre-formatted head plus the body: Beast's
  // composed read and write operations cost more than everything else a request does (a bare
  // Beast server answered 37k requests/s where the same parser fed by hand answered 68k).
  //
  // Parses what the buffer holds; returns false on a parse error (in *ec) or when more bytes are
  // needed (no error).
  bool ParseBuffered(bhttp::request_parser<bhttp::string_body>& parser, bool header_only, beast::error_code* ec) {
    while (buffer_.size() > 0 && !(header_only ? parser.is_header_done() : parser.is_done())) {
      const size_t used = parser.put(buffer_.data(), *ec);
      if (*ec == bhttp::error::need_more) {
        *ec = {};
        return false;
      }
      if (*ec) return false;
      buffer_.consume(used);
      if (used == 0) return false;
    }
    return header_only ? parser.is_header_done() : parser.is_done();
  }

  // A read that ended the stream, as Beast's own read would report it.
  beast::error_code EndOfStream(beast::error_code ec, bool started) {
    if (ec != net::error::eof) return ec;
    return started ? beast::error_code(bhttp::error::partial_message) : beast::error_code(bhttp::error::end_of_stream);
  }

  void ContinueHeader() {
    beast::error_code ec;
    if (ParseBuffered(*parser_, true, &ec) || ec) return OnHeader(ec);
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->buffer_.commit(n);
                              if (ec) return self->OnHeader(self->EndOfStream(ec, self->parser_->got_some() || self->buffer_.size() > 0));
                              self->ContinueHeader();
                            });
  }

  void BeginRequest(bool parsed) {
    start_ = std::chrono::steady_clock::now();
    counted_ = true;
    state_->in_flight.fetch_add(1);
    // Honour a caller's X-Request-Id (bounded, so logs stay sane); otherwise make one up.
    if (parsed) {
      const auto& msg = parser_->get();
      if (auto it = msg.find("X-Request-Id"); it != msg.end() && !it->value().empty() &&
                                               it->value().size() <= 128) {
        request_id_ = std::string(it->value());
      }
    }
    if (request_id_.empty()) request_id_ = state_->NextRequestId();
  }

  void OnHeader(beast::error_code ec) {
    if (ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
        ec == net::error::eof || ec == net::error::connection_reset ||
        ec == net::error::operation_aborted) {
      return Close();  // a silent, slow or vanished client: nobody to answer
    }
    BeginRequest(!ec);
    if (ec == bhttp::error::header_limit) {
      return Fail(431, absl::StrCat("request headers exceed the limit of ",
                                    state_->options.max_header_bytes, " bytes"));
    }
    if (ec) return Fail(400, absl::StrCat("malformed HTTP request: ", ec.message()));

    const auto& msg = parser_->get();
    method_name_ = std::string(msg.method_string());
    target_ = std::string(msg.target());
    keep_alive_ = msg.keep_alive();
    const size_t q = target_.find('?');
    const absl::string_view path = absl::string_view(target_).substr(0, q);
    std::optional<HttpMethod> method = ParseMethod(method_name_);
    if (!method || target_.empty() || target_.front() != '/') {
      if (!method) return Fail(405, absl::StrCat("method ", method_name_, " is not supported"), false);
      return Fail(400, "the request target must be an absolute path", false);
    }
    if (const uint16_t https_port = state_->options.redirect_to_https_port; https_port != 0) {
      auto host = msg.find(bhttp::field::host);
      std::string name = host == msg.end() ? state_->options.host : std::string(host->value());
      if (const size_t colon = name.rfind(':'); colon != std::string::npos && name.find(']', colon) == std::string::npos) {
        name.resize(colon);
      }
      const std::string location = absl::StrCat("https://", name, ":", https_port, target_);
      extra_headers_.emplace_back("Location", location);
      return Fail(308, absl::StrCat("this port serves plain HTTP only to redirect: use ", location), false);
    }
    match_ = state_->router->Match(*method, path);
    if (match_.kind == RouteMatch::Kind::kNotFound) {
      return Fail(404, absl::StrCat("no route for ", method_name_, " ", path), false);
    }
    if (match_.kind == RouteMatch::Kind::kMethodNotAllowed) {
      extra_headers_.emplace_back("Allow", match_.allow);
      return Fail(405, absl::StrCat("method ", method_name_, " is not allowed on ", path,
                                    "; allowed: ", match_.allow),
                  false);
    }
    namespace_ = std::string(kDefaultNamespace);
    for (const auto& [name, value] : match_.params) {
      if (name == "ns") namespace_ = value;
    }
    if (RequestGate* gate = state_->options.gate) {
      auto authorization = msg.find(bhttp::field::authorization);
      GateDecision decision = gate->Check(
          {.resource = match_.route->resource,
           .verb = match_.route->verb,
           .namespace_name = namespace_,
           .authorization = authorization == msg.end() ? absl::string_view() : absl::string_view(authorization->value().data(), authorization->value().size()),
           .client_address = remote_,
           .method = method_name_,
           .target = path,
           .request_id = request_id_,
           .client_certificate = client_certificate_});
      principal_ = std::move(decision.principal);
      if (!decision.allowed) {
        denied_by_gate_ = true;
        for (auto& header : decision.headers) extra_headers_.push_back(std::move(header));
        // The body is not read: close afterwards rather than parse what an unauthorised client sent.
        return Fail(decision.status, decision.message);
      }
    }
    const uint64_t limit = match_.route->max_body_bytes.value_or(state_->options.max_body_bytes);
    if (auto length = parser_->content_length(); length && *length > limit) {
      return Fail(413, absl::StrCat("request body of ", *length, " bytes exceeds the limit of ",
                                    limit, " bytes for this endpoint"));
    }
    if (parser_->is_done()) return Dispatch();
    parser_->body_limit(limit);
    auto expect = msg.find(bhttp::field::expect);
    const bool expect_continue =
        expect != msg.end() && beast::iequals(expect->value(), "100-continue");
    const bool streamed = static_cast<bool>(match_.route->body_sink);
    if (streamed) {
      HttpRequest head;
      if (absl::Status s = FillHead(msg, head); !s.ok()) return Fail(400, s.message());
      auto sink = match_.route->body_sink(head);
      if (!sink.ok()) return Fail(ToHttpStatus(sink.status()), sink.status().message());
      sink_ = *std::move(sink);
      sink_parser_.emplace(std::move(*parser_));
      sink_parser_->body_limit(limit);
      parser_.reset();
    }
    if (expect_continue) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue),
                       [self = this->shared_from_this(), streamed](beast::error_code ec, size_t) {
                         if (ec) return self->Close();
                         streamed ? self->ReadSinkChunk() : self->ReadBody();
                       });
      return;
    }
    streamed ? ReadSinkChunk() : ReadBody();
  }

  // Streams the body into sink_, one chunk at a time; each chunk must arrive within the read
  // timeout (a large upload as a whole may take longer).
  void ReadSinkChunk() {
    if (chunk_.empty()) chunk_.resize(kSinkChunk);
    auto& body = sink_parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    body.more = true;
    Lowest().expires_after(ToChrono(state_->options.read_timeout));
    bhttp::async_read(stream_, buffer_, *sink_parser_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        self->OnSinkChunk(ec);
                      });
  }

  void OnSinkChunk(beast::error_code ec) {
    if (ec == bhttp::error::need_buffer) ec = {};
    const size_t received = chunk_.size() - sink_parser_->get().body().size;
    if (received > 0 && (!ec || ec == bhttp::error::body_limit)) {
      request_bytes_ += received;
      if (absl::Status s = sink_->Write(absl::string_view(chunk_.data(), received)); !s.ok()) {
        sink_.reset();
        return Fail(ToHttpStatus(s), s.message());
      }
    }
    if (ec) {
      sink_.reset();  // abandons the upload
      return OnBody(ec);
    }
    if (!sink_parser_->is_done()) return ReadSinkChunk();
    phase_ = Phase::kHandling;
    HttpRequest request;
    if (absl::Status s = FillHead(sink_parser_->get(), request); !s.ok()) return Fail(400, s.message());
    request.body_sink = std::move(sink_);
    sink_parser_.reset();
    Invoke(std::move(request));
  }

  void ReadBody() {
    beast::error_code ec;
    if (ParseBuffered(*parser_, false, &ec) || ec) return OnBody(ec);
    // Large bodies in large reads; the buffer shrinks back after the request (EndRequest).
    size_t want = kReadChunk;
    if (auto length = parser_->content_length_remaining()) {
      want = static_cast<size_t>(std::clamp<uint64_t>(*length, kReadChunk, kSinkChunk));
    }
    stream_.async_read_some(buffer_.prepare(want), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
      self->buffer_.commit(n);
      if (ec) return self->OnBody(self->EndOfStream(ec, true));
      self->ReadBody();
    });
  }

  void OnBody(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      const uint64_t limit = match_.route->max_body_bytes.value_or(state_->options.max_body_bytes);
      return Fail(413, absl::StrCat("request body exceeds the limit of ", limit,
                                    " bytes for this endpoint"));
    }
    if (ec == beast::error::timeout) return Fail(408, "the request body did not arrive in time");
    if (ec) {
      if (ec == bhttp::error::partial_message || ec == net::error::eof ||
          ec == net::error::connection_reset) {
        return Close();  // the client went away mid-body
      }
      return Fail(400, absl::StrCat("malformed HTTP request body: ", ec.message()));
    }
    Dispatch();
  }

  // Everything but the body, from the parsed header.
  template <class Message>
  absl::Status FillHead(const Message& msg, HttpRequest& request) {
    request.method = *ParseMethod(method_name_);
    request.target = target_;
    const size_t q = target_.find('?');
    request.path = target_.substr(0, q);
    if (q != std::string::npos) request.query = target_.substr(q + 1);
    request.headers.reserve(std::distance(msg.begin(), msg.end()));
    for (const auto& field : msg) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    for (auto& [name, raw] : match_.params) {
      auto decoded = PercentDecode(raw, false);
      if (!decoded.ok()) return decoded.status();
      request.path_params.emplace(name, *std::move(decoded));
    }
    request.route_pattern = match_.route->pattern;
    request.request_id = request_id_;
    request.remote_address = remote_;
    request.principal = principal_;
    return absl::OkStatus();
  }

  void Dispatch() {
    phase_ = Phase::kHandling;
    auto msg = parser_->release();
    HttpRequest request;
    if (absl::Status s = FillHead(msg, request); !s.ok()) return Fail(400, s.message(), false);
    request_bytes_ = msg.body().size();
    request.body = std::move(msg.body());
    Invoke(std::move(request));
  }

  // Whether the client closed or reset the connection while its request is handled: a
  // non-blocking peek at the socket (no read is outstanding while handling, and a peek consumes
  // nothing). Called from any thread.
  bool PeerGone() const {
    const int fd = handling_fd_.load();
    if (fd < 0) return false;
    char byte;
    const ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }

  void Invoke(HttpRequest request) {
    head_request_ = request.method == HttpMethod::kHead;
    handling_fd_.store(Lowest().socket().native_handle());
    request.client_gone = [weak = this->weak_from_this()] {
      auto self = weak.lock();
      return self != nullptr && self->PeerGone();
    };
    Responder responder([self = this->shared_from_this()](HttpResponse response) {
      if (self->state_->closed.load()) return;
      if constexpr (!kTls) {
        if (!response.file && self->state_->AnswerOnAnsweringThread() &&
            !self->context_.get_executor().running_in_this_thread()) {
          return self->WriteFromAnsweringThread(std::move(response));
        }
      }
      net::dispatch(self->stream_.get_executor(),
                    [self, response = std::move(response)]() mutable {
                      self->Write(std::move(response));
                    });
    });
    match_.route->handler(std::move(request), std::move(responder));
  }

  // Answers without running a handler. `close` ends the connection afterwards, for errors that
  // leave unread bytes (a body we will not read) or a stream we can no longer parse.
  void Fail(int status, absl::string_view message, bool close = true) {
    if (close) keep_alive_ = false;
    // A request body we did not read would be taken for the next request.
    if (parser_ && !parser_->is_header_done()) keep_alive_ = false;
    if (parser_ && parser_->is_header_done() && !parser_->is_done()) keep_alive_ = false;
    if (sink_parser_ && !sink_parser_->is_done()) keep_alive_ = false;
    Write(HttpResponse::Error(status, message));
  }

  static bool Bodiless(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

  // The answer's status and header fields, with the connection's own (server, request id, the
  // extras a refusal adds). Reads only what was set before the request was handed over, so the
  // answering thread may call it while the request is handled.
  bhttp::response<bhttp::empty_body> Header(const HttpResponse& response) const {
    bhttp::response<bhttp::empty_body> header(static_cast<bhttp::status>(response.status), 11);
    header.set(bhttp::field::server, "meridian");
    header.set(bhttp::field::content_type, response.content_type);
    if (!request_id_.empty()) header.set("X-Request-Id", request_id_);
    for (const auto& [name, value] : extra_headers_) header.set(name, value);
    for (const auto& [name, value] : response.headers) header.set(name, value);
    return header;
  }

  // The head as Beast would serialize it (fields in order, Content-Length unless the status has
  // no body, "Connection: close" when the connection ends).
  std::string FormatHead(const HttpResponse& response, bool keep_alive) const {
    bhttp::response<bhttp::empty_body> header = Header(response);
    if (!Bodiless(response.status)) header.content_length(response.body.size());
    if (!keep_alive) header.set(bhttp::field::connection, "close");
    std::string head = absl::StrCat("HTTP/1.1 ", response.status, " ");
    const beast::string_view reason = bhttp::obsolete_reason(header.result());
    head.append(reason.data(), reason.size());
    head += "\r\n";
    for (const auto& field : header) {
      head.append(field.name_string().data(), field.name_string().size());
      head += ": ";
      head.append(field.value().data(), field.value().size());
      head += "\r\n";
    }
    head += "\r\n";
    return head;
  }

  void Write(HttpResponse response) {
    handling_fd_.store(-1);
    if (phase_ == Phase::kClosing) return;
    phase_ = Phase::kWriting;
    status_ = response.status;
    const bool keep_alive = keep_alive_ && !state_->draining.load();
    if (response.file) return WriteFile(std::move(response), keep_alive);
    head_ = FormatHead(response, keep_alive);
    body_ = std::move(response.body);
    if (head_request_ || Bodiless(status_)) body_.clear();  // HEAD: Content-Length stays that of the GET
    WriteHeadAndBody(keep_alive, 0);
  }

  // Writes what is left of head_ and body_ after `sent` bytes, then completes the request.
  void WriteHeadAndBody(bool keep_alive, size_t sent) {
    if (sent > 0) {  // rare: a send from the answering thread went out in part
      head_ = absl::StrCat(absl::string_view(head_).substr(std::min(sent, head_.size())),
                           absl::string_view(body_).substr(sent > head_.size() ? sent - head_.size() : 0));
      body_.clear();
    }
    const std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::buffer(body_)};
    Lowest().expires_after(ToChrono(state_->options.read_timeout));
    net::async_write(stream_, buffers, [self = this->shared_from_this(), keep_alive, sent](beast::error_code ec, size_t n) {
      self->OnWrite(ec, sent + n, keep_alive);
    });
  }

  // Sends the answer from the thread that produced it (an instance thread), so that the client
  // does not wait for the connection's I/O thread to wake up (a thread wake-up is 15-20 us on a
  // virtual machine), then leaves the bookkeeping (observers, the next read) to the I/O thread.
  // Safe because while a request is handled no I/O thread touches this socket or these fields;
  // socket_mu_ keeps Close() from closing (and the kernel from reusing) the descriptor meanwhile.
  // Plain TCP only; a part the socket did not take is written by the I/O thread.
  void WriteFromAnsweringThread(HttpResponse response) {
    const bool keep_alive = keep_alive_ && !state_->draining.load();
    std::string head = FormatHead(response, keep_alive);
    std::string body = std::move(response.body);
    if (head_request_ || Bodiless(response.status)) body.clear();
    ssize_t sent = 0;
    int error = 0;
    {
      std::lock_guard<std::mutex> lock(socket_mu_);
      const int fd = handling_fd_.exchange(-1);
      if (fd < 0) return;  // the connection was closed (shutdown): nobody to answer
      std::array<iovec, 2> parts{iovec{head.data(), head.size()}, iovec{body.data(), body.size()}};
      msghdr message{};
      message.msg_iov = parts.data();
      message.msg_iovlen = body.empty() ? 1 : 2;
      sent = sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent < 0) {
        error = errno;
        sent = 0;
      }
    }
    net::post(stream_.get_executor(), [self = this->shared_from_this(), head = std::move(head), body = std::move(body),
                                       status = response.status, sent = static_cast<size_t>(sent), error,
                                       keep_alive]() mutable {
      if (self->phase_ == Phase::kClosing) return;
      self->phase_ = Phase::kWriting;
      self->status_ = status;
      if (error != 0 && error != EAGAIN && error != EWOULDBLOCK) {
        return self->OnWrite(beast::error_code(error, boost::system::system_category()), 0, keep_alive);
      }
      if (sent == head.size() + body.size()) return self->OnWrite({}, sent, keep_alive);
      self->head_ = std::move(head);
      self->body_ = std::move(body);
      self->WriteHeadAndBody(keep_alive, sent);
    });
  }

  // Sends the answer's header with the slice's length, then the slice in chunks read with
  // pread, so that a large artifact never sits in memory.
  void WriteFile(HttpResponse response, bool keep_alive) {
    file_ = FileSender{};
    file_.fd = open(response.file->path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file_.fd < 0) {
      log::Error("cannot open file for a response", {{"path", response.file->path}, {"error", std::strerror(errno)}});
      return Write(HttpResponse::Error(500, "the file to send could not be opened"));
    }
    file_.offset = response.file->offset;
    file_.remaining = head_request_ ? 0 : response.file->length;
    file_.keep_alive = keep_alive;
    file_header_.emplace(Header(response));
    file_header_->content_length(response.file->length);
    file_header_->keep_alive(keep_alive);
    file_serializer_.emplace(*file_header_);
    Lowest().expires_after(ToChrono(state_->options.read_timeout));
    bhttp::async_write_header(stream_, *file_serializer_,
                              [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                                self->file_.sent += n;
                                if (ec) return self->FinishFile(ec);
                                self->WriteFileChunk();
                              });
  }

  void WriteFileChunk() {
    if (file_.remaining == 0) return FinishFile({});
    if (chunk_.size() < kSinkChunk) chunk_.resize(kSinkChunk);
    const size_t want = static_cast<size_t>(std::min<uint64_t>(file_.remaining, chunk_.size()));
    ssize_t n = pread(file_.fd, chunk_.data(), want, static_cast<off_t>(file_.offset));
    if (n <= 0) {
      // The file shrank or failed under us: the length is already promised, so the connection
      // has to go; the client sees a short body.
      log::Error("short read while sending a file", {{"error", n < 0 ? std::strerror(errno) : "end of file"}});
      return FinishFile(net::error::make_error_code(net::error::broken_pipe));
    }
    file_.offset += static_cast<uint64_t>(n);
    file_.remaining -= static_cast<uint64_t>(n);
    Lowest().expires_after(ToChrono(state_->options.read_timeout));
    net::async_write(stream_, net::buffer(chunk_.data(), static_cast<size_t>(n)),
                     [self = this->shared_from_this()](beast::error_code ec, size_t written) {
                       self->file_.sent += written;
                       if (ec) return self->FinishFile(ec);
                       self->WriteFileChunk();
                     });
  }

  void FinishFile(beast::error_code ec) {
    close(file_.fd);
    file_.fd = -1;
    file_serializer_.reset();
    file_header_.reset();
    OnWrite(ec, file_.sent, file_.keep_alive);
  }

  void OnWrite(beast::error_code ec, size_t bytes, bool keep_alive) {
    CompletedRequest record{
        .method = method_name_.empty() ? absl::string_view("UNKNOWN") : absl::string_view(method_name_),
        .route = match_.route ? absl::string_view(match_.route->pattern) : kUnmatched,
        .target = target_,
        .status = status_,
        .duration = absl::FromChrono(std::chrono::steady_clock::now() - start_),
        .request_body_bytes = request_bytes_,
        .response_bytes = bytes,
        .remote_address = remote_,
        .request_id = request_id_,
        .resource = match_.route ? absl::string_view(match_.route->resource) : absl::string_view(),
        .verb = match_.route ? absl::string_view(match_.route->verb) : absl::string_view(),
        .namespace_name = namespace_,
        .principal = principal_,
        .denied_by_gate = denied_by_gate_};
    for (RequestObserver* observer : state_->observers) observer->OnRequestCompleted(record);
    EndRequest();
    if (ec) return Close();
    if (!keep_alive) return CloseGracefully();
    WaitForRequest();
  }

  void EndRequest() {
    if (counted_) {
      counted_ = false;
      state_->in_flight.fetch_sub(1);
    }
    body_.clear();
    if (body_.capacity() > kReadChunk * 8) std::string().swap(body_);
    if (buffer_.capacity() > kReadChunk * 8 && buffer_.size() <= kReadChunk) buffer_.shrink_to_fit();
    match_ = RouteMatch{};
    extra_headers_.clear();
    method_name_.clear();
    target_.clear();
    request_id_.clear();
    namespace_.clear();
    principal_.clear();
    denied_by_gate_ = false;
    request_bytes_ = 0;
    head_request_ = false;
  }

  void CloseGracefully() {
    phase_ = Phase::kClosing;
    if constexpr (kTls) {
      Lowest().expires_after(kLingerTime);
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->Close(); });
    } else {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      Linger();
    }
  }

  void Linger() {
    Lowest().expires_after(kLingerTime);
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = this->shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Linger();
                            });
  }

  void Close() {
    phase_ = Phase::kClosing;
    std::lock_guard<std::mutex> lock(socket_mu_);  // not while an answering thread sends
    handling_fd_.store(-1);
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

  std::shared_ptr<ServerState> state_;
  Stream stream_;
  std::string remote_;
  std::shared_ptr<const void> tls_context_;  // the certificate this connection was accepted with
  std::string client_certificate_;           // common name of a verified client certificate
  std::string namespace_;
  std::string principal_;
  bool denied_by_gate_ = false;
  net::io_context& context_;  // the I/O thread's, which runs every handler of this connection
  std::atomic<int> handling_fd_{-1};  // the socket, while a request is handled (for PeerGone)
  std::mutex socket_mu_;              // held to close the socket and to send from an answering thread
  uint64_t id_ = 0;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string head_;  // the response head being written
  std::string body_;  // the response body being written
  // Streamed request bodies (routes with a BodySinkFactory).
  std::optional<bhttp::request_parser<bhttp::buffer_body>> sink_parser_;
  std::shared_ptr<BodySink> sink_;
  std::vector<char> chunk_;  // sink and file transfer buffer, allocated on first use
  // Streamed file responses.
  struct FileSender {
    int fd = -1;
    uint64_t offset = 0;
    uint64_t remaining = 0;
    uint64_t sent = 0;
    bool keep_alive = false;
  };
  FileSender file_;
  std::optional<bhttp::response<bhttp::empty_body>> file_header_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> file_serializer_;
  Phase phase_ = Phase::kIdle;
  bool first_request_ = true;
  bool counted_ = false;
  bool keep_alive_ = true;
  bool head_request_ = false;
  RouteMatch match_;
  HeaderList extra_headers_;
  std::string method_name_;
  std::string target_;
  std::string request_id_;
  uint64_t request_bytes_ = 0;
  int status_ = 0;
  SteadyTime start_;
};

std::string RandomPrefix() {
  std::random_device rd;
  return absl::StrCat(absl::Hex(rd() & 0xffffffu, absl::kZeroPad6));
}

}  // namespace

class HttpServer::Impl {
 public:
  explicit Impl(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}

  absl::Status Listen() {
    const HttpServerOptions& o = state_->options;
    const int threads = std::max(1, o.io_threads);
    for (int i = 0; i < threads; ++i) {
      state_->contexts.push_back(std::make_unique<net::io_context>(1));
    }
    if (o.tls) {
      if (absl::Status s = ReloadTls(); !s.ok()) return s;
    }
    absl::StatusOr<std::shared_ptr<tcp::acceptor>> acceptor = OpenListener(*state_->contexts[0], o.host, o.port);
    if (!acceptor.ok()) return acceptor.status();
    acceptor_ = *std::move(acceptor);
    port_ = acceptor_->local_endpoint().port();
    AcceptConnections(acceptor_, state_->contexts, o.connection_limit,
                      [this](tcp::socket socket, ConnectionLimit::Slot slot) {
                        StartSession(std::move(socket), std::move(slot));
                      });
    for (auto& ctx : state_->contexts) {
      guards_.emplace_back(ctx->get_executor());
      threads_.emplace_back([ctx = ctx.get(), poll = o.io_busy_poll] { RunIoThread(*ctx, "http-io", poll); });
    }
    return absl::OkStatus();
  }

  bool Shutdown(absl::Duration drain_timeout) {
    if (stopped_.exchange(true)) return true;
    state_->draining.store(true);
    if (!threads_.empty()) {
      std::promise<void> closed;
      net::post(*state_->contexts[0], [this, &closed] {
        beast::error_code ignored;
        if (acceptor_) acceptor_->close(ignored);
        closed.set_value();
      });
      closed.get_future().wait();
    }
    for (auto& session : state_->sessions.Live()) {
      net::post(session->executor(), [session] { session->CloseIfIdle(); });
    }
    const absl::Time deadline = absl::Now() + drain_timeout;
    while (state_->in_flight.load() > 0 && absl::Now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const bool drained = state_->in_flight.load() == 0;
    for (auto& ctx : state_->contexts) ctx->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    guards_.clear();
    state_->closed.store(true);
    // No I/O thread runs now: close what is left from here and run the aborted completions, so
    // that every session lets go of its socket.
    acceptor_.reset();
    for (auto& session : state_->sessions.Live()) session->ForceClose();
    for (auto& ctx : state_->contexts) {
      ctx->restart();
      ctx->poll();
    }
    return drained;
  }

  uint16_t port() const { return port_; }
  bool tls() const { return state_->options.tls.has_value(); }
  int64_t in_flight() const { return state_->in_flight.load(); }

 private:
  void StartSession(tcp::socket socket, ConnectionLimit::Slot slot) {
    beast::error_code ec;
    auto endpoint = socket.remote_endpoint(ec);
    std::string remote = ec ? "unknown" : endpoint.address().to_string();
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    if (std::shared_ptr<net::ssl::context> ssl = CurrentTls()) {
      auto session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          state_, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *ssl),
          std::move(remote), ssl);
      session->Hold(std::move(slot));
      net::post(executor, [session] { session->Start(); });
    } else {
      auto session = std::make_shared<Session<beast::tcp_stream>>(
          state_, beast::tcp_stream(std::move(socket)), std::move(remote));
      session->Hold(std::move(slot));
      net::post(executor, [session] { session->Start(); });
    }
  }

 public:
  absl::Status ReloadTls() {
    absl::StatusOr<std::shared_ptr<net::ssl::context>> ssl = MakeServerTlsContext(*state_->options.tls, TlsAlpn::kNone);
    if (!ssl.ok()) return ssl.status();
    absl::MutexLock lock(&ssl_mu_);
    ssl_ = *std::move(ssl);
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<net::ssl::context> CurrentTls() {
    absl::MutexLock lock(&ssl_mu_);
    return ssl_;
  }

  std::shared_ptr<ServerState> state_;
  absl::Mutex ssl_mu_;
  std::shared_ptr<net::ssl::context> ssl_ ABSL_GUARDED_BY(ssl_mu_);
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  std::shared_ptr<tcp::acceptor> acceptor_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options, std::shared_ptr<const Router> router,
    std::vector<RequestObserver*> observers) {
  if (!router) return absl::InvalidArgumentError("HttpServer needs a router");
  auto state = std::make_shared<ServerState>();
  state->options = options;
  state->router = std::move(router);
  state->observers = std::move(observers);
  state->request_id_prefix = RandomPrefix();
  auto impl = std::make_unique<Impl>(state);
  if (absl::Status s = impl->Listen(); !s.ok()) {
    impl->Shutdown(absl::ZeroDuration());
    return s;
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { impl_->Shutdown(absl::ZeroDuration()); }
uint16_t HttpServer::port() const { return impl_->port(); }
bool HttpServer::tls() const { return impl_->tls(); }
absl::Status HttpServer::ReloadTls() {
  if (!impl_->tls()) return absl::FailedPreconditionError("this server does not use TLS");
  return impl_->ReloadTls();
}
int64_t HttpServer::in_flight() const { return impl_->in_flight(); }
bool HttpServer::Shutdown(absl::Duration drain_timeout) { return impl_->Shutdown(drain_timeout); }

}  // namespace meridian::http
