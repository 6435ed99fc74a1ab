#include "auth/auth_routes.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "auth/rbac_json.h"
#include "auth/request_authorizer.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace meridian::auth {
namespace {

using http::HttpMethod;
using http::HttpRequest;
using http::HttpResponse;

constexpr uint64_t kMaxBody = 64 * 1024;

std::string Rfc3339(absl::Time t) { return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone()); }

void AppendField(std::string& out, absl::string_view name, absl::string_view value, bool first = false) {
  if (!first) out += ",";
  AppendJsonQuoted(&out, name);
  out += ":";
  AppendJsonQuoted(&out, value);
}

// The caller, as the gate established it: "user:alice" -> Principal.
absl::StatusOr<Principal> CallerOf(const HttpRequest& r) {
  const size_t colon = r.principal.find(':');
  if (colon == std::string::npos) return absl::UnauthenticatedError("this endpoint needs an API token");
  ASSIGN_OR_RETURN(SubjectKind kind, ParseSubjectKind(r.principal.substr(0, colon)));
  return Principal{{kind, r.principal.substr(colon + 1)}, ""};
}

absl::StatusOr<rapidjson::Document> JsonObjectBody(const HttpRequest& r) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(ParseUntrustedJson(r.body.empty() ? absl::string_view("{}") : absl::string_view(r.body), doc));
  if (!doc.IsObject()) return absl::InvalidArgumentError("the body must be a JSON object");
  return doc;
}

absl::StatusOr<std::string> OptionalString(const rapidjson::Value& object, const char* field) {
  auto it = object.FindMember(field);
  if (it == object.MemberEnd() || it->value.IsNull()) return std::string();
  if (!it->value.IsString()) return absl::InvalidArgumentError(absl::StrCat(field, ": must be a string"));
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// The JSON text of a member (for lists kept as JSON), or an error naming it.
absl::StatusOr<std::string> MemberJson(const rapidjson::Value& object, const char* field) {
  auto it = object.FindMember(field);
  if (it == object.MemberEnd()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  it->value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string TokenJson(const store::TokenRecord& t, absl::Time now) {
  std::string out = "{";
  AppendField(out, "id", t.id, true);
  AppendField(out, "kind", t.subject_kind);
  AppendField(out, "subject", t.subject);
  AppendField(out, "description", t.description);
  AppendField(out, "createdBy", t.created_by);
  AppendField(out, "createdAt", Rfc3339(t.created_at));
  if (t.expires_at != absl::InfiniteFuture()) AppendField(out, "expiresAt", Rfc3339(t.expires_at));
  if (t.revoked_at != absl::InfiniteFuture()) AppendField(out, "revokedAt", Rfc3339(t.revoked_at));
  const char* state = t.revoked_at <= now ? "revoked" : t.expires_at <= now ? "expired" : "active";
  AppendField(out, "state", state);
  return out + "}";
}

std::string AuditJson(const store::AuditRecord& a) {
  std::string out = absl::StrCat("{\"id\":", a.id);
  AppendField(out, "time", Rfc3339(a.time));
  AppendField(out, "requestId", a.request_id);
  AppendField(out, "subject", a.subject);
  AppendField(out, "client", a.client);
  AppendField(out, "method", a.method);
  AppendField(out, "target", a.target);
  AppendField(out, "namespace", a.namespace_name);
  AppendField(out, "resource", a.resource);
  AppendField(out, "verb", a.verb);
  absl::StrAppend(&out, ",\"status\":", a.status);
  AppendField(out, "result", a.result);
  AppendField(out, "reason", a.reason);
  return out + "}";
}

template <typename T, typename Render>
std::string JsonList(absl::string_view field, const std::vector<T>& items, Render render) {
  std::string out = absl::StrCat("{\"", field, "\":[");
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ",";
    out += render(items[i]);
  }
  return out + "]}";
}

HttpResponse NoContent(const absl::Status& s) {
  if (!s.ok()) return HttpResponse::Error(s);
  return HttpResponse{.status = 204};
}

absl::StatusOr<absl::Time> ParseTimeParam(const HttpRequest& r, const char* name, absl::Time fallback) {
  auto value = r.QueryParam(name);
  if (!value) return fallback;
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, *value, &t, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": \"", *value, "\" is not an RFC 3339 time (2026-01-31T12:00:00Z)"));
  }
  return t;
}

