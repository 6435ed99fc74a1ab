#pragma once

// The OIP v2 gRPC endpoint (inference.GRPCInferenceService) on its own port, onto the same
// InferenceService as REST. gRPC's wire format (protocol/grpc_call.h) on Meridian's own HTTP/2
// server (http/http2_server.h): a call is read, admitted, decoded and, for a quick model, executed
// on the I/O thread that read it, with no hand-off between threads. ModelStreamInfer streams many
// requests on one call (protocol/grpc_infer_stream.h).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/connection_limit.h"
#include "http/request_gate.h"
#include "http/tls_files.h"
#include "serving/inference_service.h"

namespace meridian::protocol {

struct GrpcServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 picks a free one
  int io_threads = 1;
  absl::Duration io_busy_poll = absl::ZeroDuration();  // see http::RunIoThread
  serving::InferenceService* service = nullptr;  // not owned
  std::string server_version;
  std::function<bool()> ready;  // server readiness (ServerReady)
  uint64_t max_message_bytes = 64ull << 20;
  // Asked about every call, as the HTTP server asks it about every request (the "authorization"
  // metadata is the header). Null lets everything through. Not owned.
  http::RequestGate* gate = nullptr;
  // TLS with the same files as HTTPS (and client certificates when client_ca_file is set). The
  // files are watched: a rotated certificate is in use within a second, without a restart.
  std::optional<http::TlsFiles> tls;
  // A connection without a call for this long is sent GOAWAY and closed; zero: never.
  absl::Duration idle_timeout = absl::ZeroDuration();
  // Shared with the HTTP listener (see http::ConnectionLimit); null: no limit.
  std::shared_ptr<http::ConnectionLimit> connection_limit;
};

class GrpcServer {
 public:
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const GrpcServerOptions& options);
  ~GrpcServer();
  uint16_t port() const;
  // Stops taking calls and waits up to `deadline` for those in flight.
  void Shutdown(absl::Duration deadline);

 private:
  struct Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::protocol
