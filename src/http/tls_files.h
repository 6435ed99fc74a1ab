#pragma once

// Where a server's TLS certificate, key and (for mutual TLS) client CAs are. Shared by the
// HTTP/1.1 and HTTP/2 servers, which load them with MakeServerTlsContext (http/tls_context.h).

#include <string>

namespace meridian::http {

struct TlsFiles {
  std::string cert_file;  // PEM certificate chain
  std::string key_file;   // PEM private key
  // PEM CAs for client certificates. When set, every client must present a certificate signed by
  // one of them (mutual TLS), and the request gate sees the certificate's common name.
  std::string client_ca_file;
};

}  // namespace meridian::http
