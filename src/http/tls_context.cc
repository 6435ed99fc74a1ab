#include "http/tls_context.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"

namespace meridian::http {
namespace {

namespace ssl = boost::asio::ssl;

// ALPN selection for an HTTP/2-only server: "h2" when the client offers it, else no agreement,
// which ends the handshake with a fatal alert instead of a connection that cannot speak.
int SelectHttp2(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* offered,
                unsigned int offered_length, void*) {
  static constexpr unsigned char kH2[] = {2, 'h', '2'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kH2, sizeof(kH2), offered, offered_length) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

absl::StatusOr<std::shared_ptr<ssl::context>> MakeServerTlsContext(const TlsFiles& files, TlsAlpn alpn) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  context->use_certificate_chain_file(files.cert_file, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("cannot load TLS certificate ", files.cert_file, ": ", ec.message()));
  }
  context->use_private_key_file(files.key_file, ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("cannot load TLS private key ", files.key_file, ": ", ec.message()));
  }
  if (!files.client_ca_file.empty()) {
    context->load_verify_file(files.client_ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load client CA file ", files.client_ca_file, ": ", ec.message()));
    }
    context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  if (alpn == TlsAlpn::kHttp2) SSL_CTX_set_alpn_select_cb(context->native_handle(), &SelectHttp2, nullptr);
  return context;
}

std::string PeerCommonName(SSL* ssl) {
  X509* cert = SSL_get_peer_certificate(ssl);
  if (cert == nullptr) return "";
  std::string name;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    char buffer[256] = {};
    const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buffer, sizeof(buffer));
    if (n > 0) name.assign(buffer, static_cast<size_t>(n));
  }
  X509_free(cert);
  return name;
}

}  // namespace meridian::http
