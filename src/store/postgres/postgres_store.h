#pragma once

// The MetadataStore for several platform replicas: PostgreSQL through libpqxx. Every method is
// one transaction; alias moves lock the alias row (SELECT ... FOR UPDATE) so that concurrent
// replicas record a consistent history. Migrations run under an advisory lock so that replicas
// starting together migrate once. One connection, serialised by a mutex, re-opened after a
// connection failure.

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "store/metadata_store.h"
#include "store/deployment_store.h"
#include "store/security_store.h"

namespace meridian::store {

struct PostgresStoreOptions {
  std::string url;  // libpq connection string, e.g. "postgresql://user@127.0.0.1:5432/meridian"
};

class PostgresStore final : public MetadataStore, public SecurityStore, public DeploymentStore {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(const PostgresStoreOptions& options);
  ~PostgresStore() override;

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

  class Transaction;
  struct Connection;  // wraps pqxx::connection, which is a typedef that cannot be declared here

 private:
  explicit PostgresStore(std::string url);
  // Runs `body(Transaction&)` in a transaction on a live connection; maps libpqxx errors.
  template <typename Body>
  auto InTransaction(Body body) -> decltype(body(std::declval<Transaction&>()));
  absl::Status Connect() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Migrate();

  const std::string url_;
  absl::Mutex mu_;
  std::unique_ptr<Connection> connection_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::store
