#include "deploy/deployment_routes.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/json.h"
#include "common/status_codes.h"
#include "deploy/model_deployment_parser.h"
#include "deploy/resource_quota_spec.h"

namespace meridian::deploy {
namespace {

using http::HttpMethod;
using http::HttpRequest;
using http::HttpResponse;

constexpr uint64_t kMaxSpecBytes = 1 << 20;

std::string ActorOf(const HttpRequest& r) { return r.principal.empty() ? std::string("anonymous") : r.principal; }

// Specs come as JSON or YAML (kubectl sends either); curl -d's default type is accepted as the
// registry's routes accept it.
absl::Status CheckSpecBody(const HttpRequest& r) {
  auto type = r.Header("Content-Type");
  if (!type || absl::StrContains(*type, "json") || absl::StrContains(*type, "yaml") ||
      absl::StartsWith(*type, "text/plain") || absl::StartsWith(*type, "application/x-www-form-urlencoded")) {
    return absl::OkStatus();
  }
  return UnsupportedMediaTypeError(
      absl::StrCat("Content-Type ", *type, " is not accepted; send application/json or application/yaml"));
}

HttpResponse ApplyAnswer(const absl::StatusOr<ApplyResult>& result, DeploymentController& controller,
                         absl::string_view ns, absl::string_view name) {
  if (!result.ok()) return HttpResponse::Error(result.status());
  absl::StatusOr<std::string> object = controller.GetJson(ns, name);
  if (!object.ok()) return HttpResponse::Error(object.status());
  return HttpResponse::Json(result->kind == ApplyResult::Kind::kCreated ? 201 : 200,
                            absl::StrCat("{\"result\":", JsonQuote(ApplyResultName(result->kind)),
                                         ",\"revision\":", result->revision, ",\"message\":", JsonQuote(result->message),
                                         ",\"deployment\":", *object, "}"));
}

}  // namespace

absl::Status AddDeploymentRoutes(const DeploymentRoutesOptions& options, http::Router& router) {
  if (options.controller == nullptr) return absl::InvalidArgumentError("deployment routes need a controller");
  DeploymentController& c = *options.controller;
  const char* resource = "deployments";
  auto add = [&](HttpMethod method, const char* pattern, const char* verb, http::SyncHandler handler,
                 uint64_t max_body = 0) {
    return router.Add(http::Route{.method = method, .pattern = pattern, .resource = resource, .verb = verb,
                                  .max_body_bytes = max_body, .handler = http::Sync(std::move(handler))});
  };
  absl::Status s = add(HttpMethod::kPut, "/api/v1/namespaces/{ns}/deployments/{name}", "update",
                       [&c](const HttpRequest& r) {
                         if (absl::Status ok = CheckSpecBody(r); !ok.ok()) return HttpResponse::Error(ok);
                         const std::string ns(r.PathParam("ns"));
                         const std::string name(r.PathParam("name"));
                         absl::StatusOr<ModelDeploymentSpec> spec = ParseModelDeployment(r.body, ns);
                         if (!spec.ok()) return HttpResponse::Error(spec.status());
                         if (spec->name != name || spec->namespace_name != ns) {
                           return HttpResponse::Error(absl::InvalidArgumentError(absl::StrCat(
                               "metadata.name/namespace (", spec->namespace_name, "/", spec->name,
                               ") must match the URL (", ns, "/", name, ")")));
                         }
                         return ApplyAnswer(c.Apply(*spec, ActorOf(r)), c, ns, name);
                       },
                       kMaxSpecBytes);
  if (s.ok()) {
    s = add(HttpMethod::kGet, "/api/v1/namespaces/{ns}/deployments/{name}", "get", [&c](const HttpRequest& r) {
      absl::StatusOr<std::string> object = c.GetJson(r.PathParam("ns"), r.PathParam("name"));
      return object.ok() ? HttpResponse::Json(200, *object) : HttpResponse::Error(object.status());
    });
  }
  if (s.ok()) {
    s = add(HttpMethod::kGet, "/api/v1/namespaces/{ns}/deployments", "list",
            [&c](const HttpRequest& r) { return HttpResponse::Json(200, c.ListJson(r.PathParam("ns"))); });
  }
  if (s.ok()) {
    s = add(HttpMethod::kGet, "/api/v1/deployments", "list",
            [&c](const HttpRequest&) { return HttpResponse::Json(200, c.ListJson("")); });
  }
  if (s.ok()) {
    s = add(HttpMethod::kDelete, "/api/v1/namespaces/{ns}/deployments/{name}", "delete", [&c](const HttpRequest& r) {
      absl::Status deleted = c.Delete(r.PathParam("ns"), r.PathParam("name"));
      if (!deleted.ok()) return HttpResponse::Error(deleted);
      return HttpResponse::Json(200, absl::StrCat("{\"deleted\":", JsonQuote(r.PathParam("name")), "}"));
    });
  }
  if (s.ok()) {
    s = add(HttpMethod::kGet, "/api/v1/namespaces/{ns}/deployments/{name}/revisions", "get",
            [&c](const HttpRequest& r) {
              absl::StatusOr<std::string> history = c.HistoryJson(r.PathParam("ns"), r.PathParam("name"));
              return history.ok() ? HttpResponse::Json(200, *history) : HttpResponse::Error(history.status());
            });
  }
  if (s.ok()) {
    // "{name}:rollback", the custom-method form; the router hands over the whole segment.
    s = add(HttpMethod::kPost, "/api/v1/namespaces/{ns}/deployments/{name}", "rollback",
            [&c](const HttpRequest& r) {
              absl::string_view name = r.PathParam("name");
              if (!absl::ConsumeSuffix(&name, ":rollback")) {
                return HttpResponse::Error(absl::NotFoundError(
                    "POST on a deployment takes a custom method: .../deployments/{name}:rollback"));
              }
              std::optional<int64_t> revision;
              if (!absl::StripAsciiWhitespace(r.body).empty()) {
                rapidjson::Document doc;
                if (absl::Status parsed = ParseUntrustedJson(r.body, doc); !parsed.ok()) {
                  return HttpResponse::Error(parsed);
                }
                if (!doc.IsObject()) return HttpResponse::Error(absl::InvalidArgumentError("the body must be an object"));
                auto it = doc.FindMember("revision");
                if (it != doc.MemberEnd()) {
                  if (!it->value.IsInt64() || it->value.GetInt64() < 1) {
                    return HttpResponse::Error(absl::InvalidArgumentError("revision must be a positive integer"));
                  }
                  revision = it->value.GetInt64();
                }
              }
              return ApplyAnswer(c.Rollback(r.PathParam("ns"), name, revision, ActorOf(r)), c, r.PathParam("ns"), name);
            },
            4096);
  }
  resource = "resourcequotas";
  if (s.ok()) {
    s = add(HttpMethod::kPut, "/api/v1/namespaces/{ns}/resourcequotas/{name}", "update",
            [&c](const HttpRequest& r) {
              if (absl::Status ok = CheckSpecBody(r); !ok.ok()) return HttpResponse::Error(ok);
              const std::string ns(r.PathParam("ns"));
              const std::string name(r.PathParam("name"));
              absl::StatusOr<ResourceQuotaSpec> quota = ParseResourceQuota(r.body, ns);
              if (!quota.ok()) return HttpResponse::Error(quota.status());
              if (quota->name != name || quota->namespace_name != ns) {
                return HttpResponse::Error(absl::InvalidArgumentError(
                    absl::StrCat("metadata.name/namespace (", quota->namespace_name, "/", quota->name,
                                 ") must match the URL (", ns, "/", name, ")")));
              }
              if (absl::Status put = c.PutQuota(*quota); !put.ok()) return HttpResponse::Error(put);
              absl::StatusOr<std::string> object = c.QuotaJson(ns, name);
              return object.ok() ? HttpResponse::Json(200, *object) : HttpResponse::Error(object.status());
            },
            kMaxSpecBytes);
  }
  if (s.ok()) {
    s = add(HttpMethod::kGet, "/api/v1/namespaces/{ns}/resourcequotas/{name}", "get", [&c](const HttpRequest& r) {
      absl::StatusOr<std::string> object = c.QuotaJson(r.PathParam("ns"), r.PathParam("name"));
      return object.ok() ? HttpResponse::Json(200, *object) : HttpResponse::Error(object.status());
    });
  }
  if (s.ok()) {
    s = add(HttpMethod::kGet, "/api/v1/namespaces/{ns}/resourcequotas", "list",
            [&c](const HttpRequest& r) { return HttpResponse::Json(200, c.QuotasJson(r.PathParam("ns"))); });
  }
  if (s.ok()) {
    s = add(HttpMethod::kGet, "/api/v1/resourcequotas", "list",
            [&c](const HttpRequest&) { return HttpResponse::Json(200, c.QuotasJson("")); });
  }
  if (s.ok()) {
    s = add(HttpMethod::kDelete, "/api/v1/namespaces/{ns}/resourcequotas/{name}", "delete",
            [&c](const HttpRequest& r) {
              absl::Status deleted = c.DeleteQuota(r.PathParam("ns"), r.PathParam("name"));
              if (!deleted.ok()) return HttpResponse::Error(deleted);
              return HttpResponse::Json(200, absl::StrCat("{\"deleted\":", JsonQuote(r.PathParam("name")), "}"));
            });
  }
  return s;
}

}  // namespace meridian::deploy
