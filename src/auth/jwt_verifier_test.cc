#include "auth/jwt_verifier.h"

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "absl/strings/escaping.h"
#include "auth/access_control.h"
#include "gmock/gmock.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"

namespace meridian::auth {
namespace {

using ::testing::HasSubstr;

struct KeyPair {
  std::string private_pem, public_pem;
};

// A fresh P-256 key pair, as an identity provider would hold.
KeyPair MakeKeyPair() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  KeyPair pair;
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  pair.private_pem.assign(data, static_cast<size_t>(n));
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  n = BIO_get_mem_data(bio, &data);
  pair.public_pem.assign(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pair;
}

struct Claims {
  std::string iss = "https://id.example.com";
  std::string sub = "alice";
  std::string aud = "meridian";
  int64_t exp = 0;  // 0: now + 1 h
  int64_t nbf = 0;  // 0: absent
};

std::string Sign(const Claims& c, absl::Time now, jwt_alg_t alg, const std::string& key) {
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  if (!c.iss.empty()) jwt_add_grant(jwt, "iss", c.iss.c_str());
  if (!c.sub.empty()) jwt_add_grant(jwt, "sub", c.sub.c_str());
  if (!c.aud.empty()) jwt_add_grant(jwt, "aud", c.aud.c_str());
  jwt_add_grant_int(jwt, "exp", c.exp != 0 ? c.exp : absl::ToUnixSeconds(now + absl::Hours(1)));
  if (c.nbf != 0) jwt_add_grant_int(jwt, "nbf", c.nbf);
  jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(key.data()), static_cast<int>(key.size()));
  char* text = jwt_encode_str(jwt);
  std::string out = text != nullptr ? text : "";
  free(text);
  jwt_free(jwt);
  return out;
}

class JwtVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = MakeKeyPair();
    auto verifier = JwtVerifier::Create({.public_key_pem = keys_.public_pem,
                                         .issuer = "https://id.example.com",
                                         .audience = "meridian",
                                         .clock = &clock_});
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    verifier_ = *std::move(verifier);
  }
  std::string Token(const Claims& c = {}) { return Sign(c, clock_.Now(), JWT_ALG_ES256, keys_.private_pem); }
  std::string Refusal(const std::string& token) {
    auto user = verifier_->Verify(token);
    EXPECT_TRUE(absl::IsUnauthenticated(user.status())) << user.status();
    return std::string(user.status().message());
  }

  testing::FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  KeyPair keys_;
  std::unique_ptr<JwtVerifier> verifier_;
};

TEST_F(JwtVerifierTest, AValidTokenNamesItsUser) {
  auto user = verifier_->Verify(Token());
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(*user, "alice");
}

TEST_F(JwtVerifierTest, ExpiryNotBeforeIssuerAndAudienceAreChecked) {
  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  EXPECT_THAT(Refusal(Token({.exp = now - 120})), HasSubstr("expired"));
  EXPECT_TRUE(verifier_->Verify(Token({.exp = now - 30})).ok()) << "within the clock skew";
  EXPECT_THAT(Refusal(Token({.nbf = now + 3600})), HasSubstr("not valid yet"));
  EXPECT_THAT(Refusal(Token({.iss = "https://evil.example.com"})), HasSubstr("issuer"));
  EXPECT_THAT(Refusal(Token({.aud = "another-service"})), HasSubstr("audience"));
  EXPECT_THAT(Refusal(Token({.sub = ""})), HasSubstr("\"sub\""));
}

TEST_F(JwtVerifierTest, ForgedSignaturesAreRefused) {
  // Signed by another key.
  EXPECT_THAT(Refusal(Sign({}, clock_.Now(), JWT_ALG_ES256, MakeKeyPair().private_pem)), HasSubstr("signature"));
  // The classic confusion: HMAC with the (public) verification key as the secret.
  Refusal(Sign({}, clock_.Now(), JWT_ALG_HS256, keys_.public_pem));
  // alg "none".
  std::string header, payload;
  absl::WebSafeBase64Escape(R"({"alg":"none","typ":"JWT"})", &header);
  absl::WebSafeBase64Escape(R"({"iss":"https://id.example.com","sub":"mallory","aud":"meridian","exp":4000000000})",
                            &payload);
  Refusal(header + "." + payload + ".");
  // A tampered payload under a valid signature.
  std::string token = Token();
  const size_t dot = token.find('.');
  std::string other;
  absl::WebSafeBase64Escape(R"({"iss":"https://id.example.com","sub":"mallory","aud":"meridian","exp":4000000000})",
                            &other);
  Refusal(token.substr(0, dot + 1) + other + token.substr(token.rfind('.')));
}

TEST_F(JwtVerifierTest, BadConfigurationIsAStartupError) {
  EXPECT_TRUE(absl::IsInvalidArgument(JwtVerifier::Create({.public_key_pem = "garbage", .issuer = "x"}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(JwtVerifier::Create({.public_key_pem = keys_.public_pem}).status()));
}

TEST_F(JwtVerifierTest, AccessControlTakesAJwtAsTheUserItNames) {
  auto store = *store::SqliteStore::Open({.path = ":memory:"});
  auto access = *AccessControl::Create(
      {.store = store.get(), .clock = &clock_, .refresh_interval = absl::ZeroDuration(), .jwt = verifier_.get()});
  ASSERT_TRUE(access->PutBinding({"alice-views", "", "viewer", {{SubjectKind::kUser, "alice"}}}).ok());
  Authentication authn = access->Authenticate("Bearer " + Token(), "10.0.0.1");
  ASSERT_TRUE(authn.status.ok()) << authn.status;
  EXPECT_EQ(authn.principal.Name(), "user:alice");
  EXPECT_TRUE(access->Authorize(authn.principal, "default", "models", "list").allowed);
  EXPECT_TRUE(absl::IsUnauthenticated(access->Authenticate("Bearer " + Token({.iss = "x"}), "10.0.0.1").status));
}

}  // namespace
}  // namespace meridian::auth
