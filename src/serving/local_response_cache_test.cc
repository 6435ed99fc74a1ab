#include "serving/local_response_cache.h"

#include "gtest/gtest.h"
#include "testing/fake_clock.h"

namespace meridian::serving {
namespace {

InferenceRequest CacheableRequest(float value, Parameters parameters = {}) {
  InferenceRequest request{.model = "m", .parameters = std::move(parameters)};
  request.inputs.push_back(Tensor::Owned("x", DataType::kFp32, {1}, std::string(reinterpret_cast<char*>(&value), 4)));
  return request;
}

TEST(ResponseCacheKeyTest, DependsOnWhatChangesTheAnswerOnly) {
  const std::string key = ResponseCacheKey(CacheableRequest(1), "1.0.0");
  EXPECT_EQ(key.rfind("m/1.0.0/", 0), 0u);
  EXPECT_EQ(key, ResponseCacheKey(CacheableRequest(1), "1.0.0"));
  EXPECT_NE(key, ResponseCacheKey(CacheableRequest(2), "1.0.0"));
  EXPECT_NE(key, ResponseCacheKey(CacheableRequest(1), "1.0.1"));
  EXPECT_NE(key, ResponseCacheKey(CacheableRequest(1, {{"temperature", 0.5}}), "1.0.0"));
  EXPECT_EQ(key, ResponseCacheKey(CacheableRequest(1, {{"priority", int64_t{2}}, {"timeout", int64_t{100}}}), "1.0.0"));
  InferenceRequest subset = CacheableRequest(1);
  subset.outputs.push_back({"y"});
  EXPECT_NE(key, ResponseCacheKey(subset, "1.0.0"));
}

TEST(ResponseCacheKeyTest, OutputsRoundTripAndCorruptionIsDetected) {
  InferenceResponse response{.model = "m", .version = "1", .id = "x"};
  response.outputs.push_back(Tensor::Owned("y", DataType::kInt64, {2}, std::string(16, '\x01')));
  std::string bytes;
  AppendBytesElement(&bytes, "hello");
  response.outputs.push_back(Tensor::Owned("s", DataType::kBytes, {1}, bytes));
  const std::string serialized = SerializeOutputs(response);
  auto outputs = DeserializeOutputs(serialized);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(outputs->size(), 2u);
  EXPECT_EQ((*outputs)[0].shape(), (Shape{2}));
  EXPECT_EQ((*outputs)[1].bytes(), bytes);
  EXPECT_EQ(DeserializeOutputs(serialized.substr(0, serialized.size() - 3)).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(DeserializeOutputs("garbage").ok());
}

TEST(LocalResponseCacheTest, EvictsLeastRecentlyUsedWithinItsByteBound) {
  testing::FakeClock clock;
  LocalResponseCache cache(300, &clock);
  cache.Put("m/1/a", std::string(90, 'a'), absl::Minutes(1));
  cache.Put("m/1/b", std::string(90, 'b'), absl::Minutes(1));
  cache.Put("m/1/c", std::string(90, 'c'), absl::Minutes(1));
  EXPECT_TRUE(cache.Get("m/1/a").has_value());  // a is now the most recently used
  cache.Put("m/1/d", std::string(90, 'd'), absl::Minutes(1));
  EXPECT_FALSE(cache.Get("m/1/b").has_value());
  EXPECT_TRUE(cache.Get("m/1/a").has_value());
  EXPECT_TRUE(cache.Get("m/1/c").has_value());
  EXPECT_TRUE(cache.Get("m/1/d").has_value());
  EXPECT_LE(cache.bytes(), 300u);
  cache.Put("m/1/huge", std::string(400, 'h'), absl::Minutes(1));  // larger than the cache: not kept
  EXPECT_FALSE(cache.Get("m/1/huge").has_value());
  EXPECT_TRUE(cache.Get("m/1/a").has_value());
}

TEST(LocalResponseCacheTest, EntriesExpireAndInvalidationDropsAVersion) {
  testing::FakeClock clock;
  LocalResponseCache cache(1 << 20, &clock);
  cache.Put("m/1.0.0/a", "x", absl::Seconds(10));
  cache.Put("m/1.0.0/b", "y", absl::Seconds(100));
  cache.Put("m/1.0.1/a", "z", absl::Seconds(100));
  cache.Put("m2/1.0.0/a", "w", absl::Seconds(100));
  clock.Advance(absl::Seconds(11));
  EXPECT_FALSE(cache.Get("m/1.0.0/a").has_value());
  EXPECT_EQ(*cache.Get("m/1.0.0/b"), "y");
  cache.Invalidate("m", "1.0.0");
  EXPECT_FALSE(cache.Get("m/1.0.0/b").has_value());
  EXPECT_TRUE(cache.Get("m/1.0.1/a").has_value());
  EXPECT_TRUE(cache.Get("m2/1.0.0/a").has_value());
}

TEST(ResponseCacheSettingsTest, ReadsMetadata) {
  auto settings = ResponseCacheFromMetadata(R"({"responseCache":{"enabled":true,"ttl":"30s"}})");
  ASSERT_TRUE(settings.ok());
  EXPECT_TRUE(settings->enabled);
  EXPECT_EQ(settings->ttl, absl::Seconds(30));
  EXPECT_FALSE(ResponseCacheFromMetadata("{}")->enabled);
  EXPECT_FALSE(ResponseCacheFromMetadata(R"({"responseCache":{"ttl":"-1s"}})").ok());
  EXPECT_FALSE(ResponseCacheFromMetadata(R"({"responseCache":{"size":1}})").ok());
}

}  // namespace
}  // namespace meridian::serving
