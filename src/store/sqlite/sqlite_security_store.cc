// SqliteStore's SecurityStore half: tokens, roles, bindings and the append-only audit log.

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/sqlite/sqlite_statement.h"
#include "store/sqlite/sqlite_store.h"

namespace meridian::store {
namespace {

using sqlite::Statement;

// Times that may be "never" (expiry, revocation) are stored as 0.
int64_t MicrosOrZero(absl::Time t) { return t == absl::InfiniteFuture() ? 0 : absl::ToUnixMicros(t); }
absl::Time TimeOrNever(int64_t us) { return us == 0 ? absl::InfiniteFuture() : absl::FromUnixMicros(us); }

constexpr char kTokenColumns[] =
    "id, secret_hash, subject_kind, subject, description, created_by, created_at, expires_at, revoked_at";
constexpr char kAuditColumns[] =
    "id, time, request_id, subject, client, method, target, namespace, resource, verb, status, result, reason";

}  // namespace

absl::Status SqliteStore::CreateToken(const TokenRecord& t) {
  absl::MutexLock lock(&mu_);
  return Statement(db_, absl::StrCat("INSERT INTO api_tokens (", kTokenColumns, ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"))
      .Bind(1, t.id).Bind(2, t.secret_hash).Bind(3, t.subject_kind).Bind(4, t.subject).Bind(5, t.description)
      .Bind(6, t.created_by).Bind(7, absl::ToUnixMicros(t.created_at)).Bind(8, MicrosOrZero(t.expires_at))
      .Bind(9, MicrosOrZero(t.revoked_at)).Run();
}

absl::StatusOr<std::vector<TokenRecord>> SqliteStore::ListTokens() {
  absl::MutexLock lock(&mu_);
  Statement s(db_, absl::StrCat("SELECT ", kTokenColumns, " FROM api_tokens ORDER BY created_at, id"));
  std::vector<TokenRecord> out;
  while (s.Step()) {
    out.push_back({s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5),
                   absl::FromUnixMicros(s.Int(6)), TimeOrNever(s.Int(7)), TimeOrNever(s.Int(8))});
  }
  RETURN_IF_ERROR(s.status());
  return out;
}

absl::Status SqliteStore::RevokeToken(absl::string_view id, absl::Time time) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    Statement exists(db_, "SELECT 1 FROM api_tokens WHERE id = ?");
    exists.Bind(1, id);
    if (!exists.Step()) {
      RETURN_IF_ERROR(exists.status());
      return absl::NotFoundError(absl::StrCat("token \"", id, "\" not found"));
    }
    return Statement(db_, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0")
        .Bind(1, absl::ToUnixMicros(time)).Bind(2, id).Run();
  });
}

absl::Status SqliteStore::PutRole(const RoleRecord& r) {
  absl::MutexLock lock(&mu_);
  return Statement(db_,
                   "INSERT INTO roles (name, rules, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE "
                   "SET rules = excluded.rules, updated_at = excluded.updated_at")
      .Bind(1, r.name).Bind(2, r.rules_json).Bind(3, absl::ToUnixMicros(r.updated_at)).Run();
}

absl::Status SqliteStore::DeleteRole(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    Statement used(db_, "SELECT namespace, name FROM role_bindings WHERE role = ? LIMIT 1");
    used.Bind(1, name);
    if (used.Step()) {
      return absl::FailedPreconditionError(absl::StrCat("role \"", name, "\" is used by role binding \"",
                                                        used.Text(1), "\"; delete the binding first"));
    }
    RETURN_IF_ERROR(used.status());
    Statement s(db_, "DELETE FROM roles WHERE name = ?");
    RETURN_IF_ERROR(s.Bind(1, name).Run());
    if (sqlite3_changes(db_) == 0) return absl::NotFoundError(absl::StrCat("role \"", name, "\" not found"));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<RoleRecord>> SqliteStore::ListRoles() {
  absl::MutexLock lock(&mu_);
  Statement s(db_, "SELECT name, rules, updated_at FROM roles ORDER BY name");
  std::vector<RoleRecord> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1), absl::FromUnixMicros(s.Int(2))});
  RETURN_IF_ERROR(s.status());
  return out;
}

