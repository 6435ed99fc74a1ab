#include "common/allocator.h"

#include <memory>
#include <vector>

#include "common/build_info.h"
#include "common/memory_limits.h"
#include "gtest/gtest.h"

namespace meridian {
namespace {

TEST(AllocatorTest, IsTheOneTheBuildLinked) { EXPECT_EQ(AllocatorName(), MERIDIAN_EXPECTED_ALLOCATOR); }

TEST(AllocatorTest, ReleasingFreedMemoryLowersTheResidentSet) {
  if (GetBuildInfo().sanitizers != "none") GTEST_SKIP() << "AddressSanitizer holds freed memory in its quarantine";
  ReleaseFreedMemory();
  const uint64_t before = AllocatedResidentBytes();
  {
    // Many small blocks, as requests leave behind (not one large block, which is unmapped at once).
    std::vector<std::unique_ptr<char[]>> blocks;
    for (int i = 0; i < 200'000; ++i) {
      blocks.emplace_back(new char[256]);
      blocks.back()[0] = 1;
      blocks.back()[255] = 1;
    }
    EXPECT_GT(AllocatedResidentBytes(), before + (40u << 20));
  }
  ReleaseFreedMemory();
  EXPECT_LT(AllocatedResidentBytes(), before + (8u << 20)) << "freed memory stayed resident";
}

}  // namespace
}  // namespace meridian
