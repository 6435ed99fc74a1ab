#include "http/http2_server.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/write.hpp"
#include "common/logging.h"
#include "http/adaptive_read_size.h"
#include "http/connection_registry.h"
#include "http/listener.h"
#include "http/tls_context.h"

namespace meridian::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// What one read takes from the socket (AdaptiveReadSize): from 16 KiB to 256 KiB.
constexpr size_t kMinReadChunk = 16 * 1024;
constexpr size_t kMaxReadChunk = 256 * 1024;
constexpr int kSmallReadsBeforeShrinking = 64;
// What one write hands to the socket at most; nghttp2 produces frames of up to 16 KiB.
constexpr size_t kWriteChunk = 256 * 1024;
// Flow-control windows advertised to clients. gRPC's own server starts at 64 KiB and grows them
// by probing bandwidth; large fixed windows let a big tensor arrive without waiting for
// WINDOW_UPDATEs, and the memory they allow is bounded by the streams' consumption.
constexpr int32_t kStreamWindow = 1 << 20;
constexpr int32_t kConnectionWindow = 16 << 20;

nghttp2_nv MakeNv(const std::pair<std::string, std::string>& header) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(header.first.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(header.second.data())), header.first.size(),
          header.second.size(), NGHTTP2_NV_FLAG_NONE};
}

absl::InlinedVector<nghttp2_nv, 8> MakeNvs(const Http2Stream::HeaderList& headers) {
  absl::InlinedVector<nghttp2_nv, 8> nvs;
  nvs.reserve(headers.size());
  for (const auto& header : headers) nvs.push_back(MakeNv(header));
  return nvs;
}

