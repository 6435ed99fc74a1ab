#include "health/health_routes.h"

#include "absl/strings/str_cat.h"
#include "common/build_info.h"
#include "common/json.h"
#include "common/status_macros.h"

namespace meridian::health {
namespace {

using http::HttpRequest;
using http::HttpResponse;

std::string ComponentsJson(const HealthState& state) {
  std::string out = "{";
  bool first = true;
  for (const ComponentStatus& c : state.Components()) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonQuoted(&out, c.name);
    absl::StrAppend(&out, ":{\"ready\":", c.ready ? "true" : "false");
    if (!c.required) out.append(",\"required\":false");
    if (!c.ready) {
      out.append(",\"reason\":");
      AppendJsonQuoted(&out, c.reason);
    }
    out.push_back('}');
  }
  out.push_back('}');
  return out;
}

std::string NotReadyReasons(const HealthState& state) {
  std::string out = "[";
  bool first = true;
  auto add = [&](const std::string& reason) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonQuoted(&out, reason);
  };
  if (state.Draining()) add("shutting down");
  for (const ComponentStatus& c : state.Components()) {
    if (!c.ready && c.required) add(absl::StrCat(c.name, ": ", c.reason));
  }
  out.push_back(']');
  return out;
}

http::Route Get(std::string pattern, http::SyncHandler handler) {
  return http::Route{.method = http::HttpMethod::kGet,
                     .pattern = std::move(pattern),
                     .resource = "health",
                     .verb = "get",
                     .max_body_bytes = 0,
                     .handler = http::Sync(std::move(handler))};
}

}  // namespace

absl::Status AddHealthRoutes(const HealthState* state, http::Router& router) {
  RETURN_IF_ERROR(router.Add(Get("/health", [state](const HttpRequest&) {
    const BuildInfo& build = GetBuildInfo();
    std::string body = absl::StrCat(
        "{\"live\":true,\"ready\":", state->Ready() ? "true" : "false",
        ",\"draining\":", state->Draining() ? "true" : "false",
        ",\"components\":", ComponentsJson(*state), ",\"version\":", JsonQuote(build.version),
        ",\"commit\":", JsonQuote(build.git_commit), "}");
    return HttpResponse::Json(200, std::move(body));
  })));
  RETURN_IF_ERROR(router.Add(Get("/health/live", [](const HttpRequest&) {
    return HttpResponse::Json(200, R"({"status":"live"})");
  })));
  RETURN_IF_ERROR(router.Add(Get("/health/ready", [state](const HttpRequest&) {
    if (state->Ready()) return HttpResponse::Json(200, R"({"status":"ready"})");
    return HttpResponse::Json(
        503, absl::StrCat(R"({"status":"not ready","reasons":)", NotReadyReasons(*state), "}"));
  })));
  RETURN_IF_ERROR(router.Add(Get("/v2/health/live", [](const HttpRequest&) {
    return HttpResponse::Json(200, R"({"live":true})");
  })));
  RETURN_IF_ERROR(router.Add(Get("/v2/health/ready", [state](const HttpRequest&) {
    return state->Ready() ? HttpResponse::Json(200, R"({"ready":true})")
                          : HttpResponse::Json(503, R"({"ready":false})");
  })));
  return absl::OkStatus();
}

}  // namespace meridian::health