class AuthRoutes {
 public:
  AuthRoutes(const AuthRoutesOptions& options, http::Router& router) : o_(options), router_(router) {}

  absl::Status Add() {
    AccessControl* access = o_.access;
    RETURN_IF_ERROR(Route(HttpMethod::kGet, "/api/v1/auth/whoami", kSelfResource, "get", [](const HttpRequest& r) {
      std::string out = "{";
      AppendField(out, "subject", r.principal, true);
      return HttpResponse::Json(200, out + "}");
    }));
    RETURN_IF_ERROR(Route(HttpMethod::kGet, "/api/v1/auth/can-i", kSelfResource, "get", [access](const HttpRequest& r) {
      auto caller = CallerOf(r);
      if (!caller.ok()) return HttpResponse::Error(caller.status());
      const std::string verb = r.QueryParam("verb").value_or("");
      const std::string resource = r.QueryParam("resource").value_or("");
      const std::string ns = r.QueryParam("namespace").value_or("default");
      if (verb.empty() || resource.empty()) {
        return HttpResponse::Error(absl::InvalidArgumentError("give ?verb=...&resource=... (namespace is optional)"));
      }
      AccessDecision d = access->Authorize(*caller, ns, resource, verb);
      std::string out = absl::StrCat("{\"allowed\":", d.allowed ? "true" : "false");
      AppendField(out, "reason", d.reason);
      return HttpResponse::Json(200, out + "}");
    }));

    RETURN_IF_ERROR(Route(HttpMethod::kPost, "/api/v1/tokens", "tokens", "create", [access](const HttpRequest& r) {
      auto created = CreateToken(*access, r);
      if (!created.ok()) return HttpResponse::Error(created.status());
      std::string out = TokenJson(created->record, absl::Now());
      out.pop_back();
      AppendField(out, "token", created->token);
      AppendField(out, "warning", "the token is shown only now; store it safely");
      return HttpResponse::Json(201, out + "}");
    }));
    RETURN_IF_ERROR(Route(HttpMethod::kGet, "/api/v1/tokens", "tokens", "list", [access](const HttpRequest&) {
      auto tokens = access->ListTokens();
      if (!tokens.ok()) return HttpResponse::Error(tokens.status());
      const absl::Time now = absl::Now();
      return HttpResponse::Json(200, JsonList("tokens", *tokens, [now](const auto& t) { return TokenJson(t, now); }));
    }));
    RETURN_IF_ERROR(Route(HttpMethod::kDelete, "/api/v1/tokens/{id}", "tokens", "delete", [access](const HttpRequest& r) {
      return NoContent(access->RevokeToken(r.PathParam("id")));
    }));

    RETURN_IF_ERROR(Route(HttpMethod::kGet, "/api/v1/roles", "roles", "list", [access](const HttpRequest&) {
      return HttpResponse::Json(200, JsonList("roles", access->Roles(), [](const Role& role) {
                                  return RoleToJson(role, AccessControl::IsBuiltInRole(role.name));
                                }));
    }));
    RETURN_IF_ERROR(Route(HttpMethod::kGet, "/api/v1/roles/{name}", "roles", "get", [access](const HttpRequest& r) {
      for (const Role& role : access->Roles()) {
        if (role.name == r.PathParam("name")) {
          return HttpResponse::Json(200, RoleToJson(role, AccessControl::IsBuiltInRole(role.name)));
        }
      }
      return HttpResponse::Error(absl::NotFoundError(absl::StrCat("role \"", r.PathParam("name"), "\" not found")));
    }));
    RETURN_IF_ERROR(Route(HttpMethod::kPut, "/api/v1/roles/{name}", "roles", "update", [access](const HttpRequest& r) {
      auto body = JsonObjectBody(r);
      if (!body.ok()) return HttpResponse::Error(body.status());
      auto rules_json = MemberJson(*body, "rules");
      if (!rules_json.ok()) return HttpResponse::Error(rules_json.status());
      auto rules = RulesFromJson(*rules_json);
      if (!rules.ok()) return HttpResponse::Error(rules.status());
      Role role{std::string(r.PathParam("name")), *std::move(rules)};
      if (absl::Status s = access->PutRole(role); !s.ok()) return HttpResponse::Error(s);
      return HttpResponse::Json(200, RoleToJson(role, false));
    }));
    RETURN_IF_ERROR(Route(HttpMethod::kDelete, "/api/v1/roles/{name}", "roles", "delete", [access](const HttpRequest& r) {
      return NoContent(access->DeleteRole(r.PathParam("name")));
    }));

    auto list_bindings = [access](absl::string_view only_namespace, bool cluster) {
      std::vector<RoleBinding> selected;
      for (RoleBinding& b : access->Bindings()) {
        if (cluster ? b.namespace_name.empty() : b.namespace_name == only_namespace) selected.push_back(std::move(b));
      }
      return HttpResponse::Json(200, JsonList("bindings", selected, BindingToJson));
    };
    RETURN_IF_ERROR(Route(HttpMethod::kGet, "/api/v1/clusterrolebindings", "bindings", "list",
                          [list_bindings](const HttpRequest&) { return list_bindings("", true); }));
    RETURN_IF_ERROR(Route(HttpMethod::kGet, "/api/v1/namespaces/{ns}/rolebindings", "bindings", "list",
                          [list_bindings](const HttpRequest& r) { return list_bindings(r.PathParam("ns"), false); }));
    RETURN_IF_ERROR(Route(HttpMethod::kPut, "/api/v1/clusterrolebindings/{name}", "bindings", "update",
                          [access](const HttpRequest& r) { return PutBinding(*access, r, ""); }));
    RETURN_IF_ERROR(Route(HttpMethod::kPut, "/api/v1/namespaces/{ns}/rolebindings/{name}", "bindings", "update",
                          [access](const HttpRequest& r) { return PutBinding(*access, r, r.PathParam("ns")); }));
    RETURN_IF_ERROR(Route(HttpMethod::kDelete, "/api/v1/clusterrolebindings/{name}", "bindings", "delete",
                          [access](const HttpRequest& r) { return NoContent(access->DeleteBinding("", r.PathParam("name"))); }));
    RETURN_IF_ERROR(Route(HttpMethod::kDelete, "/api/v1/namespaces/{ns}/rolebindings/{name}", "bindings", "delete",
                          [access](const HttpRequest& r) {
                            return NoContent(access->DeleteBinding(r.PathParam("ns"), r.PathParam("name")));
                          }));

    AuditLog* audit = o_.audit;
    store::SecurityStore* store = o_.store;
    return Route(HttpMethod::kGet, "/api/v1/audit", "audit", "list", [audit, store](const HttpRequest& r) {
      auto query = AuditQueryOf(r);
      if (!query.ok()) return HttpResponse::Error(query.status());
      if (audit != nullptr) audit->Flush();  // what was done before this request is in the answer
      auto records = store->QueryAudit(*query);
      if (!records.ok()) return HttpResponse::Error(records.status());
      std::string out = JsonList("events", *records, AuditJson);
      if (static_cast<int>(records->size()) == query->limit) {
        out.pop_back();
        absl::StrAppend(&out, ",\"nextAfter\":", records->back().id, "}");
      }
      return HttpResponse::Json(200, out);
    });
  }

