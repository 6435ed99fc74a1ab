#include "http/adaptive_read_size.h"

#include "gtest/gtest.h"

namespace meridian::http {
namespace {

TEST(AdaptiveReadSizeTest, DoublesAfterEachReadThatFillsItUpToTheMaximum) {
  AdaptiveReadSize read(16, 100, 4);
  EXPECT_EQ(read.size(), 16u);
  EXPECT_FALSE(read.After(15));  // not filled
  EXPECT_TRUE(read.After(16));
  EXPECT_EQ(read.size(), 32u);
  EXPECT_TRUE(read.After(32));
  EXPECT_TRUE(read.After(64));
  EXPECT_EQ(read.size(), 100u) << "capped, not 128";
  EXPECT_FALSE(read.After(100));
  EXPECT_EQ(read.size(), 100u);
}

TEST(AdaptiveReadSizeTest, HalvesOnlyAfterManySmallReadsInARowAndNeverBelowTheMinimum) {
  AdaptiveReadSize read(16, 128, 4);
  for (size_t filled : {16, 32, 64}) ASSERT_TRUE(read.After(filled));
  ASSERT_EQ(read.size(), 128u);
  // Three small reads (under an eighth, 16 bytes), then one that is not: the count starts again.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(read.After(15));
  EXPECT_FALSE(read.After(16));
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(read.After(15));
  EXPECT_TRUE(read.After(15)) << "the fourth small read in a row";
  EXPECT_EQ(read.size(), 64u);
  // Each halving needs its own run of small reads.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(read.After(1));
  EXPECT_TRUE(read.After(1));
  EXPECT_EQ(read.size(), 32u);
  for (int i = 0; i < 4; ++i) read.After(0);
  EXPECT_EQ(read.size(), 16u);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(read.After(0));
  EXPECT_EQ(read.size(), 16u) << "not below the minimum";
}

}  // namespace
}  // namespace meridian::http
