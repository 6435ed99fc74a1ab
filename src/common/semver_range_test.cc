#include "common/semver_range.h"

#include "gtest/gtest.h"

namespace meridian {
namespace {

bool In(const std::string& range, const std::string& version) {
  auto r = SemVerRange::Parse(range);
  EXPECT_TRUE(r.ok()) << range << ": " << r.status();
  auto v = SemVer::Parse(version);
  EXPECT_TRUE(v.ok()) << version;
  return r.ok() && v.ok() && r->Matches(*v);
}

TEST(SemVerRangeTest, CaretKeepsTheLeftmostNonZeroPart) {
  EXPECT_TRUE(In("^1.2", "1.2.0"));
  EXPECT_TRUE(In("^1.2", "1.9.3"));
  EXPECT_FALSE(In("^1.2", "1.1.9"));
  EXPECT_FALSE(In("^1.2", "2.0.0"));
  EXPECT_TRUE(In("^1.2.3", "1.2.3"));
  EXPECT_FALSE(In("^1.2.3", "1.2.2"));
  EXPECT_TRUE(In("^0.3", "0.3.7"));
  EXPECT_FALSE(In("^0.3", "0.4.0"));
  EXPECT_TRUE(In("^0.0.3", "0.0.3"));
  EXPECT_FALSE(In("^0.0.3", "0.0.4"));
  EXPECT_TRUE(In("^1", "1.99.0"));
}

TEST(SemVerRangeTest, TildeWildcardsAndComparators) {
  EXPECT_TRUE(In("~1.2.3", "1.2.9"));
  EXPECT_FALSE(In("~1.2.3", "1.3.0"));
  EXPECT_TRUE(In("~1", "1.5.0"));
  EXPECT_TRUE(In("1.x", "1.7.2"));
  EXPECT_FALSE(In("1.x", "2.0.0"));
  EXPECT_TRUE(In("1.2.*", "1.2.5"));
  EXPECT_FALSE(In("1.2.*", "1.3.0"));
  EXPECT_TRUE(In("*", "7.0.0"));
  EXPECT_TRUE(In(">=1.0.0 <2.0.0", "1.5.0"));
  EXPECT_FALSE(In(">=1.0.0 <2.0.0", "2.0.0"));
  EXPECT_TRUE(In(">1.0", "1.0.1"));
  EXPECT_FALSE(In("<=1.0.0", "1.0.1"));
  EXPECT_TRUE(In("=1.2.3", "1.2.3"));
}

TEST(SemVerRangeTest, PreReleasesNeverMatch) {
  EXPECT_FALSE(In("^1.2", "1.3.0-rc.1"));
  EXPECT_FALSE(In("*", "1.0.0-alpha"));
}

TEST(SemVerRangeTest, RecognisesRangesAndRejectsMalformedOnes) {
  EXPECT_TRUE(SemVerRange::LooksLikeRange("^1.2"));
  EXPECT_TRUE(SemVerRange::LooksLikeRange("1.x"));
  EXPECT_TRUE(SemVerRange::LooksLikeRange(">=1.0.0 <2.0.0"));
  EXPECT_FALSE(SemVerRange::LooksLikeRange("1.2.3"));
  EXPECT_FALSE(SemVerRange::LooksLikeRange("production"));
  for (const char* bad : {"^", "^1.2.3.4", "^a.b", ">=", "^01.2", "1.x.3", ""}) {
    EXPECT_FALSE(SemVerRange::Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace meridian
