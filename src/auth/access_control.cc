#include "auth/access_control.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "auth/api_token.h"
#include "auth/rbac_json.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/thread_name.h"

namespace meridian::auth {

struct AccessControl::Snapshot {
  absl::flat_hash_map<std::string, store::TokenRecord> tokens;  // by id
  std::vector<Role> roles;
  std::vector<RoleBinding> bindings;
  Authorizer authorizer{{}, {}};
};

namespace {

absl::StatusOr<absl::string_view> BearerValue(absl::string_view authorization) {
  if (authorization.empty()) {
    return absl::UnauthenticatedError("this endpoint needs an API token: send \"Authorization: Bearer <token>\"");
  }
  constexpr absl::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return absl::UnauthenticatedError("the Authorization header must use the Bearer scheme: \"Bearer <token>\"");
  }
  absl::string_view value = absl::StripAsciiWhitespace(authorization.substr(kScheme.size()));
  return value;
}

Subject SubjectOf(const store::TokenRecord& t) {
  return {t.subject_kind == "serviceaccount" ? SubjectKind::kServiceAccount : SubjectKind::kUser, t.subject};
}

absl::Status CheckNameChars(absl::string_view what, absl::string_view name, size_t max, bool extended) {
  if (name.empty() || name.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be 1 to ", max, " characters"));
  }
  for (char c : name) {
    const bool ok = absl::ascii_isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'z') || c == '-' ||
                    (extended && (absl::ascii_isupper(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' ||
                                  c == '|' || c == ':' || c == '+'));
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(what, " \"", name, "\" may contain only ",
                                                     extended ? "letters, digits and . _ @ - | : +" : "lowercase letters, digits and -"));
    }
  }
  return absl::OkStatus();
}

Authentication LockedOut(absl::string_view client, absl::Duration wait) {
  Authentication result;
  result.retry_after = wait;
  result.status = absl::ResourceExhaustedError(absl::StrCat("too many failed authentication attempts from ", client,
                                                            "; try again in ",
                                                            absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))), " s"));
  return result;
}

}  // namespace

absl::Status ValidateObjectName(absl::string_view what, absl::string_view name) {
  return CheckNameChars(what, name, 63, false);
}
absl::Status ValidateSubjectName(absl::string_view name) { return CheckNameChars("subject name", name, 128, true); }

absl::StatusOr<std::unique_ptr<AccessControl>> AccessControl::Create(const AccessControlOptions& options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("AccessControl needs a SecurityStore");
  auto control = std::unique_ptr<AccessControl>(new AccessControl(options));
  RETURN_IF_ERROR(control->Reload());
  if (options.refresh_interval > absl::ZeroDuration()) {
    control->refresher_ = std::thread([c = control.get()] {
      NameThisThread("auth-refresh");
      c->RefreshLoop();
    });
  }
  return control;
}

AccessControl::AccessControl(const AccessControlOptions& options)
    : options_(options), limiter_(options.limiter), snapshot_(std::make_shared<Snapshot>()) {}

AccessControl::~AccessControl() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (refresher_.joinable()) refresher_.join();
}

void AccessControl::RefreshLoop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.refresh_interval);
    if (stopping_) break;
    mu_.Unlock();
    if (absl::Status s = Reload(); !s.ok()) {
      log::Warn("could not refresh tokens and roles; keeping the last ones", {{"error", s.message()}});
    }
    mu_.Lock();
  }
}

std::shared_ptr<const AccessControl::Snapshot> AccessControl::Current() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

absl::Status AccessControl::Reload() {
  absl::MutexLock reload(&reload_mu_);
  auto next = std::make_shared<Snapshot>();
  ASSIGN_OR_RETURN(std::vector<store::TokenRecord> tokens, options_.store->ListTokens());
  for (auto& t : tokens) next->tokens.emplace(t.id, std::move(t));
  next->roles = BuiltInRoles();
  ASSIGN_OR_RETURN(std::vector<store::RoleRecord> roles, options_.store->ListRoles());
  for (const auto& r : roles) {
    if (IsBuiltInRole(r.name)) continue;
    auto rules = RulesFromJson(r.rules_json);
    if (!rules.ok()) {
      log::Error("stored role is unreadable; ignoring it", {{"role", r.name}, {"error", rules.status().message()}});
      continue;
    }
    next->roles.push_back({r.name, *std::move(rules)});
  }
  ASSIGN_OR_RETURN(std::vector<store::RoleBindingRecord> bindings, options_.store->ListRoleBindings());
  for (const auto& b : bindings) {
    auto subjects = SubjectsFromJson(b.subjects_json);
    if (!subjects.ok()) {
      log::Error("stored role binding is unreadable; ignoring it", {{"binding", b.name}, {"error", subjects.status().message()}});
      continue;
    }
    next->bindings.push_back({b.name, b.namespace_name, b.role, *std::move(subjects)});
  }
  next->authorizer = Authorizer(next->roles, next->bindings);
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(next);
  return absl::OkStatus();
}

