#pragma once

// HTTP/2 server on nghttp2 (Debian's HTTP/2 library) and Asio, for gRPC. It follows HttpServer's
// model: a fixed pool of I/O threads, each with its own io_context, and a connection lives on one
// of them for its whole life, so nothing of a connection needs a lock. It speaks cleartext HTTP/2
// with prior knowledge, or TLS with ALPN "h2". It knows nothing of gRPC: each request stream is
// handed to an Http2Handler, which answers on it.
//
// Thread-safety: Http2Server's methods may be called from any thread; Http2Stream's only from its
// I/O thread, except Run, which gets there from anywhere.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "http/connection_limit.h"
#include "http/tls_files.h"

namespace meridian::http {

struct Http2ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: the kernel picks a free port; see Http2Server::port()
  int io_threads = 1;
  // How long an I/O thread polls after its last event before it sleeps (see RunIoThread).
  absl::Duration io_busy_poll = absl::ZeroDuration();
  // TLS with ALPN "h2". The files are read again every tls_check_interval; a changed certificate
  // is used for new connections, and one that does not load is logged and the old one kept.
  std::optional<TlsFiles> tls;
  absl::Duration tls_check_interval = absl::Seconds(1);
  uint32_t max_concurrent_streams = 1024;  // per connection; more are refused (REFUSED_STREAM)
  // A connection that has not completed its TLS handshake and HTTP/2 preface by then is closed,
  // so that connections which never speak do not hold sockets.
  absl::Duration preface_timeout = absl::Seconds(10);
  // A connection without an open stream for this long is sent GOAWAY and closed (clients open a
  // new one for their next call), so that idle connections do not pile up. Zero: never.
  absl::Duration idle_timeout = absl::ZeroDuration();
  uint64_t max_header_bytes = 16 * 1024;   // a request's header block; more resets the stream
  // Shared with the process's other listeners; connections past it are closed on accept. Null:
  // no limit.
  std::shared_ptr<ConnectionLimit> connection_limit;
};

class Http2Connection;

// One request and its response. The handler gets it once the request's headers are in.
class Http2Stream {
 public:
  using HeaderList = std::vector<std::pair<std::string, std::string>>;

  // What the handler hears about the request; each runs on the stream's I/O thread.
  struct Callbacks {
    std::function<void(absl::string_view)> data;  // the next piece of the request's body
    std::function<void()> end;                    // the request is complete
    // The client cancelled the stream, or the connection went, before the response ended. Nothing
    // sent after this reaches anyone; no callback follows it.
    std::function<void()> reset;
    // One piece given to SendData has been taken for sending (the client's window had room).
    std::function<void()> sent;
    // The stream is closed, however it ended; always the last callback.
    std::function<void()> closed;
    // Kept alive with the callbacks, until the stream closes: what they act on.
    std::shared_ptr<void> owner;
  };

  Http2Stream(std::weak_ptr<Http2Connection> connection, int32_t id, std::string peer_address,
              std::string client_certificate);
  Http2Stream(const Http2Stream&) = delete;
  Http2Stream& operator=(const Http2Stream&) = delete;

  // The first value of the named request header (names in lower case, pseudo-headers such as
  // ":path" included); empty when absent.
  absl::string_view Header(absl::string_view name) const;
  const std::string& peer_address() const { return peer_address_; }
  // The common name of the client's verified certificate (mutual TLS); empty without one.
  const std::string& client_certificate() const { return client_certificate_; }

  void set_callbacks(Callbacks callbacks) { callbacks_ = std::move(callbacks); }

  // Runs `task` on the stream's I/O thread: at once when called there (without wrapping it in a
  // std::function, which would allocate for most closures), else posted to it. Dropped when the
  // connection is gone.
  template <class Task>
  void Run(Task&& task) {
    std::shared_ptr<Http2Connection> connection = connection_.lock();
    if (connection == nullptr) return;
    switch (ThreadOf(*connection)) {
      case ConnectionThread::kGone: return;
      case ConnectionThread::kThisOne: return task();
      case ConnectionThread::kAnother: return Post(*connection, std::function<void()>(std::forward<Task>(task)));
    }
  }

  // The response, on the I/O thread. Each is ignored once the stream is closed. Trailers (or
  // headers with end_stream) end the response; a client still sending is then told to stop.
  void SendHeaders(const HeaderList& headers, bool end_stream);
  void SendData(std::string data);  // after SendHeaders
  void SendTrailers(HeaderList trailers);
  // Flow control: lets the client send `bytes` more. Every piece of body the handler receives must
  // be consumed, at once or later: a stream that holds back its consumption holds back its client.
  void Consume(size_t bytes);
  // Closed: reset, ended both ways, or the connection gone.
  bool closed() const { return closed_; }
  // On the I/O thread: the streams open on this stream's connection, this one included (0 once
  // the connection is gone).
  size_t streams_on_connection() const;

 private:
  friend class Http2Connection;

  enum class ConnectionThread { kGone, kThisOne, kAnother };
  static ConnectionThread ThreadOf(const Http2Connection& connection);
  static void Post(Http2Connection& connection, std::function<void()> task);

  std::weak_ptr<Http2Connection> connection_;
  const int32_t id_;
  const std::string peer_address_;
  const std::string client_certificate_;
  // The request's headers: their names and values one after another in header_text_, found by
  // header_fields_. A typical request's headers fit in the stream object itself: they cost no
  // allocation (a string per name and value cost about a tenth of a gRPC call's own instructions).
  struct HeaderField {
    uint32_t name_offset;
    uint32_t name_size;
    uint32_t value_offset;
    uint32_t value_size;
  };
  absl::InlinedVector<char, 256> header_text_;
  absl::InlinedVector<HeaderField, 12> header_fields_;
  uint64_t header_bytes_ = 0;
  Callbacks callbacks_;
  bool closed_ = false;
  bool response_started_ = false;
  bool response_ended_ = false;
  bool request_ended_ = false;
  uint64_t unconsumed_ = 0;  // body bytes received and not yet consumed
  // The response body not yet handed to nghttp2, and whether nghttp2 waits for more of it.
  // Pieces before pending_next_ are sent (std::deque would allocate for every stream, even one
  // whose response is a single piece).
  std::vector<std::string> pending_;
  size_t pending_next_ = 0;
  size_t pending_offset_ = 0;  // into pending_[pending_next_]
  bool data_deferred_ = false;
  std::optional<HeaderList> trailers_;
};

class Http2Handler {
 public:
  virtual ~Http2Handler() = default;
  // A new request, its headers in. Runs on the stream's I/O thread; set the stream's callbacks
  // before returning to hear about its body.
  virtual void OnStream(std::shared_ptr<Http2Stream> stream) = 0;
};

class Http2Server {
 public:
  // Binds, listens and starts the I/O threads. Fails (kFailedPrecondition) when the address
  // cannot be bound, or (kInvalidArgument) when the TLS files do not load. `handler` must outlive
  // the server.
  static absl::StatusOr<std::unique_ptr<Http2Server>> Start(const Http2ServerOptions& options, Http2Handler* handler);
  ~Http2Server();  // Shutdown(absl::ZeroDuration()) unless already shut down

  uint16_t port() const;
  int64_t open_streams() const;

  // Stops accepting connections and tells every client to open no new stream (GOAWAY), lets the
  // open streams finish for up to `drain_timeout`, then closes everything and joins the I/O
  // threads. Returns true when no stream was cut off.
  bool Shutdown(absl::Duration drain_timeout);

  class Impl;

 private:
  explicit Http2Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::http
