#pragma once

// The response cache in Redis, shared by every replica that points at the same server: entries
// expire in Redis itself, and invalidating a version deletes its keys. A Redis that is down
// degrades to misses (store/redis/redis_key_value.h), never to errors.

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

#include "serving/response_cache.h"
#include "store/redis/redis_key_value.h"

namespace meridian::serving {

class RedisResponseCache final : public ResponseCache {
 public:
  explicit RedisResponseCache(const store::RedisKeyValueOptions& options, std::string key_prefix = "meridian:cache:")
      : redis_(options), key_prefix_(std::move(key_prefix)) {}

  std::string name() const override { return "redis"; }
  std::optional<std::string> Get(const std::string& key) override { return redis_.Get(key_prefix_ + key); }
  void Put(const std::string& key, std::string value, absl::Duration ttl) override {
    redis_.Set(key_prefix_ + key, value, ttl);
  }
  void Invalidate(absl::string_view model, absl::string_view version) override {
    redis_.DeletePrefix(absl::StrCat(key_prefix_, model, "/", version, "/"));
  }
  bool available() const { return redis_.available(); }

 private:
  store::RedisKeyValue redis_;
  const std::string key_prefix_;
};

}  // namespace meridian::serving
