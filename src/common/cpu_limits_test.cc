#include "common/cpu_limits.h"
#include "common/memory_limits.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>

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
  EXPECT_GT(AllocatedResidentBytes(), 0u);
}

// A model's memory is what the process allocates, not the pages of files it maps (a library's
// code, run for the first time).
TEST(MemoryLimitsTest, AllocatedResidentBytesCountsAllocatedPagesButNotMappedFiles) {
  constexpr size_t kBytes = 16u << 20;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  char path[] = "/tmp/meridian-mapped-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  ASSERT_EQ(ftruncate(fd, kBytes), 0);
  void* mapped = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ASSERT_NE(mapped, MAP_FAILED);
  uint64_t before = AllocatedResidentBytes();
  for (size_t offset = 0; offset < kBytes; offset += page) static_cast<volatile char*>(mapped)[offset] = 1;
  EXPECT_LT(AllocatedResidentBytes(), before + (2u << 20)) << "16 MiB of a mapped file were counted as allocated";
  munmap(mapped, kBytes);
  close(fd);

  void* allocated = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(allocated, MAP_FAILED);
  before = AllocatedResidentBytes();
  for (size_t offset = 0; offset < kBytes; offset += page) static_cast<volatile char*>(allocated)[offset] = 1;
  EXPECT_GT(AllocatedResidentBytes(), before + (14u << 20)) << "16 MiB allocated and touched were not counted";
  munmap(allocated, kBytes);
}

}  // namespace
}  // namespace meridian
