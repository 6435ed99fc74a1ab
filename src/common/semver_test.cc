#include "common/semver.h"

#include <algorithm>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian {
namespace {

using ::testing::HasSubstr;

SemVer V(absl::string_view text) {
  auto v = SemVer::Parse(text);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status();
  return v.ok() ? *v : SemVer();
}

TEST(SemVerTest, ParsesAllParts) {
  SemVer v = V("1.22.333-alpha.7.x-y+build.9.sha-1f");
  EXPECT_EQ(v.major(), 1u);
  EXPECT_EQ(v.minor(), 22u);
  EXPECT_EQ(v.patch(), 333u);
  EXPECT_THAT(v.prerelease(), ::testing::ElementsAre("alpha", "7", "x-y"));
  EXPECT_THAT(v.build(), ::testing::ElementsAre("build", "9", "sha-1f"));
  EXPECT_EQ(v.ToString(), "1.22.333-alpha.7.x-y+build.9.sha-1f");
}

TEST(SemVerTest, BuildMetadataMayHaveLeadingZeros) {
  EXPECT_EQ(V("1.0.0+001").ToString(), "1.0.0+001");
}

TEST(SemVerTest, RejectsInvalidVersionsWithReason) {
  struct Case {
    const char* text;
    const char* reason;
  };
  for (const Case& c : std::vector<Case>{
           {"", "empty"},
           {"1", "three numeric parts"},
           {"1.2", "three numeric parts"},
           {"1.2.3.4", "three numeric parts"},
           {"v1.2.3", "major is not a number"},
           {"01.2.3", "leading zero"},
           {"1.02.3", "leading zero"},
           {"1.2.03", "leading zero"},
           {"1.2.3-01", "leading zero"},
           {"1.2.3-", "empty identifier"},
           {"1.2.3-a..b", "empty identifier"},
           {"1.2.3+", "empty identifier"},
           {"1.2.3-a_b", "[0-9A-Za-z-]"},
           {"1.2.3+a b", "[0-9A-Za-z-]"},
           {"1.2.-3", "patch is empty"},
           {"99999999999999999999.0.0", "too large"},
           {"1.2.3/../x", "three numeric parts"}, {"1.2.x", "patch is not a number"},
       }) {
    auto v = SemVer::Parse(c.text);
    ASSERT_FALSE(v.ok()) << c.text;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(v.status().message()), HasSubstr(c.reason)) << c.text;
  }
}

TEST(SemVerTest, PrecedenceFollowsTheSpecExample) {
  // The ordering given in section 11 of the SemVer 2.0.0 specification.
  std::vector<std::string> ordered = {"1.0.0-alpha",      "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                      "1.0.0-beta",       "1.0.0-beta.2",  "1.0.0-beta.11",
                                      "1.0.0-rc.1",       "1.0.0",         "1.0.1",
                                      "1.1.0",            "2.0.0",         "2.1.0",
                                      "2.1.1",            "10.0.0"};
  std::vector<SemVer> versions;
  for (const auto& s : ordered) versions.push_back(V(s));
  std::vector<SemVer> shuffled = versions;
  std::mt19937 rng(7);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  std::sort(shuffled.begin(), shuffled.end());
  for (size_t i = 0; i < versions.size(); ++i) EXPECT_EQ(shuffled[i].ToString(), ordered[i]);
  for (size_t i = 0; i + 1 < versions.size(); ++i) {
    EXPECT_LT(versions[i], versions[i + 1]) << ordered[i] << " < " << ordered[i + 1];
    EXPECT_GT(versions[i + 1], versions[i]);
  }
}

TEST(SemVerTest, NumericIdentifiersCompareNumericallyEvenBeyondUint64) {
  EXPECT_LT(V("1.0.0-2"), V("1.0.0-10"));
  EXPECT_LT(V("1.0.0-99999999999999999999"), V("1.0.0-100000000000000000000"));
  EXPECT_LT(V("1.0.0-999"), V("1.0.0-a"));  // numeric lower than alphanumeric
  EXPECT_LT(V("1.0.0-B"), V("1.0.0-a"));    // ASCII order
}

TEST(SemVerTest, BuildMetadataIsIgnoredForPrecedenceButNotIdentity) {
  EXPECT_EQ(V("1.0.0+a"), V("1.0.0+b"));
  EXPECT_FALSE(V("1.0.0+a").Identical(V("1.0.0+b")));
  EXPECT_TRUE(V("1.0.0+a").Identical(V("1.0.0+a")));
}

TEST(SemVerTest, Bump) {
  EXPECT_EQ(V("1.2.3").Bump(SemVer::Part::kPatch).ToString(), "1.2.4");
  EXPECT_EQ(V("1.2.3").Bump(SemVer::Part::kMinor).ToString(), "1.3.0");
  EXPECT_EQ(V("1.2.3+b").Bump(SemVer::Part::kMajor).ToString(), "2.0.0");
  EXPECT_EQ(V("1.2.3-rc.1").Bump(SemVer::Part::kPatch).ToString(), "1.2.3");
  EXPECT_EQ(*ParseSemVerPart("minor"), SemVer::Part::kMinor);
  EXPECT_FALSE(ParseSemVerPart("micro").ok());
}

}  // namespace
}  // namespace meridian
