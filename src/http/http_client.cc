#include "http/http_client.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "boost/beast/http/file_body.hpp"
#include <chrono>
#include <limits>
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"

namespace meridian::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

template <class Fields>
HeaderList CopyHeaders(const Fields& fields) {
  HeaderList out;
  for (const auto& field : fields) out.emplace_back(std::string(field.name_string()), std::string(field.value()));
  return out;
}

// Writes `request`, then reads the answer; with a `download_path`, a 2xx body goes to that file.
template <class Stream, class Body>
absl::StatusOr<ClientResponse> Exchange(Stream& stream, bhttp::request<Body>& request, const std::string& server,
                                        const std::string* download_path, const ProgressCallback* progress,
                                        std::chrono::nanoseconds timeout) {
  beast::error_code ec;
  // Piece by piece, so that progress can be reported and the timeout applies per piece.
  bhttp::request_serializer<Body> serializer(request);
  const uint64_t total = request.payload_size().value_or(0);
  uint64_t sent = 0;
  while (!serializer.is_done()) {
    beast::get_lowest_layer(stream).expires_after(timeout);
    const size_t n = bhttp::write_some(stream, serializer, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("sending to ", server, " failed: ", ec.message()));
    if (serializer.is_header_done()) sent = std::min<uint64_t>(total, sent + n);
    if (progress && *progress && total > 0) (*progress)(sent, total);
  }
  auto read_failed = [&server](const beast::error_code& e) {
    return absl::UnavailableError(absl::StrCat("reading the response from ", server, " failed: ", e.message()));
  };
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // boost::none misbehaves in 1.74
  beast::get_lowest_layer(stream).expires_after(timeout);
  bhttp::read_header(stream, buffer, parser, ec);
  if (ec) return read_failed(ec);
  ClientResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  out.headers = CopyHeaders(parser.get());
  if (download_path != nullptr && out.status >= 200 && out.status < 300) {
    bhttp::response_parser<bhttp::file_body> file_parser(std::move(parser));
    file_parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    file_parser.get().body().open(download_path->c_str(), beast::file_mode::write, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat("cannot write ", *download_path, ": ", ec.message()));
    }
    const uint64_t expected = file_parser.content_length().value_or(0);
    while (!file_parser.is_done()) {
      beast::get_lowest_layer(stream).expires_after(timeout);
      bhttp::read_some(stream, buffer, file_parser, ec);
      if (ec) return read_failed(ec);
      if (progress && *progress && expected > 0) {
        (*progress)(expected - file_parser.content_length_remaining().value_or(0), expected);
      }
    }
    return out;
  }
  beast::get_lowest_layer(stream).expires_after(timeout);
  bhttp::read(stream, buffer, parser, ec);
  if (ec) return read_failed(ec);
  out.body = std::move(parser.get().body());
  return out;
}

}  // namespace

std::optional<absl::string_view> ClientResponse::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return absl::string_view(value);
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(absl::string_view base_url,
                                                               const HttpClientOptions& options) {
  auto url = ParseUrl(base_url);
  if (!url.ok()) return url.status();
  return std::unique_ptr<HttpClient>(new HttpClient(*std::move(url), options));
}

HttpClient::~HttpClient() = default;

namespace {

// Sets what every request carries; Content-Length comes from the body.
template <class Body>
void Prepare(bhttp::request<Body>& request, const Url& url, const std::string& bearer_token,
             const HeaderList& headers) {
  request.set(bhttp::field::host, url.host);
  request.set(bhttp::field::user_agent, "meridian-cli");
  if (!bearer_token.empty()) request.set(bhttp::field::authorization, "Bearer " + bearer_token);
  for (const auto& [name, value] : headers) request.set(name, value);
  request.keep_alive(false);
}

}  // namespace