Authentication AccessControl::Authenticate(absl::string_view authorization, absl::string_view client) {
  const absl::Time now = options_.clock->Now();
  Authentication result;
  auto bearer = BearerValue(authorization);
  if (!bearer.ok()) {
    // No token is a mistake, not a guess: it answers 401 without counting toward the lock-out.
    result.status = bearer.status();
    return result;
  }
  if (options_.jwt != nullptr && !absl::StartsWith(*bearer, "mrd_") && JwtVerifier::LooksLikeJwt(*bearer)) {
    return AuthenticateJwt(*bearer, client, now);
  }
  auto parsed = ParseToken(*bearer);
  const absl::string_view presented_id = parsed.ok() ? absl::string_view(parsed->id) : absl::string_view();
  if (absl::Duration wait = limiter_.Wait(client, presented_id, now); wait > absl::ZeroDuration()) {
    return LockedOut(client, wait);
  }
  auto fail = [&](absl::Status status) {
    limiter_.RecordFailure(client, now);
    result.status = std::move(status);
    return result;
  };
  if (!parsed.ok()) return fail(parsed.status());
  std::shared_ptr<const Snapshot> snapshot = Current();
  auto it = snapshot->tokens.find(parsed->id);
  // An unknown id and a wrong secret get the same answer, so ids cannot be probed.
  if (it == snapshot->tokens.end() || !SecretMatches(parsed->secret, it->second.secret_hash)) {
    return fail(absl::UnauthenticatedError("the token is not valid"));
  }
  const store::TokenRecord& token = it->second;
  if (token.revoked_at <= now) {
    return fail(absl::UnauthenticatedError(absl::StrCat("token ", token.id, " was revoked")));
  }
  if (token.expires_at <= now) {
    return fail(absl::UnauthenticatedError(
        absl::StrCat("token ", token.id, " expired at ", absl::FormatTime(absl::RFC3339_sec, token.expires_at, absl::UTCTimeZone()))));
  }
  limiter_.RecordSuccess(client, token.id, now);
  result.principal = {SubjectOf(token), token.id};
  return result;
}

Authentication AccessControl::AuthenticateJwt(absl::string_view bearer, absl::string_view client, absl::Time now) {
  Authentication result;
  // JWTs have no id of ours; the user they name stands in for it in the lock-out's memory.
  auto user = options_.jwt->Verify(bearer);
  if (user.ok()) {
    if (absl::Status valid = ValidateSubjectName(*user); !valid.ok()) user = absl::UnauthenticatedError(valid.message());
  }
  const std::string known_id = user.ok() ? absl::StrCat("jwt:", *user) : std::string();
  if (absl::Duration wait = limiter_.Wait(client, known_id, now); wait > absl::ZeroDuration()) {
    return LockedOut(client, wait);
  }
  if (!user.ok()) {
    limiter_.RecordFailure(client, now);
    result.status = user.status();
    return result;
  }
  limiter_.RecordSuccess(client, known_id, now);
  result.principal = {{SubjectKind::kUser, *user}, known_id};
  return result;
}

AccessDecision AccessControl::Authorize(const Principal& principal, absl::string_view namespace_name,
                                        absl::string_view resource, absl::string_view verb) const {
  return Current()->authorizer.Check(principal.subject, namespace_name, resource, verb);
}

absl::StatusOr<std::optional<std::string>> AccessControl::Bootstrap(absl::string_view admin_token) {
  std::shared_ptr<const Snapshot> snapshot = Current();
  auto ensure_admin_binding = [&]() -> absl::Status {
    for (const RoleBinding& b : snapshot->bindings) {
      if (b.name == kAdminBinding && b.namespace_name.empty()) return absl::OkStatus();
    }
    return PutBinding({kAdminBinding, "", "admin", {{SubjectKind::kUser, kAdminUser}}});
  };
  const Principal system{{SubjectKind::kServiceAccount, "meridian"}, ""};
  if (!admin_token.empty()) {
    auto parsed = ParseToken(admin_token);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          "MERIDIAN_ADMIN_TOKEN is not a Meridian token (mrd_<12 hex>_<43 base64url characters>); make one with "
          "`meridian token generate`");
    }
    RETURN_IF_ERROR(ensure_admin_binding());
    if (snapshot->tokens.contains(parsed->id)) return std::nullopt;
    RETURN_IF_ERROR(options_.store->CreateToken({.id = parsed->id,
                                                  .secret_hash = HashSecret(parsed->secret),
                                                  .subject_kind = "user",
                                                  .subject = kAdminUser,
                                                  .description = "administrator (MERIDIAN_ADMIN_TOKEN)",
                                                  .created_by = system.Name(),
                                                  .created_at = options_.clock->Now()}));
    RETURN_IF_ERROR(Reload());
    return std::nullopt;
  }
  if (!snapshot->tokens.empty()) return std::nullopt;
  RETURN_IF_ERROR(ensure_admin_binding());
  ASSIGN_OR_RETURN(CreatedToken created,
                   CreateToken({.subject = {SubjectKind::kUser, kAdminUser}, .description = "administrator (first start)"},
                               system));
  return created.token;
}

