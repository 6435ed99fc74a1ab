#pragma once

// Server-side TLS for the HTTP/1.1 and HTTP/2 servers: one context per loaded certificate (a
// reload makes a new one; connections keep the one they were accepted with).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"
#include "http/tls_files.h"

namespace meridian::http {

// Which application protocol the context agrees on in the handshake (ALPN).
enum class TlsAlpn {
  kNone,   // no ALPN: HTTP/1.1
  kHttp2,  // "h2" only: a client that does not offer it fails the handshake (gRPC requires it)
};

// Loads `files` into a TLS 1.2+ server context; kInvalidArgument names the file that did not load.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsFiles& files, TlsAlpn alpn);

// The common name of the verified certificate the TLS peer presented; empty without one.
std::string PeerCommonName(SSL* ssl);

}  // namespace meridian::http
