#include "store/redis/redis_key_value.h"

#include <hiredis/hiredis.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/logging.h"

namespace meridian::store {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;


// Glob-escapes a key prefix for SCAN MATCH.
std::string GlobEscape(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace

absl::StatusOr<RedisKeyValueOptions> ParseRedisUrl(absl::string_view url) {
  RedisKeyValueOptions options;
  if (!absl::ConsumePrefix(&url, "redis://")) return absl::InvalidArgumentError("must look like redis://host:port");
  absl::ConsumeSuffix(&url, "/");
  const size_t colon = url.rfind(':');
  options.host = std::string(colon == absl::string_view::npos ? url : url.substr(0, colon));
  if (colon != absl::string_view::npos && (!absl::SimpleAtoi(url.substr(colon + 1), &options.port) ||
                                          options.port < 1 || options.port > 65535)) {
    return absl::InvalidArgumentError("the port must be a number within 1..65535");
  }
  if (options.host.empty()) return absl::InvalidArgumentError("must name a host: redis://host:port");
  return options;
}

RedisKeyValue::RedisKeyValue(const RedisKeyValueOptions& options) : options_(options) {}

RedisKeyValue::~RedisKeyValue() {
  absl::MutexLock lock(&mutex_);
  for (redisContext* context : idle_) redisFree(context);
}

bool RedisKeyValue::available() const {
  absl::MutexLock lock(&mutex_);
  return absl::Now() >= down_until_;
}

redisContext* RedisKeyValue::Acquire() {
  {
    absl::MutexLock lock(&mutex_);
    if (absl::Now() < down_until_) return nullptr;
    if (!idle_.empty()) {
      redisContext* context = idle_.back();
      idle_.pop_back();
      return context;
    }
  }
  const timeval timeout = absl::ToTimeval(options_.timeout);
  redisContext* context = redisConnectWithTimeout(options_.host.c_str(), options_.port, timeout);
  if (context == nullptr || context->err != 0) {
    Fail(context, context == nullptr ? "cannot allocate a connection" : context->errstr);
    return nullptr;
  }
  redisSetTimeout(context, timeout);
  return context;
}

void RedisKeyValue::Release(redisContext* context) {
  bool back = false;
  {
    absl::MutexLock lock(&mutex_);
    if (warned_) {
      log::Info("Redis is back", {{"host", options_.host}, {"port", options_.port}});
      warned_ = false;
      back = true;
    }
    if (idle_.size() < options_.max_connections) {
      idle_.push_back(context);
    } else {
      redisFree(context);
    }
  }
  if (back && options_.on_availability) options_.on_availability(true, "");
}

void RedisKeyValue::Fail(redisContext* context, absl::string_view what) {
  const std::string reason(what);
  if (context != nullptr) redisFree(context);
  bool warn = false;
  {
    absl::MutexLock lock(&mutex_);
    down_until_ = absl::Now() + options_.retry_after;
    warn = !warned_;
    warned_ = true;
  }
  if (warn) {
    log::Warn("Redis is unavailable; going on without it",
              {{"host", options_.host}, {"port", options_.port}, {"error", reason},
               {"retry_in", absl::FormatDuration(options_.retry_after)}});
    if (options_.on_availability) options_.on_availability(false, reason);
  }
  if (options_.on_error) options_.on_error();
}

std::optional<std::string> RedisKeyValue::Get(const std::string& key) {
  redisContext* context = Acquire();
  if (context == nullptr) return std::nullopt;
  const std::string& full = key;
  Reply reply(static_cast<redisReply*>(redisCommand(context, "GET %b", full.data(), full.size())));
  if (!reply || context->err != 0) {
    Fail(context, context->err != 0 ? context->errstr : "no reply");
    return std::nullopt;
  }
  std::optional<std::string> value;
  if (reply->type == REDIS_REPLY_STRING) value = std::string(reply->str, reply->len);
  Release(context);
  return value;
}

void RedisKeyValue::Set(const std::string& key, const std::string& value, absl::Duration ttl) {
  redisContext* context = Acquire();
  if (context == nullptr) return;
  const std::string& full = key;
  const long long millis = std::max<int64_t>(1, absl::ToInt64Milliseconds(ttl));
  Reply reply(static_cast<redisReply*>(
      redisCommand(context, "SET %b %b PX %lld", full.data(), full.size(), value.data(), value.size(), millis)));
  if (!reply || context->err != 0) {
    Fail(context, context->err != 0 ? context->errstr : "no reply");
    return;
  }
  Release(context);
}

void RedisKeyValue::DeletePrefix(const std::string& prefix) {
  redisContext* context = Acquire();
  if (context == nullptr) return;
  const std::string pattern = GlobEscape(prefix) + "*";
  std::string cursor = "0";
  do {
    Reply reply(static_cast<redisReply*>(
        redisCommand(context, "SCAN %s MATCH %b COUNT 1000", cursor.c_str(), pattern.data(), pattern.size())));
    if (!reply || context->err != 0 || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
      Fail(context, context->err != 0 ? context->errstr : "unexpected SCAN reply");
      return;
    }
    cursor.assign(reply->element[0]->str, reply->element[0]->len);
    const redisReply* keys = reply->element[1];
    for (size_t i = 0; i < keys->elements; ++i) {
      Reply deleted(static_cast<redisReply*>(
          redisCommand(context, "UNLINK %b", keys->element[i]->str, static_cast<size_t>(keys->element[i]->len))));
      if (!deleted || context->err != 0) {
        Fail(context, context->err != 0 ? context->errstr : "no reply");
        return;
      }
    }
  } while (cursor != "0");
  Release(context);
}

}  // namespace meridian::store