absl::StatusOr<CreatedToken> AccessControl::CreateToken(const TokenRequest& request, const Principal& creator) {
  RETURN_IF_ERROR(ValidateSubjectName(request.subject.name));
  if (request.lifetime <= absl::ZeroDuration()) return absl::InvalidArgumentError("a token's lifetime must be positive");
  if (request.description.size() > 256) return absl::InvalidArgumentError("description: at most 256 characters");
  ASSIGN_OR_RETURN(IssuedToken issued, IssueToken());
  const absl::Time now = options_.clock->Now();
  CreatedToken created;
  created.token = std::move(issued.token);
  created.record = {.id = issued.id,
                    .secret_hash = issued.secret_hash,
                    .subject_kind = std::string(SubjectKindName(request.subject.kind)),
                    .subject = request.subject.name,
                    .description = request.description,
                    .created_by = creator.Name(),
                    .created_at = now,
                    .expires_at = request.lifetime == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                                                : now + request.lifetime};
  RETURN_IF_ERROR(options_.store->CreateToken(created.record));
  RETURN_IF_ERROR(Reload());
  return created;
}

absl::StatusOr<std::vector<store::TokenRecord>> AccessControl::ListTokens() { return options_.store->ListTokens(); }

absl::Status AccessControl::RevokeToken(absl::string_view id) {
  RETURN_IF_ERROR(options_.store->RevokeToken(id, options_.clock->Now()));
  return Reload();
}

std::vector<Role> AccessControl::Roles() const { return Current()->roles; }

bool AccessControl::IsBuiltInRole(absl::string_view name) {
  for (const Role& role : BuiltInRoles()) {
    if (role.name == name) return true;
  }
  return false;
}

absl::Status AccessControl::PutRole(const Role& role) {
  RETURN_IF_ERROR(ValidateObjectName("role name", role.name));
  if (IsBuiltInRole(role.name)) {
    return absl::FailedPreconditionError(absl::StrCat("role \"", role.name, "\" is built in and cannot be changed"));
  }
  if (role.rules.empty()) return absl::InvalidArgumentError("rules: a role needs at least one rule");
  RETURN_IF_ERROR(Authorizer::Validate({role}, {}));
  RETURN_IF_ERROR(options_.store->PutRole({role.name, RulesToJson(role.rules), options_.clock->Now()}));
  return Reload();
}

absl::Status AccessControl::DeleteRole(absl::string_view name) {
  if (IsBuiltInRole(name)) {
    return absl::FailedPreconditionError(absl::StrCat("role \"", name, "\" is built in and cannot be deleted"));
  }
  RETURN_IF_ERROR(options_.store->DeleteRole(name));
  return Reload();
}

std::vector<RoleBinding> AccessControl::Bindings() const { return Current()->bindings; }

absl::Status AccessControl::PutBinding(const RoleBinding& binding) {
  RETURN_IF_ERROR(ValidateObjectName("binding name", binding.name));
  if (!binding.namespace_name.empty()) RETURN_IF_ERROR(ValidateObjectName("namespace", binding.namespace_name));
  for (const Subject& s : binding.subjects) RETURN_IF_ERROR(ValidateSubjectName(s.name));
  RETURN_IF_ERROR(Authorizer::Validate(Roles(), {binding}));
  RETURN_IF_ERROR(options_.store->PutRoleBinding(
      {binding.name, binding.namespace_name, binding.role, SubjectsToJson(binding.subjects), options_.clock->Now()}));
  return Reload();
}

absl::Status AccessControl::CheckCanGrant(const Principal& caller, absl::string_view namespace_name,
                                          absl::string_view role_name) const {
  std::shared_ptr<const Snapshot> snapshot = Current();
  const Role* role = nullptr;
  for (const Role& r : snapshot->roles) {
    if (r.name == role_name) role = &r;
  }
  if (role == nullptr) return absl::InvalidArgumentError(absl::StrCat("role \"", role_name, "\" does not exist"));
  auto expand = [](const std::vector<std::string>& listed, const auto& all) {
    if (std::find(listed.begin(), listed.end(), "*") == listed.end()) return listed;
    return std::vector<std::string>(std::begin(all), std::end(all));
  };
  for (const PolicyRule& rule : role->rules) {
    for (const std::string& resource : expand(rule.resources, kResources)) {
      for (const std::string& verb : expand(rule.verbs, kVerbs)) {
        if (snapshot->authorizer.Check(caller.subject, namespace_name, resource, verb).allowed) continue;
        return absl::PermissionDeniedError(absl::StrCat(
            "cannot grant role ", role->name,
            namespace_name.empty() ? std::string(" in every namespace") : absl::StrCat(" in namespace ", namespace_name),
            ": you do not hold ", resource, "/", verb, " there yourself (a binding may grant only what its author holds)"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status AccessControl::DeleteBinding(absl::string_view namespace_name, absl::string_view name) {
  RETURN_IF_ERROR(options_.store->DeleteRoleBinding(namespace_name, name));
  return Reload();
}

}  // namespace meridian::auth
