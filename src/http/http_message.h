#pragma once

// The request and response types that route handlers see. They are independent of Boost.Beast so
// that handler code (protocol/, registry/ ...) does not pull Beast headers into its build.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meridian::http {

enum class HttpMethod { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions };

absl::string_view MethodName(HttpMethod method);
std::optional<HttpMethod> ParseMethod(absl::string_view name);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class BodySink;

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string target;  // as received: path and query
  std::string path;    // target without the query
  std::string query;   // after '?', still percent-encoded
  HeaderList headers;
  std::string body;
  absl::flat_hash_map<std::string, std::string> path_params;  // percent-decoded
  std::string route_pattern;  // e.g. "/v2/models/{name}/infer"; empty when no route matched
  std::string request_id;     // from X-Request-Id, or generated
  std::string remote_address;
  // Who is asking, as the request gate established it ("user:alice"); empty without a gate.
  std::string principal;
  // For routes with a BodySinkFactory: the sink that received the body (body stays empty).
  std::shared_ptr<BodySink> body_sink;
  // True once the client has closed or reset the connection while the request is being handled
  // (so that queued work for it can be dropped). Thread-safe; false after the response started.
  std::function<bool()> client_gone;

  // Case-insensitive header lookup; nullopt when absent.
  std::optional<absl::string_view> Header(absl::string_view name) const;
  // Percent-decoded query parameter; nullopt when absent.
  std::optional<std::string> QueryParam(absl::string_view name) const;
  // Path parameter declared by the route pattern; empty when absent.
  absl::string_view PathParam(absl::string_view name) const;
};

// A slice of a file sent as the response body, streamed from disk rather than held in memory.
struct FileSlice {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HeaderList headers;
  std::optional<FileSlice> file;  // when set, replaces `body`

  static HttpResponse Json(int status, std::string body);
  static HttpResponse Text(int status, std::string body, std::string content_type = "text/plain");
  // {"error": "<message>"} with the status code that status_codes.h assigns.
  static HttpResponse Error(const absl::Status& status);
  static HttpResponse Error(int status, absl::string_view message);
};

// Answers GET of a whole file or, with a "Range: bytes=..." header, one range of it (206 with
// Content-Range; 416 when unsatisfiable). Multiple ranges are answered with the whole file, as
// RFC 9110 allows.
HttpResponse FileResponse(const HttpRequest& request, const std::string& path, uint64_t size,
                          std::string content_type);

// Decodes %XX escapes ('+' is not a space in paths). Fails on malformed escapes.
absl::StatusOr<std::string> PercentDecode(absl::string_view text, bool plus_is_space);

}  // namespace meridian::http
