#pragma once

// HTTP/1.1 server on Boost.Beast/Asio: a fixed pool of I/O threads, each with its own
// io_context (a connection lives on one thread for its whole life, so its handlers never race),
// keep-alive, per-route body limits, read and idle timeouts, optional TLS, and graceful
// shutdown. Requests are routed by a Router; every answered request is reported to the
// observers.
//
// Thread-safety: all public methods may be called from any thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/request_gate.h"
#include "http/connection_limit.h"
#include "http/request_observer.h"
#include "http/router.h"
#include "http/tls_files.h"

namespace meridian::http {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: the kernel picks a free port; see HttpServer::port()
  int io_threads = 1;
  // How long an I/O thread polls after its last event before it sleeps (see RunIoThread).
  absl::Duration io_busy_poll = absl::ZeroDuration();
  absl::Duration read_timeout = absl::Seconds(30);  // headers + body of one request; also writes
  absl::Duration idle_timeout = absl::Seconds(60);  // keep-alive wait between requests
  uint64_t max_header_bytes = 16 * 1024;
  uint64_t max_body_bytes = 8 * 1024 * 1024;  // for routes without their own limit
  std::optional<TlsFiles> tls;
  // Non-zero: a plain-HTTP listener that answers every request with a permanent redirect (308) to
  // https on this port, instead of routing it.
  uint16_t redirect_to_https_port = 0;
  // Asked about every routed request before its body is read; null lets everything through.
  // Not owned; must outlive the server.
  RequestGate* gate = nullptr;
  // Shared with the process's other listeners; connections past it are closed on accept. Null:
  // no limit.
  std::shared_ptr<ConnectionLimit> connection_limit;
};

class HttpServer {
 public:
  // Binds, listens and starts the I/O threads. Fails (kFailedPrecondition) when the address
  // cannot be bound, e.g. the port is in use, or (kInvalidArgument) when TLS files do not load.
  // `observers` must outlive the server.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options, std::shared_ptr<const Router> router,
      std::vector<RequestObserver*> observers);

  ~HttpServer();  // Shutdown(absl::ZeroDuration()) unless already shut down

  uint16_t port() const;
  bool tls() const;
  // Loads the TLS files again (after a certificate rotation, on SIGHUP): new connections use the
  // new certificate, established ones keep theirs. On error the old certificate stays in use.
  absl::Status ReloadTls();
  int64_t in_flight() const;

  // Stops accepting connections, closes idle keep-alive connections, lets requests in flight
  // finish (their responses carry "Connection: close") for up to `drain_timeout`, then closes
  // everything and joins the I/O threads. Returns true when no request was cut off.
  bool Shutdown(absl::Duration drain_timeout);

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::http