 private:
  static absl::StatusOr<CreatedToken> CreateToken(AccessControl& access, const HttpRequest& r) {
    ASSIGN_OR_RETURN(Principal caller, CallerOf(r));
    ASSIGN_OR_RETURN(rapidjson::Document body, JsonObjectBody(r));
    TokenRequest request;
    ASSIGN_OR_RETURN(std::string subject, OptionalString(body, "subject"));
    ASSIGN_OR_RETURN(std::string kind, OptionalString(body, "kind"));
    ASSIGN_OR_RETURN(request.description, OptionalString(body, "description"));
    ASSIGN_OR_RETURN(std::string expires_in, OptionalString(body, "expiresIn"));
    if (subject.empty()) {
      request.subject = caller.subject;  // a token for oneself
    } else {
      ASSIGN_OR_RETURN(SubjectKind k, ParseSubjectKind(kind.empty() ? "user" : kind));
      request.subject = {k, subject};
    }
    if (!expires_in.empty()) {
      absl::Duration d;
      if (!absl::ParseDuration(expires_in, &d) || d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
        return absl::InvalidArgumentError(
            absl::StrCat("expiresIn: \"", expires_in, "\" is not a positive duration (examples: 30m, 24h, 720h)"));
      }
      request.lifetime = d;
    }
    return access.CreateToken(request, caller);
  }

