// SqliteStore's DeploymentStore part: deployments and their revision history.

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/sqlite/sqlite_statement.h"
#include "store/sqlite/sqlite_store.h"

namespace meridian::store {
namespace {

using sqlite::Statement;

constexpr char kRevisionColumns[] = "r.namespace, r.name, r.revision, r.spec, r.spec_hash, r.actor, r.reason, r.created_at";

DeploymentRevisionRecord ReadRevision(Statement& s) {
  return {s.Text(0), s.Text(1), s.Int(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6), absl::FromUnixMicros(s.Int(7))};
}

// A deployment row joined with its current revision: the revision's columns, then created_at.
std::string DeploymentQuery(absl::string_view where) {
  return absl::StrCat("SELECT ", kRevisionColumns, ", d.created_at FROM deployments d JOIN deployment_revisions r ",
                      "ON r.namespace = d.namespace AND r.name = d.name AND r.revision = d.current_revision ", where,
                      " ORDER BY d.namespace, d.name");
}

DeploymentRecord ReadDeployment(Statement& s) {
  DeploymentRevisionRecord current = ReadRevision(s);
  return {current.namespace_name, current.name, current, absl::FromUnixMicros(s.Int(8))};
}

absl::Status DeploymentNotFound(absl::string_view namespace_name, absl::string_view name) {
  return absl::NotFoundError(absl::StrCat("deployment \"", name, "\" not found in namespace \"", namespace_name, "\""));
}

}  // namespace

absl::StatusOr<DeploymentRecord> SqliteStore::AppendDeploymentRevision(const DeploymentRevisionRecord& revision) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(InTransaction([&]() -> absl::Status {
    RETURN_IF_ERROR(Statement(db_,
                              "INSERT INTO deployments (namespace, name, current_revision, created_at) VALUES (?, ?, 0, ?) "
                              "ON CONFLICT (namespace, name) DO NOTHING")
                        .Bind(1, revision.namespace_name).Bind(2, revision.name)
                        .Bind(3, absl::ToUnixMicros(revision.created_at)).Run());
    Statement last(db_, "SELECT COALESCE(MAX(revision), 0) FROM deployment_revisions WHERE namespace = ? AND name = ?");
    last.Bind(1, revision.namespace_name).Bind(2, revision.name);
    const int64_t number = last.Step() ? last.Int(0) + 1 : 1;
    RETURN_IF_ERROR(last.status());
    RETURN_IF_ERROR(Statement(db_,
                              "INSERT INTO deployment_revisions (namespace, name, revision, spec, spec_hash, actor, "
                              "reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                        .Bind(1, revision.namespace_name).Bind(2, revision.name).Bind(3, number)
                        .Bind(4, revision.spec_json).Bind(5, revision.spec_hash).Bind(6, revision.actor)
                        .Bind(7, revision.reason).Bind(8, absl::ToUnixMicros(revision.created_at)).Run());
    return Statement(db_, "UPDATE deployments SET current_revision = ? WHERE namespace = ? AND name = ?")
        .Bind(1, number).Bind(2, revision.namespace_name).Bind(3, revision.name).Run();
  }));
  Statement s(db_, DeploymentQuery("WHERE d.namespace = ? AND d.name = ?"));
  s.Bind(1, revision.namespace_name).Bind(2, revision.name);
  if (!s.Step()) {
    RETURN_IF_ERROR(s.status());
    return DeploymentNotFound(revision.namespace_name, revision.name);
  }
  return ReadDeployment(s);
}

absl::StatusOr<DeploymentRecord> SqliteStore::GetDeployment(absl::string_view namespace_name, absl::string_view name) {
  absl::MutexLock lock(&mu_);
  Statement s(db_, DeploymentQuery("WHERE d.namespace = ? AND d.name = ?"));
  s.Bind(1, namespace_name).Bind(2, name);
  if (!s.Step()) {
    RETURN_IF_ERROR(s.status());
    return DeploymentNotFound(namespace_name, name);
  }
  return ReadDeployment(s);
}

absl::StatusOr<std::vector<DeploymentRecord>> SqliteStore::ListDeployments(absl::string_view namespace_name) {
  absl::MutexLock lock(&mu_);
  Statement s(db_, DeploymentQuery("WHERE (? = '' OR d.namespace = ?)"));
  s.Bind(1, namespace_name).Bind(2, namespace_name);
  std::vector<DeploymentRecord> out;
  while (s.Step()) out.push_back(ReadDeployment(s));
  RETURN_IF_ERROR(s.status());
  return out;
}

absl::StatusOr<std::vector<DeploymentRevisionRecord>> SqliteStore::ListDeploymentRevisions(
    absl::string_view namespace_name, absl::string_view name) {
  absl::MutexLock lock(&mu_);
  Statement s(db_, absl::StrCat("SELECT ", kRevisionColumns,
                                " FROM deployment_revisions r WHERE r.namespace = ? AND r.name = ? ORDER BY r.revision"));
  s.Bind(1, namespace_name).Bind(2, name);
  std::vector<DeploymentRevisionRecord> out;
  while (s.Step()) out.push_back(ReadRevision(s));
  RETURN_IF_ERROR(s.status());
  if (out.empty()) return DeploymentNotFound(namespace_name, name);
  return out;
}

absl::Status SqliteStore::DeleteDeployment(absl::string_view namespace_name, absl::string_view name) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Statement(db_, "DELETE FROM deployments WHERE namespace = ? AND name = ?")
                      .Bind(1, namespace_name).Bind(2, name).Run());
  if (sqlite3_changes(db_) == 0) return DeploymentNotFound(namespace_name, name);
  return absl::OkStatus();
}

absl::Status SqliteStore::PutResourceQuota(const ResourceQuotaRecord& q) {
  absl::MutexLock lock(&mu_);
  return Statement(db_,
                   "INSERT INTO resource_quotas (namespace, name, hard, updated_at) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (namespace, name) DO UPDATE SET hard = excluded.hard, updated_at = excluded.updated_at")
      .Bind(1, q.namespace_name).Bind(2, q.name).Bind(3, q.hard_json).Bind(4, absl::ToUnixMicros(q.updated_at)).Run();
}

absl::Status SqliteStore::DeleteResourceQuota(absl::string_view namespace_name, absl::string_view name) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Statement(db_, "DELETE FROM resource_quotas WHERE namespace = ? AND name = ?")
                      .Bind(1, namespace_name).Bind(2, name).Run());
  if (sqlite3_changes(db_) == 0) {
    return absl::NotFoundError(
        absl::StrCat("resource quota \"", name, "\" not found in namespace \"", namespace_name, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ResourceQuotaRecord>> SqliteStore::ListResourceQuotas() {
  absl::MutexLock lock(&mu_);
  Statement s(db_, "SELECT namespace, name, hard, updated_at FROM resource_quotas ORDER BY namespace, name");
  std::vector<ResourceQuotaRecord> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1), s.Text(2), absl::FromUnixMicros(s.Int(3))});
  RETURN_IF_ERROR(s.status());
  return out;
}

}  // namespace meridian::store
