#pragma once

// Decides, once a request's route is known and before its body is read, whether it may proceed:
// authentication and authorization sit behind this interface so that http/ (and the gRPC
// endpoint) know nothing about tokens or roles. Called on I/O threads, concurrently: must be
// thread-safe and must not block on anything slow.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace meridian::http {

struct GateRequest {
  absl::string_view resource;        // the route's declared resource and verb
  absl::string_view verb;
  absl::string_view namespace_name;  // the {ns} path parameter, else "default"
  absl::string_view authorization;   // the Authorization header (or gRPC metadata); may be empty
  absl::string_view client_address;  // the peer's IP address
  absl::string_view method;          // "GET", ... or "gRPC"
  absl::string_view target;          // path, or the gRPC method
  absl::string_view request_id;
  // The common name of the client's verified certificate (mutual TLS); empty without one.
  absl::string_view client_certificate;
};

struct GateDecision {
  bool allowed = false;
  int status = 0;           // when denied: 401, 403 or 429
  std::string message;      // when denied: what is missing, for the client
  std::string principal;    // who is asking, e.g. "user:alice"; "anonymous" on open routes
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. WWW-Authenticate, Retry-After
};

class RequestGate {
 public:
  virtual ~RequestGate() = default;
  virtual GateDecision Check(const GateRequest& request) = 0;
};

// The namespace a request acts in: its {ns} path parameter, else "default".
inline constexpr absl::string_view kDefaultNamespace = "default";

}  // namespace meridian::http
