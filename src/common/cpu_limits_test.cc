#include "common/cpu_limits.h"
#include "common/memory_limits.h"

#include "gtest/gtest.h"

namespace meridian {
namespace {

TEST(CpuLimitsTest, ParsesCgroupV2CpuMax) {
  EXPECT_EQ(ParseCgroupV2CpuMax("max 100000"), std::nullopt);
  EXPECT_DOUBLE_EQ(*ParseCgroupV2CpuMax("200000 100000\n"), 2.0);
  EXPECT_DOUBLE_EQ(*ParseCgroupV2CpuMax("150000 100000"), 1.5);
  EXPECT_EQ(ParseCgroupV2CpuMax("garbage"), std::nullopt);
  EXPECT_EQ(ParseCgroupV2CpuMax("-1 100000"), std::nullopt);
}

TEST(CpuLimitsTest, AvailableCpusIsPositive) { EXPECT_GE(AvailableCpus(), 1); }

}  // namespace
}  // namespace meridian

namespace meridian {
namespace {

TEST(MemoryLimitsTest, ParsesCgroupLimits) {
  EXPECT_EQ(ParseCgroupMemoryLimit("max\n"), std::nullopt);
  EXPECT_EQ(ParseCgroupMemoryLimit("2147483648\n"), 2147483648u);
  EXPECT_EQ(ParseCgroupMemoryLimit("9223372036854771712"), std::nullopt);  // v1 unlimited
  EXPECT_EQ(ParseCgroupMemoryLimit("lots"), std::nullopt);
  EXPECT_GT(MemoryLimitBytes(), 0u);
  EXPECT_GT(ResidentMemoryBytes(), 0u);
}

}  // namespace
}  // namespace meridian
