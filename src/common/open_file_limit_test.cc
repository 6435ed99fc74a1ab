#include "common/open_file_limit.h"

#include <sys/resource.h>

#include <algorithm>

#include "gtest/gtest.h"

namespace meridian {
namespace {

TEST(OpenFileLimitTest, RaisesTheSoftLimitToTheHardLimit) {
  rlimit original{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &original), 0);
  ASSERT_GE(original.rlim_max, 2u);  // a test process holds at least stdin, stdout and stderr
  rlimit lowered = original;
  // As a shell's `ulimit -Sn 64` would leave it (below the hard limit, however low that is).
  lowered.rlim_cur = std::min<rlim_t>(64, original.rlim_max - 1);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);

  absl::StatusOr<uint64_t> raised = RaiseOpenFileLimit();
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_EQ(*raised, static_cast<uint64_t>(original.rlim_max));
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, original.rlim_max);
  EXPECT_EQ(now.rlim_max, original.rlim_max);  // never lowered

  absl::StatusOr<uint64_t> now_in_force = OpenFileLimit();
  ASSERT_TRUE(now_in_force.ok()) << now_in_force.status();
  EXPECT_EQ(*now_in_force, static_cast<uint64_t>(original.rlim_max));

  // At the hard limit already: nothing to do.
  raised = RaiseOpenFileLimit();
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_EQ(*raised, static_cast<uint64_t>(original.rlim_max));
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &original), 0);
}

}  // namespace
}  // namespace meridian
