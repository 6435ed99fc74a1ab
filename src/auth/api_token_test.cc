#include "auth/api_token.h"

#include <gtest/gtest.h>

#include <set>

namespace meridian::auth {
namespace {

TEST(ApiToken, IssuedTokensParseAndMatchTheirHashOnly) {
  auto issued = IssueToken();
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->token.substr(0, 4), "mrd_");
  auto parsed = ParseToken(issued->token);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->id, issued->id);
  EXPECT_TRUE(SecretMatches(parsed->secret, issued->secret_hash));
  EXPECT_EQ(issued->secret_hash.size(), 64u);
  EXPECT_EQ(issued->token.find(issued->secret_hash), std::string::npos);  // the hash is not the secret
  std::string wrong = parsed->secret;
  wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(SecretMatches(wrong, issued->secret_hash));
}

TEST(ApiToken, EveryTokenIsNew) {
  std::set<std::string> ids, tokens;
  for (int i = 0; i < 200; ++i) {
    auto issued = IssueToken();
    ASSERT_TRUE(issued.ok());
    ids.insert(issued->id);
    tokens.insert(issued->token);
  }
  EXPECT_EQ(ids.size(), 200u);
  EXPECT_EQ(tokens.size(), 200u);
}

TEST(ApiToken, MalformedBearersAreUnauthenticatedWithoutEchoingThem) {
  auto issued = IssueToken();
  ASSERT_TRUE(issued.ok());
  const std::string good = issued->token;
  for (const std::string& bad :
       {std::string(""), std::string("mrd_"), good.substr(0, good.size() - 1), good + "x", "xyz" + good.substr(3),
        "mrd_ABCDEF123456_" + good.substr(good.size() - 43), "mrd_0123456789ab_" + std::string(43, '*'),
        std::string("Bearer ") + good}) {
    auto parsed = ParseToken(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_TRUE(absl::IsUnauthenticated(parsed.status()));
    if (bad.size() > 8) {  // long enough to be a secret, not a word of the message
      EXPECT_EQ(std::string(parsed.status().message()).find(bad), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace meridian::auth
