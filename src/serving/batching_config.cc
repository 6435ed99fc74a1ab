#include "serving/batching_config.h"
#include "common/json.h"

#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"

namespace meridian::serving {
namespace {

absl::Status FieldError(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("metadata batching.", field, " ", what));
}

absl::StatusOr<int64_t> PositiveInt(const rapidjson::Value& v, absl::string_view field) {
  if (!v.IsInt64() || v.GetInt64() < 1) return FieldError(field, "must be an integer >= 1");
  return v.GetInt64();
}

absl::StatusOr<absl::Duration> Duration(const rapidjson::Value& v, absl::string_view field) {
  absl::Duration d;
  if (!v.IsString() || !absl::ParseDuration(v.GetString(), &d) || d < absl::ZeroDuration()) {
    return FieldError(field, "must be a duration such as \"500us\", \"2ms\" or \"1s\"");
  }
  return d;
}

}  // namespace

absl::Status BatchingConfig::Validate() const {
  if (max_batch_size < 1) return absl::InvalidArgumentError("maxBatchSize must be >= 1");
  for (int64_t size : preferred_batch_sizes) {
    if (size < 1 || size > max_batch_size) {
      return absl::InvalidArgumentError(absl::StrCat("preferredBatchSizes entry ", size, " must be within 1..maxBatchSize (",
                                                     max_batch_size, ")"));
    }
  }
  if (priority_levels < 1) return absl::InvalidArgumentError("priorityLevels must be >= 1");
  if (default_priority < 1 || default_priority > priority_levels) {
    return absl::InvalidArgumentError(absl::StrCat("defaultPriority must be within 1..priorityLevels (", priority_levels, ")"));
  }
  if (max_queue_size < 1) return absl::InvalidArgumentError("maxQueueSize must be >= 1");
  if (instances < 1 || instances > 64) return absl::InvalidArgumentError("instances must be within 1..64");
  return absl::OkStatus();
}

absl::StatusOr<BatchingConfig> BatchingFromMetadata(absl::string_view metadata_json, const BatchingConfig& defaults) {
  BatchingConfig config = defaults;
  rapidjson::Document doc;
  const bool parse_failed = !ParseUntrustedJson(metadata_json, doc).ok();
  if (parse_failed || !doc.IsObject()) return config;
  auto batching = doc.FindMember("batching");
  if (batching == doc.MemberEnd()) return config;
  if (!batching->value.IsObject()) return absl::InvalidArgumentError("metadata batching must be an object");
  for (const auto& member : batching->value.GetObject()) {
    const std::string field = member.name.GetString();
    const rapidjson::Value& v = member.value;
    if (field == "maxBatchSize") {
      auto n = PositiveInt(v, field);
      if (!n.ok()) return n.status();
      config.max_batch_size = *n;
    } else if (field == "preferredBatchSizes") {
      if (!v.IsArray()) return FieldError(field, "must be an array of integers");
      config.preferred_batch_sizes.clear();
      for (const auto& item : v.GetArray()) {
        auto n = PositiveInt(item, field);
        if (!n.ok()) return n.status();
        config.preferred_batch_sizes.push_back(*n);
      }
    } else if (field == "maxQueueDelay") {
      auto d = Duration(v, field);
      if (!d.ok()) return d.status();
      config.max_queue_delay = *d;
    } else if (field == "maxQueueSize") {
      auto n = PositiveInt(v, field);
      if (!n.ok()) return n.status();
      config.max_queue_size = *n;
    } else if (field == "priorityLevels") {
      auto n = PositiveInt(v, field);
      if (!n.ok()) return n.status();
      config.priority_levels = static_cast<int>(std::min<int64_t>(*n, 16));
    } else if (field == "defaultPriority") {
      auto n = PositiveInt(v, field);
      if (!n.ok()) return n.status();
      config.default_priority = static_cast<int>(std::min<int64_t>(*n, 16));
    } else if (field == "defaultTimeout") {
      auto d = Duration(v, field);
      if (!d.ok()) return d.status();
      config.default_timeout = *d;
    } else if (field == "preserveOrdering") {
      if (!v.IsBool()) return FieldError(field, "must be true or false");
      config.preserve_ordering = v.GetBool();
    } else if (field == "instances") {
      auto n = PositiveInt(v, field);
      if (!n.ok()) return n.status();
      config.instances = static_cast<int>(std::min<int64_t>(*n, 64));
    } else {
      return FieldError(field, "is not a batching setting (maxBatchSize, preferredBatchSizes, maxQueueDelay, "
                               "maxQueueSize, priorityLevels, defaultPriority, defaultTimeout, preserveOrdering, "
                               "instances)");
    }
  }
  if (absl::Status valid = config.Validate(); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("metadata batching: ", valid.message()));
  }
  return config;
}

}  // namespace meridian::serving