absl::Status SqliteStore::PutRoleBinding(const RoleBindingRecord& b) {
  absl::MutexLock lock(&mu_);
  return Statement(db_,
                   "INSERT INTO role_bindings (namespace, name, role, subjects, updated_at) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (namespace, name) DO UPDATE SET role = excluded.role, "
                   "subjects = excluded.subjects, updated_at = excluded.updated_at")
      .Bind(1, b.namespace_name).Bind(2, b.name).Bind(3, b.role).Bind(4, b.subjects_json)
      .Bind(5, absl::ToUnixMicros(b.updated_at)).Run();
}

absl::Status SqliteStore::DeleteRoleBinding(absl::string_view namespace_name, absl::string_view name) {
  absl::MutexLock lock(&mu_);
  Statement s(db_, "DELETE FROM role_bindings WHERE namespace = ? AND name = ?");
  RETURN_IF_ERROR(s.Bind(1, namespace_name).Bind(2, name).Run());
  if (sqlite3_changes(db_) == 0) return absl::NotFoundError(absl::StrCat("role binding \"", name, "\" not found"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RoleBindingRecord>> SqliteStore::ListRoleBindings() {
  absl::MutexLock lock(&mu_);
  Statement s(db_, "SELECT name, namespace, role, subjects, updated_at FROM role_bindings ORDER BY namespace, name");
  std::vector<RoleBindingRecord> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1), s.Text(2), s.Text(3), absl::FromUnixMicros(s.Int(4))});
  RETURN_IF_ERROR(s.status());
  return out;
}

absl::Status SqliteStore::AppendAudit(const std::vector<AuditRecord>& records) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    for (const AuditRecord& r : records) {
      RETURN_IF_ERROR(
          Statement(db_, "INSERT INTO audit_events (time, request_id, subject, client, method, target, namespace, "
                         "resource, verb, status, result, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
              .Bind(1, absl::ToUnixMicros(r.time)).Bind(2, r.request_id).Bind(3, r.subject).Bind(4, r.client)
              .Bind(5, r.method).Bind(6, r.target).Bind(7, r.namespace_name).Bind(8, r.resource).Bind(9, r.verb)
              .Bind(10, int64_t{r.status}).Bind(11, r.result).Bind(12, r.reason).Run());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<AuditRecord>> SqliteStore::QueryAudit(const AuditQuery& q) {
  absl::MutexLock lock(&mu_);
  Statement s(db_, absl::StrCat("SELECT ", kAuditColumns,
                                " FROM audit_events WHERE id > ? AND time >= ? AND time < ? "
                                "AND (? = '' OR subject = ?) AND (? = '' OR resource = ?) AND (? = '' OR verb = ?) "
                                "AND (? = '' OR result = ?) AND (? = '' OR namespace = ?) ORDER BY id LIMIT ?"));
  s.Bind(1, q.after_id)
      .Bind(2, q.since == absl::InfinitePast() ? INT64_MIN : absl::ToUnixMicros(q.since))
      .Bind(3, q.until == absl::InfiniteFuture() ? INT64_MAX : absl::ToUnixMicros(q.until))
      .Bind(4, q.subject).Bind(5, q.subject).Bind(6, q.resource).Bind(7, q.resource).Bind(8, q.verb)
      .Bind(9, q.verb).Bind(10, q.result).Bind(11, q.result).Bind(12, q.namespace_name).Bind(13, q.namespace_name)
      .Bind(14, int64_t{q.limit});
  std::vector<AuditRecord> out;
  while (s.Step()) {
    out.push_back({s.Int(0), absl::FromUnixMicros(s.Int(1)), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6),
                   s.Text(7), s.Text(8), s.Text(9), static_cast<int>(s.Int(10)), s.Text(11), s.Text(12)});
  }
  RETURN_IF_ERROR(s.status());
  return out;
}

}  // namespace meridian::store