  static HttpResponse PutBinding(AccessControl& access, const HttpRequest& r, absl::string_view namespace_name) {
    auto body = JsonObjectBody(r);
    if (!body.ok()) return HttpResponse::Error(body.status());
    auto role = OptionalString(*body, "role");
    if (!role.ok()) return HttpResponse::Error(role.status());
    if (role->empty()) return HttpResponse::Error(absl::InvalidArgumentError("role: required"));
    auto subjects_json = MemberJson(*body, "subjects");
    if (!subjects_json.ok()) return HttpResponse::Error(subjects_json.status());
    auto subjects = SubjectsFromJson(*subjects_json);
    if (!subjects.ok()) return HttpResponse::Error(subjects.status());
    // Without a caller (authentication off) there is nobody to hold back.
    if (auto caller = CallerOf(r); caller.ok()) {
      if (absl::Status s = access.CheckCanGrant(*caller, namespace_name, *role); !s.ok()) return HttpResponse::Error(s);
    }
    RoleBinding binding{std::string(r.PathParam("name")), std::string(namespace_name), *role, *std::move(subjects)};
    if (absl::Status s = access.PutBinding(binding); !s.ok()) return HttpResponse::Error(s);
    return HttpResponse::Json(200, BindingToJson(binding));
  }

  static absl::StatusOr<store::AuditQuery> AuditQueryOf(const HttpRequest& r) {
    store::AuditQuery q;
    q.subject = r.QueryParam("subject").value_or("");
    q.resource = r.QueryParam("resource").value_or("");
    q.verb = r.QueryParam("verb").value_or("");
    q.result = r.QueryParam("result").value_or("");
    q.namespace_name = r.QueryParam("namespace").value_or("");
    ASSIGN_OR_RETURN(q.since, ParseTimeParam(r, "since", absl::InfinitePast()));
    ASSIGN_OR_RETURN(q.until, ParseTimeParam(r, "until", absl::InfiniteFuture()));
    if (auto after = r.QueryParam("after"); after && (!absl::SimpleAtoi(*after, &q.after_id) || q.after_id < 0)) {
      return absl::InvalidArgumentError("after: must be the nextAfter of the previous page");
    }
    if (auto limit = r.QueryParam("limit"); limit && (!absl::SimpleAtoi(*limit, &q.limit) || q.limit < 1 || q.limit > 1000)) {
      return absl::InvalidArgumentError("limit: must be between 1 and 1000");
    }
    return q;
  }

  absl::Status Route(HttpMethod method, std::string pattern, std::string resource, std::string verb,
                     http::SyncHandler handler) {
    return router_.Add(http::Route{.method = method,
                                   .pattern = std::move(pattern),
                                   .resource = std::move(resource),
                                   .verb = std::move(verb),
                                   .max_body_bytes = method == HttpMethod::kGet || method == HttpMethod::kDelete ? 0 : kMaxBody,
                                   .handler = http::Sync(std::move(handler))});
  }

  AuthRoutesOptions o_;
  http::Router& router_;
};

}  // namespace

absl::Status AddAuthRoutes(const AuthRoutesOptions& options, http::Router& router) {
  if (options.access == nullptr || options.store == nullptr) {
    return absl::InvalidArgumentError("AddAuthRoutes needs an AccessControl and a SecurityStore");
  }
  return AuthRoutes(options, router).Add();
}

}  // namespace meridian::auth
