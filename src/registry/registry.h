#pragma once

// The model registry: models, semantically versioned model versions with content-addressed
// artifacts, aliases with a recorded history, rollback. Business rules live here; durability in
// the MetadataStore and BlobStore it is given. Thread-safe.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/semver.h"
#include "registry/version_filter.h"
#include "store/blob_store.h"
#include "store/metadata_store.h"

namespace meridian::registry {

struct RegistryOptions {
  store::MetadataStore* metadata = nullptr;  // not owned
  store::BlobStore* blobs = nullptr;         // not owned
  Clock* clock = Clock::Real();
  // Checks a version's metadata (with its framework) beyond being a JSON object, when the version
  // is registered or its metadata replaced: the platform passes the serving settings' check, so
  // that a version that could never load is refused at push. Its error is the caller's 400. Null
  // checks nothing more.
  std::function<absl::Status(absl::string_view framework, absl::string_view metadata_json)> check_metadata;
  // Told after a write that may change what a model's references name (a version registered,
  // updated or deleted; an alias set, moved, rolled back or deleted; the model deleted), so that
  // what a server remembers about them is dropped at once. Null: nobody is told.
  std::function<void(absl::string_view model)> on_references_changed;
};

struct CreateModelRequest {
  std::string name;
  std::string namespace_name = "default";
  std::string description;
  store::Tags tags;
};

struct UpdateModelRequest {
  std::optional<std::string> description;
  std::optional<store::Tags> tags;
};

struct RegisterVersionRequest {
  std::string model;
  std::string version;  // empty: bump the highest existing version
  SemVer::Part bump = SemVer::Part::kPatch;
  std::string framework;
  std::string artifact_digest;  // a blob already in the BlobStore
  std::string metadata_json = "{}";
  store::Tags tags;
  store::Lineage lineage;
};

struct UpdateVersionRequest {
  std::optional<std::string> metadata_json;
  std::optional<store::Tags> tags;
  std::optional<store::VersionStatus> status;  // READY <-> ARCHIVED
};

enum class VersionOrder { kAscending, kDescending };

struct ListVersionsOptions {
  VersionOrder order = VersionOrder::kAscending;
  VersionFilter filter;
  int page_size = 1000;
  std::string page_token;  // opaque, from the previous page
};

struct VersionPage {
  std::vector<store::VersionRecord> versions;
  std::string next_page_token;  // empty on the last page
};

class Registry {
 public:
  static absl::StatusOr<std::unique_ptr<Registry>> Create(const RegistryOptions& options);

  absl::StatusOr<store::ModelRecord> CreateModel(const CreateModelRequest& request, absl::string_view actor);
  absl::StatusOr<store::ModelRecord> GetModel(absl::string_view name);
  absl::StatusOr<store::ModelPage> ListModels(const store::ListModelsOptions& options);
  absl::StatusOr<store::ModelRecord> UpdateModel(absl::string_view name, const UpdateModelRequest& request);
  absl::Status DeleteModel(absl::string_view name);

  // Registers a READY version whose artifact is already durable in the BlobStore. Version
  // numbers are immutable: registering an existing one fails with kAlreadyExists.
  absl::StatusOr<store::VersionRecord> RegisterVersion(const RegisterVersionRequest& request,
                                                       absl::string_view actor);
  // `ref` is a version, an alias, or "latest" (highest precedence READY release, pre-releases
  // excluded).
  absl::StatusOr<store::VersionRecord> GetVersion(absl::string_view model, absl::string_view ref);
  absl::StatusOr<std::vector<store::VersionRecord>> ListVersions(absl::string_view model, VersionOrder order);
  // Sorted by SemVer precedence, filtered, one page at a time.
  absl::StatusOr<VersionPage> ListVersions(absl::string_view model, const ListVersionsOptions& options);
  absl::StatusOr<store::VersionRecord> UpdateVersion(absl::string_view model, absl::string_view version,
                                                     const UpdateVersionRequest& request);
  // Deletes the version, and its artifact when no other version uses it.
  absl::Status DeleteVersion(absl::string_view model, absl::string_view version);

  // Marks a version as in use by `holder` (e.g. "deployment/default/mlp"): DeleteVersion refuses
  // it, naming the holder, until it is released. Both idempotent.
  absl::Status HoldVersion(absl::string_view model, absl::string_view version, absl::string_view holder);
  absl::Status ReleaseVersion(absl::string_view model, absl::string_view version, absl::string_view holder);

  absl::StatusOr<store::AliasRecord> SetAlias(absl::string_view model, absl::string_view alias,
                                              absl::string_view version_ref, absl::string_view actor,
                                              absl::string_view reason);
  absl::StatusOr<store::AliasRecord> GetAlias(absl::string_view model, absl::string_view alias);
  absl::StatusOr<std::vector<store::AliasRecord>> ListAliases(absl::string_view model);
  absl::Status DeleteAlias(absl::string_view model, absl::string_view alias, absl::string_view actor,
                           absl::string_view reason);
  absl::StatusOr<std::vector<store::AliasEvent>> AliasHistory(absl::string_view model, absl::string_view alias);
  // Points the alias back where it was before its last move (kubectl rollout undo semantics:
  // two rollbacks in a row return to where it started).
  absl::StatusOr<store::AliasRecord> Rollback(absl::string_view model, absl::string_view alias,
                                              absl::string_view actor, absl::string_view reason);

  // Deletes artifacts that no version uses and that are older than `min_age` (an upload waiting
  // for its registration is young). Returns how many were deleted.
  absl::StatusOr<int> CollectUnusedArtifacts(absl::Duration min_age);

  store::BlobStore& blobs() { return *options_.blobs; }

 private:
  explicit Registry(const RegistryOptions& options) : options_(options) {}
  absl::StatusOr<store::VersionRecord> Latest(absl::string_view model);
  absl::Status CheckMetadata(absl::string_view framework, absl::string_view metadata_json) const;
  // Passes `written` through, telling on_references_changed about the model when it is OK.
  absl::Status Changed(absl::string_view model, absl::Status written) const;
  RegistryOptions options_;
};

}  // namespace meridian::registry
