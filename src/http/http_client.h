#pragma once

// A small blocking HTTP/1.1 client for the CLI and for tests: one connection per request,
// HTTPS with certificate verification (against the system store or a given CA file).

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/beast/http/message.hpp"
#include "http/http_message.h"
#include "http/url.h"

namespace meridian::http {

struct ClientResponse {
  int status = 0;
  std::string body;
  HeaderList headers;
  std::optional<absl::string_view> Header(absl::string_view name) const;
};

// Called as a file body goes out or comes in: bytes so far and the total (0 when unknown).
using ProgressCallback = std::function<void(uint64_t done, uint64_t total)>;

struct HttpClientOptions {
  absl::Duration timeout = absl::Seconds(30);  // per network operation, not for a whole transfer
  std::string ca_file;          // PEM bundle to trust instead of the system store
  bool insecure_skip_verify = false;
  std::string client_cert_file;  // PEM certificate and key to present (mutual TLS)
  std::string client_key_file;
  ProgressCallback progress;  // for SendFile and Download
  std::string bearer_token;   // sent as "Authorization: Bearer ..." unless empty
};

class HttpClient {
 public:
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(absl::string_view base_url,
                                                            const HttpClientOptions& options = {});
  ~HttpClient();

  // `target` is appended to the base URL's path, e.g. "/health/ready". Transport failures are
  // kUnavailable errors naming the server; any HTTP status is a successful ClientResponse.
  absl::StatusOr<ClientResponse> Send(HttpMethod method, absl::string_view target,
                                      std::string body = {}, const HeaderList& headers = {});
  absl::StatusOr<ClientResponse> Get(absl::string_view target) { return Send(HttpMethod::kGet, target); }

  // Sends the file at `path` as the body, streamed from disk.
  absl::StatusOr<ClientResponse> SendFile(HttpMethod method, absl::string_view target,
                                          const std::string& path, const HeaderList& headers = {});
  // GETs `target`; a 2xx body is streamed into the file at `path` (created or truncated) and the
  // returned body is empty. Other answers come back in the body as usual, leaving no file.
  absl::StatusOr<ClientResponse> Download(absl::string_view target, const std::string& path,
                                          const HeaderList& headers = {});

  const Url& url() const { return url_; }

 private:
  template <class Body>
  using bhttp_request = boost::beast::http::request<Body>;
  template <class Body>
  absl::StatusOr<ClientResponse> Transfer(bhttp_request<Body>& request, const std::string* download_path,
                                          bool with_progress);

  HttpClient(Url url, HttpClientOptions options) : url_(std::move(url)), options_(std::move(options)) {}
  Url url_;
  HttpClientOptions options_;
};

}  // namespace meridian::http
