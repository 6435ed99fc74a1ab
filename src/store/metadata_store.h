#pragma once

// Durable metadata of the registry. Two implementations pass the same test suite
// (metadata_store_test_suite.h): SQLite, the embedded default, and PostgreSQL for several
// platform replicas. Every method is one transaction and thread-safe.
//
// Errors: kNotFound for a missing model/version/alias, kAlreadyExists for a duplicate,
// kFailedPrecondition when a reference forbids the change (the message names the holder),
// kUnavailable/kInternal for storage failures.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "store/records.h"

namespace meridian::store {

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  virtual absl::Status CreateModel(const ModelRecord& model) = 0;
  virtual absl::StatusOr<ModelRecord> GetModel(absl::string_view name) = 0;
  virtual absl::StatusOr<ModelPage> ListModels(const ListModelsOptions& options) = 0;
  // Replaces description, tags and updated_at.
  virtual absl::Status UpdateModel(const ModelRecord& model) = 0;
  // Fails with kFailedPrecondition while the model has versions.
  virtual absl::Status DeleteModel(absl::string_view name) = 0;

  // The model must exist; (model, version) must be new.
  virtual absl::Status CreateVersion(const VersionRecord& version) = 0;
  virtual absl::StatusOr<VersionRecord> GetVersion(absl::string_view model,
                                                   absl::string_view version) = 0;
  // All versions of a model, in no particular order (precedence is the registry's business).
  virtual absl::StatusOr<std::vector<VersionRecord>> ListVersions(absl::string_view model) = 0;
  // Replaces the mutable fields: metadata, tags, status.
  virtual absl::Status UpdateVersion(const VersionRecord& version) = 0;
  // Fails with kFailedPrecondition while an alias points at it or a holder references it.
  virtual absl::Status DeleteVersion(absl::string_view model, absl::string_view version) = 0;
  // How many versions (of any model) use this artifact; zero means the blob may be collected.
  virtual absl::StatusOr<int64_t> CountArtifactUses(absl::string_view digest) = 0;

  // Points the alias at an existing version and records the move in the alias history, in one
  // transaction.
  virtual absl::Status SetAlias(const AliasRecord& alias, absl::string_view reason) = 0;
  virtual absl::StatusOr<AliasRecord> GetAlias(absl::string_view model, absl::string_view alias) = 0;
  virtual absl::StatusOr<std::vector<AliasRecord>> ListAliases(absl::string_view model) = 0;
  virtual absl::Status DeleteAlias(absl::string_view model, absl::string_view alias,
                                   absl::string_view actor, absl::string_view reason,
                                   absl::Time time) = 0;
  // Oldest first.
  virtual absl::StatusOr<std::vector<AliasEvent>> AliasHistory(absl::string_view model,
                                                               absl::string_view alias) = 0;

  // References from other parts of the platform (a deployment using a version). A referenced
  // version cannot be deleted.
  virtual absl::Status AddVersionReference(absl::string_view model, absl::string_view version,
                                           absl::string_view holder) = 0;
  virtual absl::Status RemoveVersionReference(absl::string_view model, absl::string_view version,
                                              absl::string_view holder) = 0;
};

}  // namespace meridian::store
