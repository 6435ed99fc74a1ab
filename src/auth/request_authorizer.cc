#include "auth/request_authorizer.h"

#include "absl/strings/str_cat.h"

namespace meridian::auth {
namespace {

absl::string_view WithoutQuery(absl::string_view target) { return target.substr(0, target.find('?')); }

}  // namespace

bool IsMutatingVerb(absl::string_view verb) {
  return verb == "create" || verb == "update" || verb == "delete" || verb == "rollback" || verb == "promote";
}

http::GateDecision RequestAuthorizer::Check(const http::GateRequest& request) {
  http::GateDecision decision;
  if (options_.open_resources.contains(request.resource)) {
    decision.allowed = true;
    decision.principal = kAnonymous;
    return decision;
  }
  Authentication authn;
  if (request.authorization.empty() && !request.client_certificate.empty()) {
    // Mutual TLS: the handshake verified the certificate against the configured client CAs; its
    // common name is the user.
    authn.status = ValidateSubjectName(request.client_certificate);
    authn.principal = {{SubjectKind::kUser, std::string(request.client_certificate)}, ""};
  } else {
    authn = options_.access->Authenticate(request.authorization, request.client_address);
  }
  if (absl::IsResourceExhausted(authn.status)) {
    // Not audited one by one: a locked-out address is by definition sending a flood.
    decision.status = 429;
    decision.message = std::string(authn.status.message());
    decision.principal = kAnonymous;
    decision.headers.emplace_back("Retry-After",
                                  absl::StrCat(absl::ToInt64Seconds(absl::Ceil(authn.retry_after, absl::Seconds(1)))));
    return decision;
  }
  if (!authn.status.ok()) {
    decision.status = 401;
    decision.message = std::string(authn.status.message());
    decision.principal = kAnonymous;
    decision.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"meridian\"");
    // Bad tokens are bounded by the lock-out; requests without one by this budget.
    const absl::Time now = absl::Now();
    if (!request.authorization.empty() ||
        anonymous_audit_budget_.Wait(request.client_address, "", now) == absl::ZeroDuration()) {
      if (request.authorization.empty()) anonymous_audit_budget_.RecordFailure(request.client_address, now);
      AuditDenial(request, kAnonymous, 401, decision.message);
    }
    return decision;
  }
  decision.principal = authn.principal.Name();
  if (request.resource == kSelfResource) {
    decision.allowed = true;
    return decision;
  }
  AccessDecision access =
      options_.access->Authorize(authn.principal, request.namespace_name, request.resource, request.verb);
  if (!access.allowed) {
    decision.status = 403;
    decision.message = std::move(access.reason);
    AuditDenial(request, decision.principal, 403, decision.message);
    return decision;
  }
  decision.allowed = true;
  return decision;
}

void RequestAuthorizer::AuditDenial(const http::GateRequest& request, absl::string_view subject, int status,
                                    absl::string_view reason) {
  if (options_.audit == nullptr) return;
  options_.audit->Record({.time = absl::Now(),
                          .request_id = std::string(request.request_id),
                          .subject = std::string(subject),
                          .client = std::string(request.client_address),
                          .method = std::string(request.method),
                          .target = std::string(WithoutQuery(request.target)),
                          .namespace_name = std::string(request.namespace_name),
                          .resource = std::string(request.resource),
                          .verb = std::string(request.verb),
                          .status = status,
                          .result = "denied",
                          .reason = std::string(reason)});
}

void AuditObserver::OnRequestCompleted(const http::CompletedRequest& r) {
  if (r.denied_by_gate || r.resource.empty() || !IsMutatingVerb(r.verb)) return;
  audit_->Record({.time = absl::Now(),
                  .request_id = std::string(r.request_id),
                  .subject = r.principal.empty() ? std::string(kAnonymous) : std::string(r.principal),
                  .client = std::string(r.remote_address),
                  .method = std::string(r.method),
                  .target = std::string(WithoutQuery(r.target)),
                  .namespace_name = std::string(r.namespace_name),
                  .resource = std::string(r.resource),
                  .verb = std::string(r.verb),
                  .status = r.status,
                  .result = r.status < 400 ? "allowed" : "failed",
                  .reason = ""});
}

}  // namespace meridian::auth
