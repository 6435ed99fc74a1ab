#include "registry/version_filter.h"

#include "gtest/gtest.h"

namespace meridian::registry {
namespace {

store::VersionRecord Version(std::string metadata, store::Tags tags = {}) {
  return store::VersionRecord{.metadata_json = std::move(metadata), .tags = std::move(tags)};
}

bool Match(const std::string& filter, const store::VersionRecord& v) {
  auto conditions = ParseMetadataConditions(filter);
  EXPECT_TRUE(conditions.ok()) << filter << ": " << conditions.status();
  return VersionFilter{.conditions = *conditions}.Matches(v);
}

TEST(VersionFilterTest, ComparesNumbersStringsAndBooleans) {
  auto v = Version(R"({"metrics":{"accuracy":0.95,"loss":0.1},"dataset":"imagenet","calibrated":true})");
  EXPECT_TRUE(Match("metrics.accuracy>=0.9", v));
  EXPECT_TRUE(Match("metadata.metrics.accuracy>0.94,metrics.loss<0.2", v));
  EXPECT_FALSE(Match("metrics.accuracy<0.9", v));
  EXPECT_TRUE(Match("metrics.accuracy=0.95", v));
  EXPECT_TRUE(Match("dataset=imagenet", v));
  EXPECT_TRUE(Match("dataset!=coco", v));
  EXPECT_FALSE(Match("dataset>=a", v));  // ordering needs numbers
  EXPECT_TRUE(Match("calibrated=true", v));
  EXPECT_FALSE(Match("missing.field=1", v));
  EXPECT_TRUE(Match("missing.field!=1", v));
  EXPECT_TRUE(Match("", v));
}

TEST(VersionFilterTest, TagsMustMatchExactly) {
  auto v = Version("{}", {{"team", "vision"}});
  EXPECT_TRUE((VersionFilter{.tag = std::make_pair(std::string("team"), std::string("vision"))}.Matches(v)));
  EXPECT_FALSE((VersionFilter{.tag = std::make_pair(std::string("team"), std::string("nlp"))}.Matches(v)));
}

TEST(VersionFilterTest, RejectsMalformedConditions) {
  for (const char* bad : {"accuracy", ">=0.9", "a..b=1", "metrics.=1"}) {
    EXPECT_FALSE(ParseMetadataConditions(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace meridian::registry
