#include "auth/failed_auth_limiter.h"

#include "gtest/gtest.h"

namespace meridian::auth {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST(FailedAuthLimiterTest, LocksAnAddressOutAfterTooManyFailuresUntilTheWindowPasses) {
  FailedAuthLimiter limiter({.max_failures = 3, .window = absl::Minutes(1)});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.Wait("10.0.0.1", "", kT0 + absl::Seconds(i)), absl::ZeroDuration());
    limiter.RecordFailure("10.0.0.1", kT0 + absl::Seconds(i));
  }
  // The oldest counted failure (t0) leaves the window at t0 + 60 s.
  EXPECT_EQ(limiter.Wait("10.0.0.1", "", kT0 + absl::Seconds(10)), absl::Seconds(50));
  EXPECT_EQ(limiter.Wait("10.0.0.2", "", kT0 + absl::Seconds(10)), absl::ZeroDuration()) << "other addresses";
  EXPECT_EQ(limiter.Wait("10.0.0.1", "", kT0 + absl::Seconds(60)), absl::ZeroDuration());
}

TEST(FailedAuthLimiterTest, ATokenThatSucceededFromTheAddressIsNeverHeld) {
  FailedAuthLimiter limiter({.max_failures = 2, .window = absl::Minutes(1)});
  limiter.RecordSuccess("10.0.0.1", "goodtoken123", kT0);
  limiter.RecordFailure("10.0.0.1", kT0);
  limiter.RecordFailure("10.0.0.1", kT0);
  EXPECT_GT(limiter.Wait("10.0.0.1", "", kT0), absl::ZeroDuration());
  EXPECT_GT(limiter.Wait("10.0.0.1", "guessedtoken", kT0), absl::ZeroDuration());
  EXPECT_EQ(limiter.Wait("10.0.0.1", "goodtoken123", kT0), absl::ZeroDuration());
}

TEST(FailedAuthLimiterTest, TracksABoundedNumberOfAddresses) {
  FailedAuthLimiter limiter({.max_failures = 1, .window = absl::Minutes(1), .max_clients = 2});
  limiter.RecordFailure("a", kT0);
  limiter.RecordFailure("b", kT0 + absl::Seconds(1));
  limiter.RecordFailure("c", kT0 + absl::Seconds(2));  // evicts "a", the stalest
  EXPECT_EQ(limiter.Wait("a", "", kT0 + absl::Seconds(3)), absl::ZeroDuration());
  EXPECT_GT(limiter.Wait("b", "", kT0 + absl::Seconds(3)), absl::ZeroDuration());
  EXPECT_GT(limiter.Wait("c", "", kT0 + absl::Seconds(3)), absl::ZeroDuration());
}

}  // namespace
}  // namespace meridian::auth
