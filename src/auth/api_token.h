#pragma once

// API tokens: `mrd_<id>_<secret>`. The id (12 hex characters) names the token in lists and audit
// records and is how the server finds it; the secret (256 random bits, base64url) is shown once at
// creation and stored only as its SHA-256, compared in constant time.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meridian::auth {

struct IssuedToken {
  std::string id;
  std::string token;        // the whole bearer value; give it to the user, never store it
  std::string secret_hash;  // what to store
};

// Draws a new token from the system's random generator (OpenSSL RAND_bytes).
absl::StatusOr<IssuedToken> IssueToken();

struct ParsedToken {
  std::string id;
  std::string secret;
};

// Unauthenticated (never echoing the value) when `bearer` is not a well-formed token.
absl::StatusOr<ParsedToken> ParseToken(absl::string_view bearer);

std::string HashSecret(absl::string_view secret);
// Constant-time comparison of the secret's hash with the stored one.
bool SecretMatches(absl::string_view secret, absl::string_view stored_hash);

}  // namespace meridian::auth
