#pragma once

// Bearer tokens issued by a team's identity provider: JWTs signed with RS256/384/512 or
// ES256/384/512, verified against the provider's public key (libjwt), with the issuer, audience,
// expiry and not-before checked and one claim ("sub" unless configured) naming the user.
// HMAC and "none" tokens are refused: with a public key as the only secret, accepting HS256 would
// let anyone who has the key sign tokens.
//
// Thread-safe (no mutable state).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace meridian::auth {

struct JwtVerifierOptions {
  std::string public_key_pem;  // the issuer's signing key (PEM public key)
  std::string issuer;          // required "iss"
  std::string audience;        // required in "aud" when set
  std::string user_claim = "sub";
  absl::Duration clock_skew = absl::Seconds(60);
  Clock* clock = Clock::Real();
};

class JwtVerifier {
 public:
  // Fails (kInvalidArgument) without an issuer or with a key that OpenSSL cannot read.
  static absl::StatusOr<std::unique_ptr<JwtVerifier>> Create(const JwtVerifierOptions& options);

  // The user the token names; kUnauthenticated with the reason otherwise (never the token).
  absl::StatusOr<std::string> Verify(absl::string_view token) const;

  // Whether `bearer` has the shape of a JWT (three base64url parts).
  static bool LooksLikeJwt(absl::string_view bearer);

 private:
  explicit JwtVerifier(JwtVerifierOptions options) : options_(std::move(options)) {}
  JwtVerifierOptions options_;
};

}  // namespace meridian::auth
