#include "auth/jwt_verifier.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "rapidjson/document.h"

namespace meridian::auth {
namespace {

absl::Status Refused(absl::string_view why) { return absl::UnauthenticatedError(absl::StrCat("JWT refused: ", why)); }

bool AsymmetricAlgorithm(jwt_alg_t alg) {
  switch (alg) {
    case JWT_ALG_RS256:
    case JWT_ALG_RS384:
    case JWT_ALG_RS512:
    case JWT_ALG_ES256:
    case JWT_ALG_ES384:
    case JWT_ALG_ES512:
      return true;
    default:
      return false;
  }
}

// A NumericDate claim ("exp", "nbf"); nullopt when absent, an error when not a number.
absl::StatusOr<std::optional<absl::Time>> TimeClaim(const rapidjson::Value& claims, const char* name) {
  auto it = claims.FindMember(name);
  if (it == claims.MemberEnd()) return std::nullopt;
  if (!it->value.IsNumber() || !std::isfinite(it->value.GetDouble())) return Refused(absl::StrCat(name, " is not a number"));
  return absl::FromUnixSeconds(static_cast<int64_t>(it->value.GetDouble()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(const JwtVerifierOptions& options) {
  if (options.issuer.empty()) return absl::InvalidArgumentError("JWT verification needs the issuer (iss) to accept");
  if (options.user_claim.empty()) return absl::InvalidArgumentError("JWT verification needs the claim that names the user");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(options.public_key_pem.data(), static_cast<int>(options.public_key_pem.size())), &BIO_free);
  EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) return absl::InvalidArgumentError("the JWT public key is not a PEM public key");
  EVP_PKEY_free(key);
  return std::unique_ptr<JwtVerifier>(new JwtVerifier(options));
}

bool JwtVerifier::LooksLikeJwt(absl::string_view bearer) {
  return std::count(bearer.begin(), bearer.end(), '.') == 2 && bearer.size() > 10;
}

absl::StatusOr<std::string> JwtVerifier::Verify(absl::string_view token) const {
  if (!LooksLikeJwt(token)) return Refused("not a JWT");
  const std::string text(token);
  jwt_t* raw = nullptr;
  const int rc = jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(options_.public_key_pem.data()),
                            static_cast<int>(options_.public_key_pem.size()));
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, &jwt_free);
  if (rc != 0 || !jwt) return Refused("the signature does not verify against the configured key, or it is malformed");
  // Checked after decoding as well: an HMAC token "verified" with the public key as its secret
  // proves nothing.
  if (!AsymmetricAlgorithm(jwt_get_alg(jwt.get()))) {
    return Refused("only RS256/384/512 and ES256/384/512 signatures are accepted");
  }
  std::unique_ptr<char, decltype(&free)> json(jwt_get_grants_json(jwt.get(), nullptr), &free);
  rapidjson::Document claims;
  if (!json || !ParseUntrustedJson(json.get(), claims).ok() || !claims.IsObject()) return Refused("unreadable claims");

  const absl::Time now = options_.clock->Now();
  auto exp = TimeClaim(claims, "exp");
  if (!exp.ok()) return exp.status();
  if (!exp->has_value()) return Refused("it has no expiry (exp)");
  if (**exp + options_.clock_skew <= now) return Refused("it has expired");
  auto nbf = TimeClaim(claims, "nbf");
  if (!nbf.ok()) return nbf.status();
  if (nbf->has_value() && **nbf - options_.clock_skew > now) return Refused("it is not valid yet (nbf)");

  auto iss = claims.FindMember("iss");
  if (iss == claims.MemberEnd() || !iss->value.IsString() || options_.issuer != iss->value.GetString()) {
    return Refused("it was not issued by the configured issuer");
  }
  if (!options_.audience.empty()) {
    bool found = false;
    auto aud = claims.FindMember("aud");
    if (aud != claims.MemberEnd() && aud->value.IsString()) found = options_.audience == aud->value.GetString();
    if (aud != claims.MemberEnd() && aud->value.IsArray()) {
      for (const auto& a : aud->value.GetArray()) found = found || (a.IsString() && options_.audience == a.GetString());
    }
    if (!found) return Refused("it is not meant for this audience (aud)");
  }
  auto user = claims.FindMember(options_.user_claim.c_str());
  if (user == claims.MemberEnd() || !user->value.IsString() || user->value.GetStringLength() == 0) {
    return Refused(absl::StrCat("it has no \"", options_.user_claim, "\" claim naming the user"));
  }
  return std::string(user->value.GetString(), user->value.GetStringLength());
}

}  // namespace meridian::auth
