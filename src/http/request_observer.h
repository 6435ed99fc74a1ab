#pragma once

// Told about every answered request (access log, metrics). Called on I/O threads, concurrently:
// implementations must be thread-safe and quick.

#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace meridian::http {

struct CompletedRequest {
  absl::string_view method;   // "GET", ..., or "UNKNOWN" when the request could not be parsed
  absl::string_view route;    // the route pattern, or "unmatched"
  absl::string_view target;   // path and query as sent
  int status = 0;
  absl::Duration duration;    // from the end of the headers to the end of the response write
  uint64_t request_body_bytes = 0;
  uint64_t response_bytes = 0;
  absl::string_view remote_address;
  absl::string_view request_id;
  // The matched route's resource and verb (empty when unmatched), the namespace it acted in, who
  // asked (empty without a request gate) and whether the gate refused the request.
  absl::string_view resource;
  absl::string_view verb;
  absl::string_view namespace_name;
  absl::string_view principal;
  bool denied_by_gate = false;
};

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void OnRequestCompleted(const CompletedRequest& request) = 0;
};

}  // namespace meridian::http
