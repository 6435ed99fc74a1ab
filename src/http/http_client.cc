#include "http/http_client.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

template <class Stream>
absl::StatusOr<ClientResponse> Exchange(Stream& stream, bhttp::request<bhttp::string_body>& request,
                                        const std::string& server) {
  beast::error_code ec;
  bhttp::write(stream, request, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("sending to ", server, " failed: ", ec.message()));
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // boost::none misbehaves in 1.74
  bhttp::read(stream, buffer, parser, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("reading the response from ", server, " failed: ", ec.message()));
  }
  auto response = parser.release();
  ClientResponse out;
  out.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = std::move(response.body());
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

absl::StatusOr<ClientResponse> HttpClient::Send(HttpMethod method, absl::string_view target,
                                                std::string body, const HeaderList& headers) {
  const std::string server = absl::StrCat(url_.https ? "https://" : "http://", url_.host, ":", url_.port);
  net::io_context ctx;
  tcp::resolver resolver(ctx);
  beast::error_code ec;
  auto endpoints = resolver.resolve(url_.host, std::to_string(url_.port), ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot resolve ", url_.host, ": ", ec.message()));

  bhttp::request<bhttp::string_body> request(
      bhttp::string_to_verb(std::string(MethodName(method))), absl::StrCat(url_.path, target), 11);
  request.set(bhttp::field::host, url_.host);
  request.set(bhttp::field::user_agent, "meridian-cli");
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty() || method == HttpMethod::kPost || method == HttpMethod::kPut ||
      method == HttpMethod::kPatch) {
    request.body() = std::move(body);
    request.prepare_payload();
  }
  request.keep_alive(false);

  const auto timeout = absl::ToChronoNanoseconds(options_.timeout);
  if (!url_.https) {
    beast::tcp_stream stream(ctx);
    stream.expires_after(timeout);
    stream.connect(endpoints, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("cannot connect to ", server, ": ", ec.message()));
    return Exchange(stream, request, server);
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
  beast::ssl_stream<beast::tcp_stream> stream(ctx, ssl);
  SSL_set_tlsext_host_name(stream.native_handle(), url_.host.c_str());
  beast::get_lowest_layer(stream).expires_after(timeout);
  beast::get_lowest_layer(stream).connect(endpoints, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot connect to ", server, ": ", ec.message()));
  stream.handshake(net::ssl::stream_base::client, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("TLS handshake with ", server, " failed: ", ec.message()));
  return Exchange(stream, request, server);
}

}  // namespace meridian::http