template <class Body>
absl::StatusOr<ClientResponse> HttpClient::Transfer(bhttp_request<Body>& request, const std::string* download_path,
                                                    bool with_progress) {
  const std::string server = absl::StrCat(url_.https ? "https://" : "http://", url_.host, ":", url_.port);
  net::io_context ctx;
  tcp::resolver resolver(ctx);
  beast::error_code ec;
  auto endpoints = resolver.resolve(url_.host, std::to_string(url_.port), ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot resolve ", url_.host, ": ", ec.message()));
  const auto timeout = absl::ToChronoNanoseconds(options_.timeout);
  if (!url_.https) {
    beast::tcp_stream stream(ctx);
    stream.expires_after(timeout);
    stream.connect(endpoints, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("cannot connect to ", server, ": ", ec.message()));
    return Exchange(stream, request, server, download_path, with_progress ? &options_.progress : nullptr, timeout);
  }
  net::ssl::context ssl(net::ssl::context::tls_client);
  if (options_.insecure_skip_verify) {
    ssl.set_verify_mode(net::ssl::verify_none);
  } else {
    ssl.set_verify_mode(net::ssl::verify_peer);
    if (!options_.ca_file.empty()) {
      ssl.load_verify_file(options_.ca_file, ec);
      if (ec) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot load CA file ", options_.ca_file, ": ", ec.message()));
      }
    } else {
      ssl.set_default_verify_paths();
    }
    ssl.set_verify_callback(net::ssl::host_name_verification(url_.host));
  }
  if (!options_.client_cert_file.empty()) {
    ssl.use_certificate_chain_file(options_.client_cert_file, ec);
    if (!ec) ssl.use_private_key_file(options_.client_key_file, net::ssl::context::pem, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat("cannot load client certificate ", options_.client_cert_file,
                                                     " / key ", options_.client_key_file, ": ", ec.message()));
    }
  }
  beast::ssl_stream<beast::tcp_stream> stream(ctx, ssl);
  SSL_set_tlsext_host_name(stream.native_handle(), url_.host.c_str());
  beast::get_lowest_layer(stream).expires_after(timeout);
  beast::get_lowest_layer(stream).connect(endpoints, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot connect to ", server, ": ", ec.message()));
  stream.handshake(net::ssl::stream_base::client, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("TLS handshake with ", server, " failed: ", ec.message()));
  return Exchange(stream, request, server, download_path, with_progress ? &options_.progress : nullptr, timeout);
}

absl::StatusOr<ClientResponse> HttpClient::Send(HttpMethod method, absl::string_view target,
                                                std::string body, const HeaderList& headers) {
  bhttp::request<bhttp::string_body> request(bhttp::string_to_verb(std::string(MethodName(method))),
                                             absl::StrCat(url_.path, target), 11);
  Prepare(request, url_, options_.bearer_token, headers);
  if (!body.empty() || method == HttpMethod::kPost || method == HttpMethod::kPut ||
      method == HttpMethod::kPatch) {
    request.body() = std::move(body);
    request.prepare_payload();
  }
  return Transfer(request, nullptr, false);
}

absl::StatusOr<ClientResponse> HttpClient::SendFile(HttpMethod method, absl::string_view target,
                                                    const std::string& path, const HeaderList& headers) {
  bhttp::request<bhttp::file_body> request(bhttp::string_to_verb(std::string(MethodName(method))),
                                           absl::StrCat(url_.path, target), 11);
  Prepare(request, url_, options_.bearer_token, headers);
  beast::error_code ec;
  request.body().open(path.c_str(), beast::file_mode::scan, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": ", ec.message()));
  request.prepare_payload();
  return Transfer(request, nullptr, true);
}

absl::StatusOr<ClientResponse> HttpClient::Download(absl::string_view target, const std::string& path,
                                                    const HeaderList& headers) {
  bhttp::request<bhttp::empty_body> request(bhttp::verb::get, absl::StrCat(url_.path, target), 11);
  Prepare(request, url_, options_.bearer_token, headers);
  return Transfer(request, &path, true);
}

}  // namespace meridian::http