net::io_context& ContextOf(tcp::socket& socket) {
  return static_cast<net::io_context&>(net::query(socket.get_executor(), net::execution::context));
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace

// What every connection shares with the server; held by shared_ptr so that it outlives them
// however the server shuts down (an instance thread may still post an answer).
struct Http2ServerState {
  std::vector<std::unique_ptr<net::io_context>> contexts;
  Http2ServerOptions options;
  Http2Handler* handler = nullptr;
  std::atomic<bool> closed{false};  // the I/O threads are gone
  std::atomic<int64_t> open_streams{0};

  ConnectionRegistry<Http2Connection> connections;
};

// One client connection: an nghttp2 server session fed from the socket. Everything runs on the
// connection's I/O thread. nghttp2 must not be re-entered from its own callbacks, so what a
// callback submits is sent by the flush that follows the call into nghttp2.
class Http2Connection : public std::enable_shared_from_this<Http2Connection> {
 public:
  Http2Connection(std::shared_ptr<Http2ServerState> state, net::io_context& context, std::string peer_address)
      : state_(std::move(state)),
        context_(context),
        peer_address_(std::move(peer_address)),
        preface_timer_(context),
        idle_timer_(context) {}
  virtual ~Http2Connection() {
    if (session_ != nullptr) nghttp2_session_del(session_);
  }
  Http2Connection(const Http2Connection&) = delete;
  Http2Connection& operator=(const Http2Connection&) = delete;

  // On the I/O thread.
  virtual void Start() = 0;
  // The connection's place under the connection limit, given back when the connection is gone.
  void Hold(ConnectionLimit::Slot slot) { slot_ = std::move(slot); }

  // Tasks from other threads (answers from a model's instances) are queued and run together by
  // one hand-off to the I/O thread, and what they send goes out in one write: a batch's answers
  // for this connection cost one wake of the I/O thread, not one each.
  // Whether the I/O threads are gone (tasks are then dropped, see Run), and whether this is the
  // connection's I/O thread.
  bool io_threads_gone() const { return state_->closed.load(std::memory_order_acquire); }
  bool on_io_thread() const { return context_.get_executor().running_in_this_thread(); }

  void Run(std::function<void()> task) {
    if (io_threads_gone()) return;
    if (on_io_thread()) return task();
    bool first = false;
    {
      absl::MutexLock lock(&tasks_mutex_);
      first = tasks_.empty();
      tasks_.push_back(std::move(task));
    }
    if (first) net::post(context_, [self = shared_from_this()] { self->RunQueuedTasks(); });
  }

  // Shutdown: no new streams (GOAWAY naming the last one taken); the connection closes once its
  // open streams are done.
  void GoAway() {
    if (closed_) return;
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                          NGHTTP2_NO_ERROR, nullptr, 0);
    ScheduleFlush();
  }

  // Closes the socket and tells every open stream's handler that its client is gone.
  void Close() {
    if (closed_) return;
    closed_ = true;
    preface_timer_.cancel();
    idle_timer_.cancel();
    CloseSocket();
    state_->connections.Remove(registration_);
    auto streams = std::move(streams_);
    streams_.clear();
    for (auto& [id, stream] : streams) EndStream(*stream);
  }

  net::io_context& context() { return context_; }
  size_t open_streams() const { return streams_.size(); }  // on the I/O thread

  // Called by Http2Stream, on the I/O thread.
  void SubmitResponse(Http2Stream& stream, const Http2Stream::HeaderList& headers, bool end_stream) {
    if (closed_) return;
    absl::InlinedVector<nghttp2_nv, 8> nvs = MakeNvs(headers);
    if (end_stream) {
      stream.response_ended_ = true;
      nghttp2_submit_response(session_, stream.id_, nvs.data(), nvs.size(), nullptr);
    } else {
      nghttp2_data_provider provider{};
      provider.source.ptr = &stream;
      provider.read_callback = &Http2Connection::ReadResponseBody;
      nghttp2_submit_response(session_, stream.id_, nvs.data(), nvs.size(), &provider);
    }
    ScheduleFlush();
  }
  void ResumeBody(Http2Stream& stream) {
    if (closed_) return;
    if (stream.data_deferred_) {
      stream.data_deferred_ = false;
      nghttp2_session_resume_data(session_, stream.id_);
    }
    ScheduleFlush();
  }
  void Consume(Http2Stream& stream, size_t bytes) {
    if (closed_ || bytes == 0) return;
    nghttp2_session_consume(session_, stream.id_, bytes);
    ScheduleFlush();
  }

 protected:
  virtual void ReadSome() = 0;
  virtual void Write(const std::string& bytes) = 0;
  virtual void CloseSocket() = 0;

  // Starts the HTTP/2 session once the transport is ready (after the TLS handshake).
  void Begin(std::string client_certificate) {
    client_certificate_ = std::move(client_certificate);
    registration_ = state_->connections.Add(weak_from_this());
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Http2Connection::OnBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &Http2Connection::OnHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Http2Connection::OnFrameReceived);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Http2Connection::OnDataChunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &Http2Connection::OnFrameSent);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Http2Connection::OnStreamClosed);
    nghttp2_option* option = nullptr;
    nghttp2_option_new(&option);
    // The streams consume what they read (Http2Stream::Consume): how a stream holds back a client.
    nghttp2_option_set_no_auto_window_update(option, 1);
    nghttp2_session_server_new2(&session_, callbacks, this, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(callbacks);
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, state_->options.max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(state_->options.max_header_bytes)},
        // RFC 9113 deprecates RFC 7540's stream dependencies, and gRPC clients send none; without
        // them nghttp2 keeps no dependency tree per stream (1 % of a unary call's instructions).
        {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
    if (state_->options.idle_timeout > absl::ZeroDuration()) {
      idle_since_ = std::chrono::steady_clock::now();
      WakeForIdleCheck(absl::ToChronoNanoseconds(state_->options.idle_timeout));
    }
    Flush();
    ReadSome();
  }

  // The idle timeout is checked by a timer that wakes once per timeout, not re-armed per stream:
  // closing the last stream only notes the time.
  void WakeForIdleCheck(std::chrono::steady_clock::duration after) {
    idle_timer_.expires_after(after);
    idle_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->closed_) return;
      const auto timeout = absl::ToChronoNanoseconds(self->state_->options.idle_timeout);
      if (!self->streams_.empty()) return self->WakeForIdleCheck(timeout);
      const auto idle = std::chrono::steady_clock::now() - self->idle_since_;
      if (idle < timeout) return self->WakeForIdleCheck(timeout - idle);
      log::Debug("closing an idle HTTP/2 connection", {{"peer", self->peer_address_}});
      self->GoAway();  // no stream is open: the connection closes once GOAWAY is out
    });
  }

  void StartPrefaceTimer() {
    preface_timer_.expires_after(absl::ToChronoNanoseconds(state_->options.preface_timeout));
    preface_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && !self->preface_received_) self->Close();
    });
  }

  void OnRead(boost::system::error_code ec, size_t bytes) {
    if (closed_) return;
    if (ec) return Close();
    in_nghttp2_ = true;
    const ssize_t used = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buffer_.data()), bytes);
    in_nghttp2_ = false;
    if (closed_) return;
    if (used < 0) {  // not HTTP/2, or a failure nghttp2 cannot answer with GOAWAY
      log::Debug("closing an HTTP/2 connection",
                 {{"peer", peer_address_}, {"error", nghttp2_strerror(static_cast<int>(used))}});
      return Close();
    }
    Flush();
    if (closed_) return;
    if (read_size_.After(bytes)) {
      buffer_.resize(read_size_.size());
      buffer_.shrink_to_fit();
    }
    ReadSome();
  }

  void OnWritten(boost::system::error_code ec) {
    writing_ = false;
    if (closed_) return;
    if (ec) return Close();
    Flush();
  }

  AdaptiveReadSize read_size_{kMinReadChunk, kMaxReadChunk, kSmallReadsBeforeShrinking};
  std::vector<char> buffer_ = std::vector<char>(kMinReadChunk);  // read_size_.size() bytes

 private:
  void ScheduleFlush() {
    if (!in_nghttp2_ && !running_tasks_) Flush();
  }

  void RunQueuedTasks() {
    std::vector<std::function<void()>> tasks;
    {
      absl::MutexLock lock(&tasks_mutex_);
      tasks.swap(tasks_);
    }
    running_tasks_ = true;
    for (std::function<void()>& task : tasks) task();
    running_tasks_ = false;
    ScheduleFlush();
  }

  // Hands what nghttp2 has to send to the socket, one write at a time; closes the connection
  // when neither side has anything more to say.
  void Flush() {
    if (closed_ || writing_) return;
    out_.clear();
    in_nghttp2_ = true;
    while (out_.size() < kWriteChunk) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) {
        if (n < 0) out_.clear();
        if (n < 0) closed_by_error_ = true;
        break;
      }
      out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    in_nghttp2_ = false;
    if (closed_by_error_) return Close();
    if (out_.empty()) {
      if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0) Close();
      return;
    }
    writing_ = true;
    Write(out_);
    // Told after nghttp2 is done: a handler that answers sends more at once.
    std::vector<std::shared_ptr<Http2Stream>> sent = std::move(sent_);
    sent_.clear();
    for (const auto& stream : sent) {
      if (!stream->closed_ && stream->callbacks_.sent) stream->callbacks_.sent();
    }
  }

  // The stream is done, one way or another: its handler hears of it (unless its response ended),
  // and what it read but did not consume is given back to the connection's window.
  void EndStream(Http2Stream& stream) {
    if (stream.closed_) return;
    stream.closed_ = true;
    if (stream.unconsumed_ > 0 && !closed_) nghttp2_session_consume_connection(session_, stream.unconsumed_);
    stream.unconsumed_ = 0;
    state_->open_streams.fetch_sub(1, std::memory_order_relaxed);
    Http2Stream::Callbacks callbacks = std::move(stream.callbacks_);
    stream.callbacks_ = {};
    if (!stream.response_ended_ && callbacks.reset) callbacks.reset();
    if (callbacks.closed) callbacks.closed();
  }

  static Http2Stream* StreamOf(nghttp2_session* session, int32_t id) {
    return static_cast<Http2Stream*>(nghttp2_session_get_stream_user_data(session, id));
  }

  static int OnBeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<Http2Connection*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto stream = std::make_shared<Http2Stream>(self->weak_from_this(), frame->hd.stream_id, self->peer_address_,
                                                self->client_certificate_);
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, stream.get());
    self->streams_.emplace(frame->hd.stream_id, std::move(stream));
    self->state_->open_streams.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }

  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name, size_t name_length,
                      const uint8_t* value, size_t value_length, uint8_t, void* user) {
    auto* self = static_cast<Http2Connection*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers
    Http2Stream* stream = StreamOf(session, frame->hd.stream_id);
    if (stream == nullptr) return 0;
    // HPACK's accounting: each header costs its name, its value and 32 bytes.
    stream->header_bytes_ += name_length + value_length + 32;
    if (stream->header_bytes_ > self->state_->options.max_header_bytes) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
    }
    // max_header_bytes bounds the text, so its offsets fit in 32 bits.
    auto& text = stream->header_text_;
    const auto name_offset = static_cast<uint32_t>(text.size());
    const auto value_offset = static_cast<uint32_t>(name_offset + name_length);
    text.resize(value_offset + value_length);
    std::memcpy(text.data() + name_offset, name, name_length);
    std::memcpy(text.data() + value_offset, value, value_length);
    stream->header_fields_.push_back({name_offset, static_cast<uint32_t>(name_length), value_offset,
                                      static_cast<uint32_t>(value_length)});
    return 0;
  }

  static int OnFrameReceived(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<Http2Connection*>(user);
    if (!self->preface_received_) {  // the client's preface ends with its first frame, SETTINGS
      self->preface_received_ = true;
      self->preface_timer_.cancel();
    }
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    auto found = self->streams_.find(frame->hd.stream_id);
    if (found == self->streams_.end()) return 0;
    std::shared_ptr<Http2Stream> stream = found->second;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      self->state_->handler->OnStream(stream);
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0 && !stream->closed_ && !stream->request_ended_) {
      stream->request_ended_ = true;
      if (stream->callbacks_.end) stream->callbacks_.end();
    }
    (void)session;
    return 0;
  }

  static int OnDataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data, size_t length,
                         void* user) {
    auto* self = static_cast<Http2Connection*>(user);
    Http2Stream* stream = StreamOf(session, id);
    if (stream == nullptr || stream->closed_ || !stream->callbacks_.data) {
      nghttp2_session_consume(session, id, length);  // nobody reads it
      return 0;
    }
    stream->unconsumed_ += length;
    stream->callbacks_.data(absl::string_view(reinterpret_cast<const char*>(data), length));
    (void)self;
    return 0;
  }

  // Once the response's last frame is out while the client is still sending, the client is told
  // to stop (RFC 9113 section 8.1: a response may complete before the request does).
  static int OnFrameSent(nghttp2_session* session, const nghttp2_frame* frame, void*) {
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) {
      return 0;
    }
    Http2Stream* stream = StreamOf(session, frame->hd.stream_id);
    if (stream != nullptr && !stream->request_ended_) {
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
    }
    return 0;
  }

  static int OnStreamClosed(nghttp2_session* session, int32_t id, uint32_t, void* user) {
    auto* self = static_cast<Http2Connection*>(user);
    auto found = self->streams_.find(id);
    if (found == self->streams_.end()) return 0;
    std::shared_ptr<Http2Stream> stream = std::move(found->second);
    self->streams_.erase(found);
    if (self->streams_.empty()) self->idle_since_ = std::chrono::steady_clock::now();
    nghttp2_session_set_stream_user_data(session, id, nullptr);
    self->EndStream(*stream);
    return 0;
  }

  // nghttp2 asks for the next piece of a response body: what the handler has sent so far, then
  // the trailers (or a pause until it sends more).
  static ssize_t ReadResponseBody(nghttp2_session* session, int32_t id, uint8_t* buffer, size_t length,
                                  uint32_t* flags, nghttp2_data_source* source, void* user) {
    auto* self = static_cast<Http2Connection*>(user);
    auto* stream = static_cast<Http2Stream*>(source->ptr);
    size_t copied = 0;
    std::vector<std::string>& pending = stream->pending_;
    while (copied < length && stream->pending_next_ < pending.size()) {
      std::string& front = pending[stream->pending_next_];
      const size_t n = std::min(length - copied, front.size() - stream->pending_offset_);
      std::memcpy(buffer + copied, front.data() + stream->pending_offset_, n);
      copied += n;
      stream->pending_offset_ += n;
      if (stream->pending_offset_ == front.size()) {
        std::string().swap(front);  // its memory goes now, not when the rest is sent
        ++stream->pending_next_;
        stream->pending_offset_ = 0;
        if (auto found = self->streams_.find(id); found != self->streams_.end()) self->sent_.push_back(found->second);
      }
    }
    if (stream->pending_next_ == pending.size()) {
      pending.clear();
      stream->pending_next_ = 0;
    } else if (stream->pending_next_ > pending.size() / 2) {  // a slow reader: drop what is sent
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(stream->pending_next_));
      stream->pending_next_ = 0;
    }
    if (pending.empty() && stream->trailers_) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      stream->response_ended_ = true;
      if (!stream->trailers_->empty()) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        absl::InlinedVector<nghttp2_nv, 8> nvs = MakeNvs(*stream->trailers_);
        nghttp2_submit_trailer(session, id, nvs.data(), nvs.size());
      }
      return static_cast<ssize_t>(copied);
    }
    if (copied == 0) {
      stream->data_deferred_ = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    return static_cast<ssize_t>(copied);
  }

 protected:
  std::shared_ptr<Http2ServerState> state_;
  net::io_context& context_;
  const std::string peer_address_;

 private:
  std::string client_certificate_;
  net::steady_timer preface_timer_;
  net::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point idle_since_;  // when the last open stream closed
  nghttp2_session* session_ = nullptr;
  uint64_t registration_ = 0;
  absl::Mutex tasks_mutex_;
  std::vector<std::function<void()>> tasks_ ABSL_GUARDED_BY(tasks_mutex_);  // from Run, for the I/O thread
  absl::flat_hash_map<int32_t, std::shared_ptr<Http2Stream>> streams_;
  std::string out_;
  std::vector<std::shared_ptr<Http2Stream>> sent_;  // streams whose pieces went out in this flush
  bool writing_ = false;
  bool in_nghttp2_ = false;
  bool running_tasks_ = false;  // in RunQueuedTasks: one flush after them all
  bool closed_ = false;
  bool closed_by_error_ = false;
  bool preface_received_ = false;
  ConnectionLimit::Slot slot_;  // given back when the connection object goes (its socket closed)
};

