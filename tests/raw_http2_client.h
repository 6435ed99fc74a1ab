#pragma once

// A bare HTTP/2 client for tests (nghttp2, blocking, cleartext with prior knowledge): sends
// requests exactly as given, which gRPC's own client never would (a wrong method or content type,
// an unsupported encoding, a body cut inside a message), and reports the whole answer.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace meridian::testing {

struct RawHttp2Answer {
  std::map<std::string, std::string> headers;   // the response's first header block
  std::map<std::string, std::string> trailers;  // the last one, when there are two
  std::string body;
  bool reset = false;  // the server reset the stream (RST_STREAM) before ending it
  uint32_t reset_code = 0;
  bool goaway = false;  // the server sent GOAWAY before the stream closed
};

// Sends `headers` (pseudo-headers included) and `body` on one stream of a new connection to
// 127.0.0.1:port and waits up to `timeout` for the stream to close.
absl::StatusOr<RawHttp2Answer> RawHttp2Request(uint16_t port,
                                               const std::vector<std::pair<std::string, std::string>>& headers,
                                               const std::string& body, absl::Duration timeout = absl::Seconds(10));

// One request for RawHttp2Requests.
struct RawHttp2Call {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Sends every call on its own stream of one new connection, all at once, and waits up to
// `timeout` for every stream to close; the answers in the calls' order.
absl::StatusOr<std::vector<RawHttp2Answer>> RawHttp2Requests(uint16_t port, const std::vector<RawHttp2Call>& calls,
                                                             absl::Duration timeout = absl::Seconds(10));

// The headers of a unary gRPC call to `method` of inference.GRPCInferenceService, plus `extra`.
std::vector<std::pair<std::string, std::string>> GrpcHeaders(const std::string& method,
                                                             std::vector<std::pair<std::string, std::string>> extra = {});

// `message` behind gRPC's 5-byte prefix; `compressed` sets the prefix's flag.
std::string GrpcFrame(const std::string& message, bool compressed = false);

}  // namespace meridian::testing
