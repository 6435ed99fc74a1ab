#include "registry/registry_routes.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_codes.h"
#include "common/status_macros.h"
#include "registry/registry_json.h"

namespace meridian::registry {
namespace {

using http::HttpMethod;
using http::HttpRequest;
using http::HttpResponse;

// Who made a change, for created_by and the alias history: the authenticated caller.
std::string ActorOf(const HttpRequest& r) { return r.principal.empty() ? std::string("anonymous") : r.principal; }

template <typename T, typename Render>
HttpResponse Answer(const absl::StatusOr<T>& result, int status, Render render) {
  if (!result.ok()) return HttpResponse::Error(result.status());
  return HttpResponse::Json(status, render(*result));
}

HttpResponse NoContent(const absl::Status& status) {
  if (!status.ok()) return HttpResponse::Error(status);
  return HttpResponse{.status = 204, .content_type = "application/json"};
}

// JSON bodies: application/json, or no type / curl's default form type (curl -d @file.json).
absl::Status CheckJsonBody(const HttpRequest& r) {
  auto type = r.Header("Content-Type");
  if (!type || absl::StrContains(*type, "json") ||
      absl::StartsWith(*type, "application/x-www-form-urlencoded")) {
    return absl::OkStatus();
  }
  return UnsupportedMediaTypeError(absl::StrCat("Content-Type ", *type, " is not accepted; send application/json"));
}

// Streams an upload into the blob store; the handler commits it.
class BlobSink final : public http::BodySink {
 public:
  explicit BlobSink(std::unique_ptr<store::BlobWriter> writer) : writer_(std::move(writer)) {}
  absl::Status Write(absl::string_view chunk) override { return writer_->Write(chunk); }
  store::BlobWriter& writer() { return *writer_; }

 private:
  std::unique_ptr<store::BlobWriter> writer_;
};

// "key=value" of a tag filter.
absl::StatusOr<std::pair<std::string, std::string>> ParseTagFilter(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrCat("tag filter \"", text, "\" must look like key=value"));
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

std::optional<std::string> DeclaredDigest(const HttpRequest& r) {
  if (auto header = r.Header("X-Content-Digest"); header && !header->empty()) return std::string(*header);
  if (auto query = r.QueryParam("digest"); query && !query->empty()) return *query;
  return std::nullopt;
}

class Routes {
 public:
  Routes(const RegistryRoutesOptions& options, http::Router& router) : o_(options), router_(router) {}