namespace {

// A connection on a plain socket (Stream = tcp::socket) or TLS (ssl::stream<tcp::socket>).
template <class Stream>
class SocketConnection final : public Http2Connection {
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

 public:
  SocketConnection(std::shared_ptr<Http2ServerState> state, tcp::socket socket, std::string peer_address,
                   std::shared_ptr<net::ssl::context> tls)
      : Http2Connection(std::move(state), ContextOf(socket), std::move(peer_address)),
        tls_(std::move(tls)),
        stream_(MakeStream(std::move(socket), tls_.get())) {}

  void Start() override {
    StartPrefaceTimer();
    if constexpr (kTls) {
      stream_.async_handshake(net::ssl::stream_base::server, [self = Self()](boost::system::error_code ec) {
        if (ec) {
          log::Debug("TLS handshake failed", {{"peer", self->peer_address_}, {"error", ec.message()}});
          return self->Close();
        }
        self->Begin(PeerCommonName(self->stream_.native_handle()));
      });
    } else {
      Begin("");
    }
  }

 protected:
  void ReadSome() override {
    stream_.async_read_some(net::buffer(buffer_), [self = Self()](boost::system::error_code ec, size_t n) {
      self->OnRead(ec, n);
    });
  }
  void Write(const std::string& bytes) override {
    net::async_write(stream_, net::buffer(bytes),
                     [self = Self()](boost::system::error_code ec, size_t) { self->OnWritten(ec); });
  }
  void CloseSocket() override {
    boost::system::error_code ignored;
    auto& socket = stream_.lowest_layer();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

 private:
  static Stream MakeStream(tcp::socket socket, net::ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      return socket;
    }
  }
  std::shared_ptr<SocketConnection> Self() { return std::static_pointer_cast<SocketConnection>(shared_from_this()); }

