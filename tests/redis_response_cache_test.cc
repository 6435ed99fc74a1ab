// The Redis response cache against a real redis-server: store, expire, invalidate, share between
// two caches (two replicas), and Redis going away mid-run and coming back.

#include <atomic>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "serving/redis_response_cache.h"
#include "testing/redis_server.h"

namespace meridian {
namespace {

class RedisResponseCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    redis_ = std::move(*server);
  }
  store::RedisKeyValueOptions Options() {
    return {.port = redis_->port(),
            .retry_after = absl::Milliseconds(200),
            .on_error = [this] { ++errors_; },
            .on_availability = [this](bool available, const std::string& reason) {
              absl::MutexLock lock(&mutex_);
              changes_.push_back(available ? "back" : "down: " + reason);
            }};
  }
  std::vector<std::string> Changes() {
    absl::MutexLock lock(&mutex_);
    return changes_;
  }
  std::unique_ptr<testing::RedisServer> redis_;
  std::atomic<int> errors_{0};
  absl::Mutex mutex_;
  std::vector<std::string> changes_ ABSL_GUARDED_BY(mutex_);
};

TEST_F(RedisResponseCacheTest, StoresExpiresAndIsSharedBetweenReplicas) {
  serving::RedisResponseCache replica_a(Options());
  serving::RedisResponseCache replica_b(Options());
  EXPECT_FALSE(replica_a.Get("m/1.0.0/k").has_value());
  replica_a.Put("m/1.0.0/k", std::string("v\0w", 3), absl::Seconds(60));
  auto shared = replica_b.Get("m/1.0.0/k");
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(*shared, std::string("v\0w", 3));
  replica_a.Put("m/1.0.0/short", "s", absl::Milliseconds(50));
  absl::SleepFor(absl::Milliseconds(150));
  EXPECT_FALSE(replica_b.Get("m/1.0.0/short").has_value());
  EXPECT_EQ(errors_.load(), 0);
}

TEST_F(RedisResponseCacheTest, InvalidationDropsOnlyThatVersion) {
  serving::RedisResponseCache cache(Options());
  for (int i = 0; i < 2500; ++i) cache.Put("m/1.0.0/" + std::to_string(i), "x", absl::Seconds(60));
  cache.Put("m/1.0.1/a", "y", absl::Seconds(60));
  cache.Put("m*/1.0.0/a", "z", absl::Seconds(60));  // glob characters in a name are literal
  cache.Invalidate("m", "1.0.0");
  EXPECT_FALSE(cache.Get("m/1.0.0/7").has_value());
  EXPECT_FALSE(cache.Get("m/1.0.0/2499").has_value());
  EXPECT_TRUE(cache.Get("m/1.0.1/a").has_value());
  EXPECT_TRUE(cache.Get("m*/1.0.0/a").has_value());
}

TEST_F(RedisResponseCacheTest, RedisGoingAwayDegradesToMissesAndRecovers) {
  serving::RedisResponseCache cache(Options());
  cache.Put("m/1/k", "v", absl::Seconds(60));
  ASSERT_TRUE(cache.Get("m/1/k").has_value());
  redis_->Stop();
  const absl::Time start = absl::Now();
  EXPECT_FALSE(cache.Get("m/1/k").has_value());  // a miss, not an error
  cache.Put("m/1/k2", "v", absl::Seconds(60));   // a no-op
  EXPECT_FALSE(cache.Get("m/1/k2").has_value());
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));  // backs off instead of waiting on every call
  EXPECT_GE(errors_.load(), 1);
  EXPECT_FALSE(cache.available());
  ASSERT_EQ(Changes().size(), 1u);  // announced once, however many operations failed
  EXPECT_EQ(Changes()[0].rfind("down: ", 0), 0u) << Changes()[0];
  ASSERT_TRUE(redis_->Restart().ok());
  absl::SleepFor(absl::Milliseconds(250));  // past retry_after
  cache.Put("m/1/k3", "back", absl::Seconds(60));
  auto value = cache.Get("m/1/k3");
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(*value, "back");
  EXPECT_EQ(Changes().back(), "back");
  EXPECT_EQ(Changes().size(), 2u);
}

TEST(RedisUrlTest, ParsesAndRejects) {
  auto options = store::ParseRedisUrl("redis://cache.internal:6380");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->host, "cache.internal");
  EXPECT_EQ(options->port, 6380);
  EXPECT_EQ(store::ParseRedisUrl("redis://localhost")->port, 6379);
  EXPECT_FALSE(store::ParseRedisUrl("http://x:1").ok());
  EXPECT_FALSE(store::ParseRedisUrl("redis://x:99999").ok());
  EXPECT_FALSE(store::ParseRedisUrl("redis://:6379").ok());
}

}  // namespace
}  // namespace meridian
