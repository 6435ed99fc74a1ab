#include "auth/api_token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/sha256.h"

namespace meridian::auth {
namespace {

constexpr absl::string_view kPrefix = "mrd";
constexpr size_t kIdBytes = 6;
constexpr size_t kSecretBytes = 32;
constexpr size_t kSecretChars = 43;  // base64url of 32 bytes, unpadded

absl::Status Malformed() {
  return absl::UnauthenticatedError("the bearer token is malformed: expected mrd_<id>_<secret> as issued");
}

}  // namespace

absl::StatusOr<IssuedToken> IssueToken() {
  std::array<unsigned char, kIdBytes + kSecretBytes> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return absl::InternalError("the system random generator failed");
  }
  IssuedToken issued;
  issued.id = absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(random.data()), kIdBytes));
  std::string secret;
  absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<const char*>(random.data() + kIdBytes), kSecretBytes),
                            &secret);
  issued.token = absl::StrCat(kPrefix, "_", issued.id, "_", secret);
  issued.secret_hash = HashSecret(secret);
  return issued;
}

absl::StatusOr<ParsedToken> ParseToken(absl::string_view bearer) {
  std::vector<absl::string_view> parts = absl::StrSplit(bearer, absl::MaxSplits('_', 2));
  if (parts.size() != 3 || parts[0] != kPrefix || parts[1].size() != 2 * kIdBytes ||
      parts[2].size() != kSecretChars) {
    return Malformed();
  }
  for (char c : parts[1]) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) || absl::ascii_isupper(static_cast<unsigned char>(c))) {
      return Malformed();
    }
  }
  for (char c : parts[2]) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return Malformed();
  }
  return ParsedToken{std::string(parts[1]), std::string(parts[2])};
}

std::string HashSecret(absl::string_view secret) { return Sha256::HexOf(secret); }

bool SecretMatches(absl::string_view secret, absl::string_view stored_hash) {
  const std::string hash = HashSecret(secret);
  return hash.size() == stored_hash.size() && CRYPTO_memcmp(hash.data(), stored_hash.data(), hash.size()) == 0;
}

}  // namespace meridian::auth
