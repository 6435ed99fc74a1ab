#pragma once

// Answers remembered for identical requests, opt-in per model version (metadata
// {"responseCache": {"enabled": true, "ttl": "60s"}}). The key is the model, the version, and a
// SHA-256 of the input tensors (names, datatypes, shapes, bytes), the requested outputs and the
// request parameters that can change an answer (not "priority" or "timeout"). Keys name a
// concrete version, so moving an alias can never serve another version's answer; unloading a
// version invalidates its entries. Implementations never fail a request: a cache that breaks
// degrades to misses. Thread-safe.

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "serving/inference.h"

namespace meridian::serving {

struct ResponseCacheSettings {
  bool enabled = false;
  absl::Duration ttl = absl::Minutes(10);
};

// Reads the version metadata's "responseCache" object; errors name the field.
absl::StatusOr<ResponseCacheSettings> ResponseCacheFromMetadata(absl::string_view metadata_json);

class ResponseCache {
 public:
  virtual ~ResponseCache() = default;
  virtual std::string name() const = 0;  // "local" or "redis", for metrics and logs
  virtual std::optional<std::string> Get(const std::string& key) = 0;
  virtual void Put(const std::string& key, std::string value, absl::Duration ttl) = 0;
  // Drops every entry of the model version.
  virtual void Invalidate(absl::string_view model, absl::string_view version) = 0;
};

// "<model>/<version>/<hex sha-256>"; model and version lead so that invalidation can match them.
std::string ResponseCacheKey(const InferenceRequest& request, absl::string_view version);

// The outputs of a response, serialized for the cache, and back. The id is not stored: every
// request gets its own.
std::string SerializeOutputs(const InferenceResponse& response);
absl::StatusOr<std::vector<Tensor>> DeserializeOutputs(absl::string_view bytes);

}  // namespace meridian::serving
