#pragma once

// Durable state of authentication, authorization and audit. Implemented by the same stores as
// MetadataStore (SQLite, PostgreSQL), in the same database. Every method is one transaction and
// thread-safe. Errors as MetadataStore: kNotFound, kAlreadyExists, kUnavailable/kInternal.

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "store/security_records.h"

namespace meridian::store {

class SecurityStore {
 public:
  virtual ~SecurityStore() = default;

  virtual absl::Status CreateToken(const TokenRecord& token) = 0;
  // Every token, revoked and expired ones included, oldest first.
  virtual absl::StatusOr<std::vector<TokenRecord>> ListTokens() = 0;
  // Sets revoked_at; kNotFound for an unknown id. Revoking twice keeps the first time.
  virtual absl::Status RevokeToken(absl::string_view id, absl::Time time) = 0;

  // Creates or replaces by name.
  virtual absl::Status PutRole(const RoleRecord& role) = 0;
  virtual absl::Status DeleteRole(absl::string_view name) = 0;
  virtual absl::StatusOr<std::vector<RoleRecord>> ListRoles() = 0;

  // Creates or replaces by (namespace, name).
  virtual absl::Status PutRoleBinding(const RoleBindingRecord& binding) = 0;
  virtual absl::Status DeleteRoleBinding(absl::string_view namespace_name, absl::string_view name) = 0;
  virtual absl::StatusOr<std::vector<RoleBindingRecord>> ListRoleBindings() = 0;

  // Appends in order, all or none; the store assigns ids. There is no update or delete.
  virtual absl::Status AppendAudit(const std::vector<AuditRecord>& records) = 0;
  // Matching records, oldest first, at most query.limit.
  virtual absl::StatusOr<std::vector<AuditRecord>> QueryAudit(const AuditQuery& query) = 0;
};

}  // namespace meridian::store