  absl::Status AddAll() {
    Registry* reg = o_.registry;
    // Artifacts: upload (streamed), download (ranges).
    RETURN_IF_ERROR(router_.Add(http::Route{
        .method = HttpMethod::kPost, .pattern = "/api/v1/artifacts", .resource = "artifacts", .verb = "create",
        .max_body_bytes = o_.max_artifact_bytes,
        .body_sink = [reg](const HttpRequest& head) -> absl::StatusOr<std::shared_ptr<http::BodySink>> {
          if (auto declared = DeclaredDigest(head)) RETURN_IF_ERROR(store::ValidateDigest(*declared));
          ASSIGN_OR_RETURN(auto writer, reg->blobs().NewWriter());
          return std::make_shared<BlobSink>(std::move(writer));
        },
        .handler = http::Sync([reg](const HttpRequest& r) {
          if (!r.body_sink) return HttpResponse::Error(400, "the artifact upload has no body");
          auto& sink = static_cast<BlobSink&>(*r.body_sink);
          auto info = sink.writer().Commit(DeclaredDigest(r));
          return Answer(info, 201, [](const store::BlobInfo& i) {
            return absl::StrCat(R"({"digest":")", i.digest, R"(","size":)", i.size, "}");
          });
        })}));
    RETURN_IF_ERROR(Add(HttpMethod::kGet, "/api/v1/artifacts/{digest}", "artifacts", "get",
                        [reg](const HttpRequest& r) { return Download(*reg, r, std::string(r.PathParam("digest"))); }));

    // Models.
    RETURN_IF_ERROR(AddJson(HttpMethod::kPost, "/api/v1/models", "models", "create", [reg](const HttpRequest& r) {
      auto request = ParseCreateModel(r.body);
      if (!request.ok()) return HttpResponse::Error(request.status());
      return Answer(reg->CreateModel(*request, ActorOf(r)), 201, ModelJson);
    }));
    RETURN_IF_ERROR(Add(HttpMethod::kGet, "/api/v1/models", "models", "list", [reg](const HttpRequest& r) {
      store::ListModelsOptions options;
      options.name_prefix = r.QueryParam("namePrefix").value_or("");
      options.page_token = r.QueryParam("pageToken").value_or("");
      if (auto size = r.QueryParam("pageSize")) {
        if (!absl::SimpleAtoi(*size, &options.page_size)) {
          return HttpResponse::Error(400, "pageSize must be an integer between 1 and 1000");
        }
      }
      if (auto tag = r.QueryParam("tag"); tag && !tag->empty()) {
        auto kv = ParseTagFilter(*tag);
        if (!kv.ok()) return HttpResponse::Error(kv.status());
        options.tag = *kv;
      }
      return Answer(reg->ListModels(options), 200, ModelPageJson);
    }));
    RETURN_IF_ERROR(Add(HttpMethod::kGet, "/api/v1/models/{model}", "models", "get", [reg](const HttpRequest& r) {
      return Answer(reg->GetModel(r.PathParam("model")), 200, ModelJson);
    }));
    RETURN_IF_ERROR(AddJson(HttpMethod::kPatch, "/api/v1/models/{model}", "models", "update", [reg](const HttpRequest& r) {
      auto request = ParseUpdateModel(r.body);
      if (!request.ok()) return HttpResponse::Error(request.status());
      return Answer(reg->UpdateModel(r.PathParam("model"), *request), 200, ModelJson);
    }));
    RETURN_IF_ERROR(Add(HttpMethod::kDelete, "/api/v1/models/{model}", "models", "delete", [reg](const HttpRequest& r) {
      return NoContent(reg->DeleteModel(r.PathParam("model")));
    }));

    // Versions.
    RETURN_IF_ERROR(AddJson(HttpMethod::kPost, "/api/v1/models/{model}/versions", "versions", "create",
                            [reg](const HttpRequest& r) {
                              auto request = ParseRegisterVersion(r.PathParam("model"), r.body);
                              if (!request.ok()) return HttpResponse::Error(request.status());
                              return Answer(reg->RegisterVersion(*request, ActorOf(r)), 201, VersionJson);
                            }));
    RETURN_IF_ERROR(Add(HttpMethod::kGet, "/api/v1/models/{model}/versions", "versions", "list",
                        [reg](const HttpRequest& r) {
                          ListVersionsOptions options;
                          const std::string order = r.QueryParam("order").value_or("asc");
                          if (order != "asc" && order != "desc") {
                            return HttpResponse::Error(400, "order must be asc or desc");
                          }
                          options.order = order == "asc" ? VersionOrder::kAscending : VersionOrder::kDescending;
                          if (auto size = r.QueryParam("pageSize"); size && !absl::SimpleAtoi(*size, &options.page_size)) {
                            return HttpResponse::Error(400, "pageSize must be an integer between 1 and 1000");
                          }
                          options.page_token = r.QueryParam("pageToken").value_or("");
                          if (auto tag = r.QueryParam("tag"); tag && !tag->empty()) {
                            auto kv = ParseTagFilter(*tag);
                            if (!kv.ok()) return HttpResponse::Error(kv.status());
                            options.filter.tag = *kv;
                          }
                          auto conditions = ParseMetadataConditions(r.QueryParam("filter").value_or(""));
                          if (!conditions.ok()) return HttpResponse::Error(conditions.status());
                          options.filter.conditions = *std::move(conditions);
                          return Answer(reg->ListVersions(r.PathParam("model"), options), 200,
                                        [](const VersionPage& page) { return VersionPageJson(page); });
                        }));
    RETURN_IF_ERROR(Add(HttpMethod::kGet, "/api/v1/models/{model}/versions/{version}", "versions", "get",
                        [reg](const HttpRequest& r) {
                          return Answer(reg->GetVersion(r.PathParam("model"), r.PathParam("version")), 200,
                                        VersionJson);
                        }));
    RETURN_IF_ERROR(AddJson(HttpMethod::kPatch, "/api/v1/models/{model}/versions/{version}", "versions", "update",
                            [reg](const HttpRequest& r) {
                              auto request = ParseUpdateVersion(r.body);
                              if (!request.ok()) return HttpResponse::Error(request.status());
                              return Answer(reg->UpdateVersion(r.PathParam("model"), r.PathParam("version"), *request),
                                            200, VersionJson);
                            }));
    RETURN_IF_ERROR(Add(HttpMethod::kDelete, "/api/v1/models/{model}/versions/{version}", "versions", "delete",
                        [reg](const HttpRequest& r) {
                          return NoContent(reg->DeleteVersion(r.PathParam("model"), r.PathParam("version")));
                        }));
    RETURN_IF_ERROR(Add(HttpMethod::kGet, "/api/v1/models/{model}/versions/{version}/artifact", "artifacts", "get",
                        [reg](const HttpRequest& r) {
                          auto version = reg->GetVersion(r.PathParam("model"), r.PathParam("version"));
                          if (!version.ok()) return HttpResponse::Error(version.status());
                          return Download(*reg, r, version->artifact_digest);
                        }));

    // Aliases.
    RETURN_IF_ERROR(Add(HttpMethod::kGet, "/api/v1/models/{model}/aliases", "aliases", "list",
                        [reg](const HttpRequest& r) {
                          return Answer(reg->ListAliases(r.PathParam("model")), 200, AliasListJson);
                        }));
    RETURN_IF_ERROR(Add(HttpMethod::kGet, "/api/v1/models/{model}/aliases/{alias}", "aliases", "get",
                        [reg](const HttpRequest& r) {
                          return Answer(reg->GetAlias(r.PathParam("model"), r.PathParam("alias")), 200, AliasJson);
                        }));
    RETURN_IF_ERROR(AddJson(HttpMethod::kPut, "/api/v1/models/{model}/aliases/{alias}", "aliases", "update",
                            [reg](const HttpRequest& r) {
                              auto request = ParseSetAlias(r.body);
                              if (!request.ok()) return HttpResponse::Error(request.status());
                              return Answer(reg->SetAlias(r.PathParam("model"), r.PathParam("alias"), request->version,
                                                          ActorOf(r), request->reason),
                                            200, AliasJson);
                            }));
    RETURN_IF_ERROR(Add(HttpMethod::kDelete, "/api/v1/models/{model}/aliases/{alias}", "aliases", "delete",
                        [reg](const HttpRequest& r) {
                          return NoContent(reg->DeleteAlias(r.PathParam("model"), r.PathParam("alias"), ActorOf(r),
                                                            r.QueryParam("reason").value_or("")));
                        }));
    RETURN_IF_ERROR(Add(HttpMethod::kGet, "/api/v1/models/{model}/aliases/{alias}/history", "aliases", "get",
                        [reg](const HttpRequest& r) {
                          return Answer(reg->AliasHistory(r.PathParam("model"), r.PathParam("alias")), 200,
                                        AliasHistoryJson);
                        }));
    RETURN_IF_ERROR(AddJson(HttpMethod::kPost, "/api/v1/models/{model}/aliases/{alias}/rollback", "aliases",
                            "rollback", [reg](const HttpRequest& r) {
                              auto reason = ParseReason(r.body);
                              if (!reason.ok()) return HttpResponse::Error(reason.status());
                              return Answer(reg->Rollback(r.PathParam("model"), r.PathParam("alias"), ActorOf(r), *reason),
                                            200, AliasJson);
                            }));
    return absl::OkStatus();
  }