  std::shared_ptr<net::ssl::context> tls_;  // TLS: the certificate this connection was accepted with
  Stream stream_;
};

}  // namespace

Http2Stream::Http2Stream(std::weak_ptr<Http2Connection> connection, int32_t id, std::string peer_address,
                         std::string client_certificate)
    : connection_(std::move(connection)),
      id_(id),
      peer_address_(std::move(peer_address)),
      client_certificate_(std::move(client_certificate)) {}

absl::string_view Http2Stream::Header(absl::string_view name) const {
  const absl::string_view text(header_text_.data(), header_text_.size());
  for (const HeaderField& field : header_fields_) {
    if (text.substr(field.name_offset, field.name_size) == name) return text.substr(field.value_offset, field.value_size);
  }
  return {};
}

Http2Stream::ConnectionThread Http2Stream::ThreadOf(const Http2Connection& connection) {
  if (connection.io_threads_gone()) return ConnectionThread::kGone;
  return connection.on_io_thread() ? ConnectionThread::kThisOne : ConnectionThread::kAnother;
}

void Http2Stream::Post(Http2Connection& connection, std::function<void()> task) { connection.Run(std::move(task)); }

size_t Http2Stream::streams_on_connection() const {
  std::shared_ptr<Http2Connection> connection = connection_.lock();
  return connection == nullptr ? 0 : connection->open_streams();
}

