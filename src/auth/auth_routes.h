#pragma once

// The security API under /api/v1 (see docs/security.md): tokens, roles, role bindings, the
// audit log, and who-am-I / can-I for the caller. Every route declares its resource and verb, so
// the RequestAuthorizer guards these like any other route.

#include "absl/status/status.h"
#include "auth/access_control.h"
#include "auth/audit_log.h"
#include "http/router.h"
#include "store/security_store.h"

namespace meridian::auth {

struct AuthRoutesOptions {
  AccessControl* access = nullptr;        // not owned
  AuditLog* audit = nullptr;              // not owned; flushed before the audit log is read
  store::SecurityStore* store = nullptr;  // not owned; for audit queries
};

absl::Status AddAuthRoutes(const AuthRoutesOptions& options, http::Router& router);

}  // namespace meridian::auth