 private:
  static HttpResponse Download(Registry& reg, const HttpRequest& r, const std::string& digest) {
    auto info = reg.blobs().Stat(digest);
    if (!info.ok()) return HttpResponse::Error(info.status());
    auto path = reg.blobs().PathOf(digest);
    if (!path.ok()) return HttpResponse::Error(path.status());
    HttpResponse response = http::FileResponse(r, *path, info->size, "application/octet-stream");
    response.headers.emplace_back("X-Content-Digest", digest);
    return response;
  }

  absl::Status Add(HttpMethod method, std::string pattern, std::string resource, std::string verb,
                   http::SyncHandler handler, std::optional<uint64_t> max_body = 0) {
    return router_.Add(http::Route{.method = method, .pattern = std::move(pattern), .resource = std::move(resource),
                                   .verb = std::move(verb), .max_body_bytes = max_body,
                                   .handler = http::Sync(std::move(handler))});
  }

  // Routes with a JSON body: at most 1 MiB (metadata is capped at 64 KiB), JSON content type.
  absl::Status AddJson(HttpMethod method, std::string pattern, std::string resource, std::string verb,
                       http::SyncHandler handler) {
    return Add(method, std::move(pattern), std::move(resource), std::move(verb),
               [handler = std::move(handler)](const HttpRequest& r) {
                 if (absl::Status s = CheckJsonBody(r); !s.ok()) return HttpResponse::Error(s);
                 return handler(r);
               },
               1 << 20);
  }

  RegistryRoutesOptions o_;
  http::Router& router_;
};

}  // namespace

absl::Status AddRegistryRoutes(const RegistryRoutesOptions& options, http::Router& router) {
  if (options.registry == nullptr) return absl::InvalidArgumentError("registry routes need a registry");
  return Routes(options, router).AddAll();
}

}  // namespace meridian::registry