void Http2Stream::SendHeaders(const HeaderList& headers, bool end_stream) {
  std::shared_ptr<Http2Connection> connection = connection_.lock();
  if (!connection || closed_ || response_started_) return;
  response_started_ = true;
  connection->SubmitResponse(*this, headers, end_stream);
}

void Http2Stream::SendData(std::string data) {
  std::shared_ptr<Http2Connection> connection = connection_.lock();
  if (!connection || closed_ || !response_started_ || response_ended_ || trailers_ || data.empty()) return;
  pending_.push_back(std::move(data));
  connection->ResumeBody(*this);
}

void Http2Stream::SendTrailers(HeaderList trailers) {
  std::shared_ptr<Http2Connection> connection = connection_.lock();
  if (!connection || closed_ || !response_started_ || response_ended_ || trailers_) return;
  trailers_ = std::move(trailers);
  connection->ResumeBody(*this);
}

void Http2Stream::Consume(size_t bytes) {
  bytes = std::min<uint64_t>(bytes, unconsumed_);
  std::shared_ptr<Http2Connection> connection = connection_.lock();
  if (!connection || closed_ || bytes == 0) return;
  unconsumed_ -= bytes;
  connection->Consume(*this, bytes);
}

class Http2Server::Impl {
 public:
  explicit Impl(std::shared_ptr<Http2ServerState> state) : state_(std::move(state)) {}

