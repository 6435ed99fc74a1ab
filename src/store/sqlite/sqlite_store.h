#pragma once

// The embedded MetadataStore: one SQLite database file in WAL mode with foreign keys on and
// synchronous=FULL (a committed transaction survives a crash), schema migrations recorded in
// schema_migrations. One connection, serialised by a mutex.

#include <sqlite3.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "store/metadata_store.h"
#include "store/deployment_store.h"
#include "store/security_store.h"

namespace meridian::store {

struct SqliteStoreOptions {
  std::string path;  // database file; ":memory:" for tests
};

class SqliteStore final : public MetadataStore, public SecurityStore, public DeploymentStore {
 public:
  // Opens (creating if needed) and migrates the database to the current schema.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const SqliteStoreOptions& options);
  ~SqliteStore() override;

  // The schema version after migration.
  int schema_version();

  absl::Status CreateModel(const ModelRecord& model) override;
  absl::StatusOr<ModelRecord> GetModel(absl::string_view name) override;
  absl::StatusOr<ModelPage> ListModels(const ListModelsOptions& options) override;
  absl::Status UpdateModel(const ModelRecord& model) override;
  absl::Status DeleteModel(absl::string_view name) override;
  absl::Status CreateVersion(const VersionRecord& version) override;
  absl::StatusOr<VersionRecord> GetVersion(absl::string_view model, absl::string_view version) override;
  absl::StatusOr<std::vector<VersionRecord>> ListVersions(absl::string_view model) override;
  absl::Status UpdateVersion(const VersionRecord& version) override;
  absl::Status DeleteVersion(absl::string_view model, absl::string_view version) override;
  absl::StatusOr<int64_t> CountArtifactUses(absl::string_view digest) override;
  absl::Status SetAlias(const AliasRecord& alias, absl::string_view reason) override;
  absl::StatusOr<AliasRecord> GetAlias(absl::string_view model, absl::string_view alias) override;
  absl::StatusOr<std::vector<AliasRecord>> ListAliases(absl::string_view model) override;
  absl::Status DeleteAlias(absl::string_view model, absl::string_view alias, absl::string_view actor,
                           absl::string_view reason, absl::Time time) override;
  absl::StatusOr<std::vector<AliasEvent>> AliasHistory(absl::string_view model,
                                                       absl::string_view alias) override;
  absl::Status AddVersionReference(absl::string_view model, absl::string_view version,
                                   absl::string_view holder) override;
  absl::Status RemoveVersionReference(absl::string_view model, absl::string_view version,
                                      absl::string_view holder) override;

  // SecurityStore (sqlite_security_store.cc).
  absl::Status CreateToken(const TokenRecord& token) override;
  absl::StatusOr<std::vector<TokenRecord>> ListTokens() override;
  absl::Status RevokeToken(absl::string_view id, absl::Time time) override;
  absl::Status PutRole(const RoleRecord& role) override;
  absl::Status DeleteRole(absl::string_view name) override;
  absl::StatusOr<std::vector<RoleRecord>> ListRoles() override;
  absl::Status PutRoleBinding(const RoleBindingRecord& binding) override;
  absl::Status DeleteRoleBinding(absl::string_view namespace_name, absl::string_view name) override;
  absl::StatusOr<std::vector<RoleBindingRecord>> ListRoleBindings() override;
  absl::Status AppendAudit(const std::vector<AuditRecord>& records) override;
  absl::StatusOr<std::vector<AuditRecord>> QueryAudit(const AuditQuery& query) override;

  // DeploymentStore.
  absl::StatusOr<DeploymentRecord> AppendDeploymentRevision(const DeploymentRevisionRecord& revision) override;
  absl::StatusOr<DeploymentRecord> GetDeployment(absl::string_view namespace_name, absl::string_view name) override;
  absl::StatusOr<std::vector<DeploymentRecord>> ListDeployments(absl::string_view namespace_name) override;
  absl::StatusOr<std::vector<DeploymentRevisionRecord>> ListDeploymentRevisions(absl::string_view namespace_name,
                                                                                absl::string_view name) override;
  absl::Status DeleteDeployment(absl::string_view namespace_name, absl::string_view name) override;
  absl::Status PutResourceQuota(const ResourceQuotaRecord& quota) override;
  absl::Status DeleteResourceQuota(absl::string_view namespace_name, absl::string_view name) override;
  absl::StatusOr<std::vector<ResourceQuotaRecord>> ListResourceQuotas() override;

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  absl::Status Migrate();
  absl::Status Exec(absl::string_view sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back when it fails.
  template <typename Body>
  absl::Status InTransaction(Body body) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<bool> ModelExists(absl::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<VersionRecord> GetVersionLocked(absl::string_view model, absl::string_view version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
};

template <typename Body>
absl::Status SqliteStore::InTransaction(Body body) {
  if (absl::Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  absl::Status status = body();
  if (status.ok()) status = Exec("COMMIT");
  if (!status.ok()) Exec("ROLLBACK").IgnoreError();
  return status;
}

}  // namespace meridian::store
