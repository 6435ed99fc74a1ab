#include "common/quantity.h"

#include "gtest/gtest.h"

namespace meridian {
namespace {

TEST(QuantityTest, MilliQuantities) {
  EXPECT_EQ(*ParseMilliQuantity("500m"), 500);
  EXPECT_EQ(*ParseMilliQuantity("2"), 2000);
  EXPECT_EQ(*ParseMilliQuantity("0.25"), 250);
  EXPECT_EQ(*ParseMilliQuantity("0"), 0);
  for (const char* bad : {"", "m", "-1", "1.5x", "nan", "inf", "1e400", "abc"}) {
    EXPECT_FALSE(ParseMilliQuantity(bad).ok()) << bad;
  }
}

TEST(QuantityTest, ByteQuantities) {
  EXPECT_EQ(*ParseByteQuantity("256Mi"), 256ll << 20);
  EXPECT_EQ(*ParseByteQuantity("1Gi"), 1ll << 30);
  EXPECT_EQ(*ParseByteQuantity("1.5Gi"), 3ll << 29);
  EXPECT_EQ(*ParseByteQuantity("100M"), 100000000);
  EXPECT_EQ(*ParseByteQuantity("1073741824"), 1ll << 30);
  EXPECT_EQ(*ParseByteQuantity("1e9"), 1000000000);
  for (const char* bad : {"", "Mi", "-1Gi", "1Xi", "1GB"}) EXPECT_FALSE(ParseByteQuantity(bad).ok()) << bad;
}

}  // namespace
}  // namespace meridian