  absl::Status Listen() {
    const Http2ServerOptions& options = state_->options;
    for (int i = 0; i < std::max(1, options.io_threads); ++i) {
      state_->contexts.push_back(std::make_unique<net::io_context>(1));
    }
    if (options.tls) {
      if (absl::Status loaded = LoadTls(); !loaded.ok()) return loaded;
    }
    absl::StatusOr<std::shared_ptr<tcp::acceptor>> acceptor =
        OpenListener(*state_->contexts[0], options.host, options.port);
    if (!acceptor.ok()) return acceptor.status();
    acceptor_ = *std::move(acceptor);
    port_ = acceptor_->local_endpoint().port();
    AcceptConnections(acceptor_, state_->contexts, state_->options.connection_limit,
                      [this](tcp::socket socket, ConnectionLimit::Slot slot) {
                        StartConnection(std::move(socket), std::move(slot));
                      });
    if (options.tls) {
      tls_timer_ = std::make_unique<net::steady_timer>(*state_->contexts[0]);
      WatchTlsFiles();
    }
    for (auto& context : state_->contexts) {
      guards_.emplace_back(context->get_executor());
      threads_.emplace_back([context = context.get(), poll = state_->options.io_busy_poll] {
        RunIoThread(*context, "h2-io", poll);
      });
    }
    return absl::OkStatus();
  }

