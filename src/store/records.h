#pragma once

// The registry's records as the MetadataStore keeps them. Plain data: validation and business
// rules live in registry/; the store enforces only integrity (uniqueness, references).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace meridian::store {

using Tags = std::map<std::string, std::string>;

struct ModelRecord {
  std::string name;  // unique
  std::string namespace_name = "default";
  std::string description;
  Tags tags;
  std::string owner;
  absl::Time created_at;
  absl::Time updated_at;
};

enum class VersionStatus { kPending, kReady, kFailed, kArchived };
absl::string_view VersionStatusName(VersionStatus status);  // "PENDING", ...
absl::StatusOr<VersionStatus> ParseVersionStatus(absl::string_view name);

struct Lineage {
  std::string source_uri;
  std::string parent_version;
  std::string run_id;
};

struct VersionRecord {
  std::string model;
  std::string version;    // canonical SemVer text; unique per model
  std::string framework;  // torchscript | onnx | xgboost
  std::string artifact_digest;  // "sha256:<64 hex>"
  uint64_t artifact_size = 0;
  std::string metadata_json = "{}";  // free JSON object
  Tags tags;
  Lineage lineage;
  std::string created_by;
  absl::Time created_at;
  VersionStatus status = VersionStatus::kReady;
};

struct AliasRecord {
  std::string model;
  std::string alias;
  std::string version;
  std::string updated_by;
  absl::Time updated_at;
};

// One move of an alias. `version` empty: the alias was deleted. `previous_version` empty: it
// did not exist before.
struct AliasEvent {
  int64_t id = 0;
  std::string model;
  std::string alias;
  std::string previous_version;
  std::string version;
  std::string actor;
  std::string reason;
  absl::Time time;
};

struct ListModelsOptions {
  std::string name_prefix;
  std::optional<std::pair<std::string, std::string>> tag;  // key = value
  int page_size = 100;
  std::string page_token;  // opaque, from the previous page
};

struct ModelPage {
  std::vector<ModelRecord> models;
  std::string next_page_token;  // empty on the last page
};

}  // namespace meridian::store
