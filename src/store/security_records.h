#pragma once

// What the security layer keeps: API tokens (only their hashes), roles, role bindings and the
// audit log. Plain data; rules and subjects are JSON text whose meaning belongs to auth/.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace meridian::store {

struct TokenRecord {
  std::string id;           // unique, public (it names the token in lists and audit records)
  std::string secret_hash;  // SHA-256 of the secret, hex
  std::string subject_kind;  // "user" or "serviceaccount"
  std::string subject;
  std::string description;
  std::string created_by;
  absl::Time created_at;
  absl::Time expires_at = absl::InfiniteFuture();
  absl::Time revoked_at = absl::InfiniteFuture();  // InfiniteFuture: not revoked
};

struct RoleRecord {
  std::string name;        // unique
  std::string rules_json;  // [{"resources": [...], "verbs": [...]}, ...]
  absl::Time updated_at;
};

struct RoleBindingRecord {
  std::string name;            // unique per namespace
  std::string namespace_name;  // empty: every namespace (a cluster-wide binding)
  std::string role;
  std::string subjects_json;   // [{"kind": "user", "name": "..."}, ...]
  absl::Time updated_at;
};

struct AuditRecord {
  int64_t id = 0;  // assigned by the store, increasing
  absl::Time time;
  std::string request_id;
  std::string subject;  // "user:alice", "serviceaccount:ci", or "anonymous"
  std::string client;   // the client's address
  std::string method;   // HTTP method or "gRPC"
  std::string target;   // path (without query) or gRPC method
  std::string namespace_name;
  std::string resource;
  std::string verb;
  int status = 0;       // HTTP status of the answer
  std::string result;   // "allowed", "denied" (401/403/429 before the handler) or "failed"
  std::string reason;
};

struct AuditQuery {
  std::string subject;  // each filter: empty matches all
  std::string resource;
  std::string verb;
  std::string result;
  std::string namespace_name;
  absl::Time since = absl::InfinitePast();
  absl::Time until = absl::InfiniteFuture();
  int64_t after_id = 0;  // for paging: records with a larger id
  int limit = 100;
};

}  // namespace meridian::store
