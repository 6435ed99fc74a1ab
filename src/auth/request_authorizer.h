#pragma once

// The request gate of the platform (REST and gRPC alike): every routed request is authenticated
// by its bearer token and authorized for its route's resource and verb in its namespace, unless
// the resource is open (health, metrics). Denials are answered 401 (no or bad token), 429 (address
// locked out after failed attempts) or 403 (no permission, naming it), and written to the audit
// log. AuditObserver records every mutating request once it has been answered.

#include <set>
#include <string>

#include "auth/access_control.h"
#include "auth/audit_log.h"
#include "auth/failed_auth_limiter.h"
#include "http/request_gate.h"
#include "http/request_observer.h"

namespace meridian::auth {

// Resource that any authenticated caller may use on itself (whoami, can-i).
inline constexpr const char* kSelfResource = "self";

struct RequestAuthorizerOptions {
  AccessControl* access = nullptr;  // not owned
  AuditLog* audit = nullptr;        // not owned
  // Routes whose resource is listed here need no token, e.g. {"health", "public", "metrics"}.
  std::set<std::string, std::less<>> open_resources;
  // Requests without any token are audited up to this many per address and minute; beyond, they
  // are still refused but not recorded one by one, so an anonymous flood cannot fill the log.
  int audited_anonymous_per_minute = 60;
};

class RequestAuthorizer final : public http::RequestGate {
 public:
  explicit RequestAuthorizer(RequestAuthorizerOptions options)
      : options_(std::move(options)),
        anonymous_audit_budget_({.max_failures = options_.audited_anonymous_per_minute, .window = absl::Minutes(1)}) {}
  http::GateDecision Check(const http::GateRequest& request) override;

 private:
  void AuditDenial(const http::GateRequest& request, absl::string_view subject, int status, absl::string_view reason);
  RequestAuthorizerOptions options_;
  FailedAuthLimiter anonymous_audit_budget_;  // counts audited token-less denials per address
};

// Writes an audit record for every answered request whose verb changes something.
class AuditObserver final : public http::RequestObserver {
 public:
  explicit AuditObserver(AuditLog* audit) : audit_(audit) {}
  void OnRequestCompleted(const http::CompletedRequest& request) override;

 private:
  AuditLog* audit_;
};

bool IsMutatingVerb(absl::string_view verb);

}  // namespace meridian::auth
