#include "server/data_dir_lock.h"

#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::server {
namespace {

using ::testing::HasSubstr;

TEST(DataDirLockTest, CreatesTheDirectoryAndExcludesASecondOwner) {
  const std::string dir = ::testing::TempDir() + "/meridian-lock-test/nested";
  std::filesystem::remove_all(dir);
  auto first = DataDirLock::Acquire(dir);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(std::filesystem::exists(dir + "/meridian.lock"));

  // flock locks belong to the open file description, so a second open in this process conflicts
  // just as another process would.
  auto second = DataDirLock::Acquire(dir);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("in use by another meridian process (pid " + std::to_string(getpid()) + ")"));

  first->reset();
  EXPECT_TRUE(DataDirLock::Acquire(dir).ok());
}

TEST(DataDirLockTest, UnwritableDirectoryIsAClearError) {
  if (geteuid() == 0) {
    // root may write anywhere; use a path under a regular file instead.
    const std::string file = ::testing::TempDir() + "/meridian-lock-file";
    FILE* f = fopen(file.c_str(), "w");
    fclose(f);
    auto lock = DataDirLock::Acquire(file + "/data");
    ASSERT_FALSE(lock.ok());
    EXPECT_THAT(std::string(lock.status().message()), HasSubstr(file + "/data"));
    return;
  }
  auto lock = DataDirLock::Acquire("/proc/meridian-data");
  ASSERT_FALSE(lock.ok());
  EXPECT_THAT(std::string(lock.status().message()), HasSubstr("/proc/meridian-data"));
}

}  // namespace
}  // namespace meridian::server