  bool Shutdown(absl::Duration drain_timeout) {
    if (stopped_.exchange(true)) return true;
    if (!threads_.empty()) {
      std::promise<void> stopped_accepting;
      net::post(*state_->contexts[0], [this, &stopped_accepting] {
        boost::system::error_code ignored;
        if (acceptor_) acceptor_->close(ignored);
        if (tls_timer_) tls_timer_->cancel();
        stopped_accepting.set_value();
      });
      stopped_accepting.get_future().wait();
      for (auto& connection : state_->connections.Live()) {
        net::post(connection->context(), [connection] { connection->GoAway(); });
      }
    }
    const absl::Time deadline = absl::Now() + drain_timeout;
    while (state_->open_streams.load() > 0 && absl::Now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const bool drained = state_->open_streams.load() == 0;
    for (auto& context : state_->contexts) context->stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    guards_.clear();
    state_->closed.store(true, std::memory_order_release);
    // No I/O thread runs now: close what is left from here, then run the aborted completions so
    // that every connection lets go of its socket.
    acceptor_.reset();
    tls_timer_.reset();
    for (auto& connection : state_->connections.Live()) connection->Close();
    for (auto& context : state_->contexts) {
      context->restart();
      context->poll();
    }
    return drained;
  }

  uint16_t port() const { return port_; }
  int64_t open_streams() const { return state_->open_streams.load(); }

 private:
  void StartConnection(tcp::socket socket, ConnectionLimit::Slot slot) {
    boost::system::error_code ec;
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    std::string peer = ec ? "unknown" : remote.address().to_string();
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    std::shared_ptr<Http2Connection> connection;
    if (std::shared_ptr<net::ssl::context> tls = CurrentTls()) {
      connection = std::make_shared<SocketConnection<net::ssl::stream<tcp::socket>>>(state_, std::move(socket),
                                                                                     std::move(peer), std::move(tls));
    } else {
      connection = std::make_shared<SocketConnection<tcp::socket>>(state_, std::move(socket), std::move(peer), nullptr);
    }
    connection->Hold(std::move(slot));
    net::post(executor, [connection] { connection->Start(); });
  }

  absl::Status LoadTls() {
    const TlsFiles& files = *state_->options.tls;
    std::string contents = ReadWholeFile(files.cert_file) + ReadWholeFile(files.key_file) +
                           (files.client_ca_file.empty() ? "" : ReadWholeFile(files.client_ca_file));
    absl::StatusOr<std::shared_ptr<net::ssl::context>> tls = MakeServerTlsContext(files, TlsAlpn::kHttp2);
    absl::MutexLock lock(&tls_mu_);
    loaded_tls_files_ = std::move(contents);  // tried once, not again until they change
    if (!tls.ok()) return tls.status();
    tls_ = *std::move(tls);
    return absl::OkStatus();
  }

  // A rotated certificate is picked up within tls_check_interval, without a signal or restart.
  void WatchTlsFiles() {
    tls_timer_->expires_after(absl::ToChronoNanoseconds(state_->options.tls_check_interval));
    tls_timer_->async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      const TlsFiles& files = *state_->options.tls;
      const std::string contents = ReadWholeFile(files.cert_file) + ReadWholeFile(files.key_file) +
                                   (files.client_ca_file.empty() ? "" : ReadWholeFile(files.client_ca_file));
      bool changed = false;
      {
        absl::MutexLock lock(&tls_mu_);
        changed = contents != loaded_tls_files_;
      }
      if (changed) {
        if (absl::Status loaded = LoadTls(); loaded.ok()) {
          log::Info("TLS certificate reloaded for HTTP/2", {{"cert", files.cert_file}});
        } else {
          log::Warn("TLS files changed but do not load; the previous certificate stays in use",
                    {{"error", loaded.message()}});
        }
      }
      WatchTlsFiles();
    });
  }

  std::shared_ptr<net::ssl::context> CurrentTls() {
    absl::MutexLock lock(&tls_mu_);
    return tls_;
  }

  std::shared_ptr<Http2ServerState> state_;
  absl::Mutex tls_mu_;
  std::shared_ptr<net::ssl::context> tls_ ABSL_GUARDED_BY(tls_mu_);
  std::string loaded_tls_files_ ABSL_GUARDED_BY(tls_mu_);
  std::unique_ptr<net::steady_timer> tls_timer_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  std::shared_ptr<tcp::acceptor> acceptor_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

absl::StatusOr<std::unique_ptr<Http2Server>> Http2Server::Start(const Http2ServerOptions& options,
                                                                Http2Handler* handler) {
  if (handler == nullptr) return absl::InvalidArgumentError("Http2Server needs a handler");
  auto state = std::make_shared<Http2ServerState>();
  state->options = options;
  state->handler = handler;
  auto impl = std::make_unique<Impl>(state);
  if (absl::Status listening = impl->Listen(); !listening.ok()) {
    impl->Shutdown(absl::ZeroDuration());
    return listening;
  }
  return std::unique_ptr<Http2Server>(new Http2Server(std::move(impl)));
}

Http2Server::Http2Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Http2Server::~Http2Server() { impl_->Shutdown(absl::ZeroDuration()); }
uint16_t Http2Server::port() const { return impl_->port(); }
int64_t Http2Server::open_streams() const { return impl_->open_streams(); }
bool Http2Server::Shutdown(absl::Duration drain_timeout) { return impl_->Shutdown(drain_timeout); }

}  // namespace meridian::http
