#include "protocol/serving_routes.h"
#include "common/json.h"

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "protocol/instances_codec.h"
#include "protocol/oip_json_codec.h"
#include "protocol/tensor_json.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace meridian::protocol {
namespace {

using http::HttpMethod;
using http::HttpRequest;
using http::HttpResponse;
using http::Route;

constexpr absl::string_view kHeaderLength = "Inference-Header-Content-Length";

// Errors as OIP wants them ({"error": "..."}); a model that is loading says when to come back.
HttpResponse ErrorResponse(const absl::Status& status) {
  HttpResponse response = HttpResponse::Error(status);
  if (status.code() == absl::StatusCode::kUnavailable || status.code() == absl::StatusCode::kResourceExhausted) {
    response.headers.emplace_back("Retry-After", "1");
  }
  return response;
}

std::string Finish(rapidjson::StringBuffer& buffer) { return std::string(buffer.GetString(), buffer.GetSize()); }

void WriteSpecs(const std::vector<serving::TensorSpec>& specs, JsonWriter& writer) {
  writer.StartArray();
  for (const serving::TensorSpec& spec : specs) {
    writer.StartObject();
    writer.Key("name");
    writer.String(spec.name.c_str());
    writer.Key("datatype");
    writer.String(std::string(serving::DataTypeName(spec.type)).c_str());
    writer.Key("shape");
    writer.StartArray();
    for (int64_t dim : spec.shape) writer.Int64(dim);
    writer.EndArray();
    writer.EndObject();
  }
  writer.EndArray();
}

// Shares the Responder between the handler and the inference callback (std::function copies).
using SharedResponder = std::shared_ptr<http::Responder>;

class ServingRoutes {
 public:
  explicit ServingRoutes(const ServingRoutesOptions& options) : options_(options) {}

  absl::Status Add(http::Router& router) {
    auto self = std::make_shared<ServingRoutes>(*this);
    auto sync = [self](HttpResponse (ServingRoutes::*method)(const HttpRequest&)) {
      return http::Sync([self, method](const HttpRequest& r) { return ((*self).*method)(r); });
    };
    auto async = [self](void (ServingRoutes::*method)(HttpRequest, http::Responder)) {
      return [self, method](HttpRequest r, http::Responder responder) {
        ((*self).*method)(std::move(r), std::move(responder));
      };
    };
    const std::vector<Route> routes = {
        {HttpMethod::kGet, "/v2", "public", "get", 0, {}, sync(&ServingRoutes::ServerMetadata)},
        {HttpMethod::kGet, "/v2/models/{name}", "models", "get", 0, {}, async(&ServingRoutes::ModelMetadata)},
        {HttpMethod::kGet, "/v2/models/{name}/versions/{version}", "models", "get", 0, {},
         async(&ServingRoutes::ModelMetadata)},
        {HttpMethod::kGet, "/v2/models/{name}/ready", "models", "get", 0, {}, async(&ServingRoutes::ModelReady)},
        {HttpMethod::kGet, "/v2/models/{name}/versions/{version}/ready", "models", "get", 0, {},
         async(&ServingRoutes::ModelReady)},
        {HttpMethod::kPost, "/v2/models/{name}/infer", "predictions", "predict", options_.max_request_bytes, {},
         async(&ServingRoutes::Infer)},
        {HttpMethod::kPost, "/v2/models/{name}/versions/{version}/infer", "predictions", "predict",
         options_.max_request_bytes, {}, async(&ServingRoutes::Infer)},
        {HttpMethod::kPost, "/v2/repository/index", "models", "list", 1 << 16, {}, sync(&ServingRoutes::Index)},
        {HttpMethod::kPost, "/v2/repository/models/{name}/load", "models", "update", 1 << 16, {},
         async(&ServingRoutes::Load)},
        {HttpMethod::kPost, "/v2/repository/models/{name}/unload", "models", "update", 1 << 16, {},
         async(&ServingRoutes::Unload)},
        {HttpMethod::kGet, "/v1/models/{name}", "models", "get", 0, {}, async(&ServingRoutes::V1Status)},
        {HttpMethod::kPost, "/v1/models/{name}", "predictions", "predict", options_.max_request_bytes, {},
         async(&ServingRoutes::V1Predict)},
        {HttpMethod::kPost, "/predict", "predictions", "predict", options_.max_request_bytes, {},
         async(&ServingRoutes::Predict)},
        {HttpMethod::kPost, "/predict/{name}", "predictions", "predict", options_.max_request_bytes, {},
         async(&ServingRoutes::Predict)},
    };
    for (const Route& route : routes) {
      if (absl::Status added = router.Add(route); !added.ok()) return added;
    }
    return absl::OkStatus();
  }

 private:
  serving::ModelRepository& repository() { return options_.service->repository(); }

  HttpResponse ServerMetadata(const HttpRequest&) {
    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartObject();
    writer.Key("name");
    writer.String("meridian");
    writer.Key("version");
    writer.String(options_.server_version.c_str());
    writer.Key("extensions");
    writer.StartArray();
    for (const char* extension : {"binary_tensor_data", "model_repository", "parameters", "kserve_v1"}) {
      writer.String(extension);
    }
    writer.EndArray();
    writer.Key("backends");
    writer.StartObject();
    for (const serving::Backend* backend : options_.backends->backends()) {
      writer.Key(backend->name().c_str());
      writer.String(backend->framework_version().c_str());
    }
    writer.EndObject();
    writer.EndObject();
    return HttpResponse::Json(200, Finish(buffer));
  }

  // A registered version that is not loaded yet is loaded first (when models load on first
  // request): clients read the metadata to build their first request.
  void ModelMetadata(HttpRequest request, http::Responder responder) {
    const std::string name(request.PathParam("name"));
    auto shared_responder = std::make_shared<http::Responder>(std::move(responder));
    serving::InferenceService* service = options_.service;
    service->FindOrLoad(name, request.PathParam("version"),
                        [service, name, shared_responder](absl::StatusOr<std::shared_ptr<serving::ServedModel>> served) {
                          if (!served.ok()) return shared_responder->Send(ErrorResponse(served.status()));
                          shared_responder->Send(ModelMetadataResponse(*service, name, **served));
                        });
  }

  static HttpResponse ModelMetadataResponse(const serving::InferenceService& service, const std::string& name,
                                            const serving::ServedModel& served) {
    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartObject();
    writer.Key("name");
    writer.String(name.c_str());
    writer.Key("versions");
    writer.StartArray();
    for (const std::string& version : service.MetadataVersions(name, served)) writer.String(version.c_str());
    writer.EndArray();
    writer.Key("platform");
    writer.String(PlatformName(served.framework()).c_str());
    writer.Key("inputs");
    WriteSpecs(served.signature().inputs, writer);
    writer.Key("outputs");
    WriteSpecs(served.signature().outputs, writer);
    writer.EndObject();
    return HttpResponse::Json(200, Finish(buffer));
  }

  // Like metadata, readiness loads a registered version that is not loaded yet (when models load
  // on first request): clients ask it before their first request (Triton's examples do), and a
  // model that loads on demand is ready to them once it has loaded.
  void ModelReady(HttpRequest request, http::Responder responder) {
    auto shared_responder = std::make_shared<http::Responder>(std::move(responder));
    options_.service->FindOrLoad(
        request.PathParam("name"), request.PathParam("version"),
        [shared_responder](absl::StatusOr<std::shared_ptr<serving::ServedModel>> served) {
          if (served.ok()) return shared_responder->Send(HttpResponse::Json(200, R"({"ready":true})"));
          if (served.status().code() == absl::StatusCode::kUnavailable) {
            HttpResponse response = HttpResponse::Json(503, R"({"ready":false})");
            response.headers.emplace_back("Retry-After", "1");
            return shared_responder->Send(std::move(response));
          }
          shared_responder->Send(ErrorResponse(served.status()));
        });
  }

  void Infer(HttpRequest request, http::Responder responder) {
    std::optional<size_t> json_length;
    if (std::optional<absl::string_view> header = request.Header(kHeaderLength)) {
      absl::StatusOr<size_t> length = ParseHeaderLength(*header, request.body.size());
      if (!length.ok()) return responder.Send(ErrorResponse(length.status()));
      json_length = *length;
    }
    // The body moves into shared ownership: binary tensors view it without a copy.
    auto body = std::make_shared<const std::string>(std::move(request.body));
    absl::StatusOr<serving::InferenceRequest> decoded = DecodeInferRequest(body, json_length);
    if (!decoded.ok()) return responder.Send(ErrorResponse(decoded.status()));
    decoded->model = std::string(request.PathParam("name"));
    decoded->version = std::string(request.PathParam("version"));
    decoded->client_gone = request.client_gone;
    auto shared_responder = std::make_shared<http::Responder>(std::move(responder));
    auto shared_request = std::make_shared<serving::InferenceRequest>(*decoded);  // tensors share bytes
    options_.service->Infer(std::move(*decoded), [shared_responder, shared_request](
                                                     absl::StatusOr<serving::InferenceResponse> result) {
      if (!result.ok()) return shared_responder->Send(ErrorResponse(result.status()));
      EncodedBody encoded = EncodeInferResponse(*result, *shared_request);
      HttpResponse response = HttpResponse::Json(200, std::move(encoded.body));
      if (encoded.json_length) {
        response.content_type = "application/octet-stream";
        response.headers.emplace_back(std::string(kHeaderLength), std::to_string(*encoded.json_length));
      }
      shared_responder->Send(std::move(response));
    });
  }

  // Every model of the registry, loaded or not (Triton's repository index); {"ready": true} in
  // the body keeps the ready versions only.
  HttpResponse Index(const HttpRequest& request) {
    bool ready_only = false;
    if (!request.body.empty()) {
      rapidjson::Document doc;
      if (!ParseUntrustedJson(request.body, doc).ok() || !doc.IsObject()) {
        return ErrorResponse(absl::InvalidArgumentError(R"(index request body must be a JSON object, such as {"ready": true})"));
      }
      if (auto ready = doc.FindMember("ready"); ready != doc.MemberEnd()) {
        if (!ready->value.IsBool()) return ErrorResponse(absl::InvalidArgumentError("'ready' must be true or false"));
        ready_only = ready->value.GetBool();
      }
    }
    absl::StatusOr<std::vector<serving::ModelVersionStatus>> index = repository().IndexWithUnloaded();
    if (!index.ok()) return ErrorResponse(index.status());
    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartArray();
    for (serving::ModelVersionStatus& status : *index) {
      if (status.version.empty()) {
        // Not loaded as a model, but its name may be a deployment's, which serves it.
        if (auto served = options_.service->Find(status.model, ""); served.ok()) {
          status.version = (*served)->version();
          status.state = serving::ModelState::kReady;
          status.reason.clear();
        }
      }
      if (ready_only && status.state != serving::ModelState::kReady) continue;
      writer.StartObject();
      writer.Key("name");
      writer.String(status.model.c_str());
      if (!status.version.empty()) {
        writer.Key("version");
        writer.String(status.version.c_str());
      }
      writer.Key("state");
      writer.String(std::string(serving::ModelStateName(status.state)).c_str());
      if (!status.reason.empty()) {
        writer.Key("reason");
        writer.String(status.reason.c_str());
      }
      writer.EndObject();
    }
    writer.EndArray();
    return HttpResponse::Json(200, Finish(buffer));
  }

  // Runs a blocking repository call on the control pool and answers when it is done.
  void RunControl(http::Responder responder, std::function<absl::Status()> work) {
    auto shared_responder = std::make_shared<http::Responder>(std::move(responder));
    const bool queued = options_.control_pool->TrySubmit([shared_responder, work = std::move(work)] {
      absl::Status status = work();
      shared_responder->Send(status.ok() ? HttpResponse::Json(200, "{}") : ErrorResponse(status));
    });
    if (!queued) shared_responder->Send(ErrorResponse(absl::ResourceExhaustedError("too many model loads queued")));
  }

  void Load(HttpRequest request, http::Responder responder) {
    serving::LoadOptions load;
    if (!request.body.empty()) {
      rapidjson::Document doc;
      if (!ParseUntrustedJson(request.body, doc).ok() || !doc.IsObject()) {
        return responder.Send(ErrorResponse(absl::InvalidArgumentError("load request body must be a JSON object")));
      }
      // {"parameters": {"version_policy": {...}}}; the policy may also come as a JSON string.
      if (auto params = doc.FindMember("parameters"); params != doc.MemberEnd() && params->value.IsObject()) {
        if (auto policy = params->value.FindMember("version_policy"); policy != params->value.MemberEnd()) {
          std::string text;
          if (policy->value.IsString()) {
            text = policy->value.GetString();
          } else {
            rapidjson::StringBuffer buffer;
            JsonWriter writer(buffer);
            policy->value.Accept(writer);
            text = Finish(buffer);
          }
          absl::StatusOr<serving::VersionPolicy> parsed = serving::ParseVersionPolicy(text);
          if (!parsed.ok()) return responder.Send(ErrorResponse(parsed.status()));
          load.policy = *parsed;
        }
      }
    }
    const std::string name(request.PathParam("name"));
    serving::ModelRepository* repo = &repository();
    RunControl(std::move(responder), [repo, name, load] { return repo->Load(name, load); });
  }

  void Unload(HttpRequest request, http::Responder responder) {
    const std::string name(request.PathParam("name"));
    serving::ModelRepository* repo = &repository();
    RunControl(std::move(responder), [repo, name] { return repo->Unload(name); });
  }

  // Loads the model first as ModelReady does.
  void V1Status(HttpRequest request, http::Responder responder) {
    auto shared_responder = std::make_shared<http::Responder>(std::move(responder));
    const std::string name(request.PathParam("name"));
    options_.service->FindOrLoad(name, "", [shared_responder, name](absl::StatusOr<std::shared_ptr<serving::ServedModel>> served) {
      if (!served.ok() && served.status().code() != absl::StatusCode::kUnavailable) {
        return shared_responder->Send(ErrorResponse(served.status()));
      }
      rapidjson::StringBuffer buffer;
      JsonWriter writer(buffer);
      writer.StartObject();
      writer.Key("name");
      writer.String(name.c_str());
      writer.Key("ready");
      writer.Bool(served.ok());
      writer.EndObject();
      shared_responder->Send(HttpResponse::Json(200, Finish(buffer)));
    });
  }

  void V1Predict(HttpRequest request, http::Responder responder) {
    absl::string_view target = request.PathParam("name");
    if (!absl::ConsumeSuffix(&target, ":predict")) {
      return responder.Send(ErrorResponse(absl::NotFoundError("KServe V1 supports POST /v1/models/{name}:predict")));
    }
    RunInstances(std::string(target), "", request, /*name_in_answer=*/false, std::move(responder));
  }

  void Predict(HttpRequest request, http::Responder responder) {
    RunInstances(std::string(request.PathParam("name")), "", request, /*name_in_answer=*/true, std::move(responder));
  }

  // V1 and /predict: {"instances": [...]} -> {"predictions": [...]}. /predict also takes the model
  // (and optionally "version") in the body.
  void RunInstances(std::string model, std::string version, const HttpRequest& request, bool name_in_answer,
                    http::Responder responder) {
    const std::string& body = request.body;
    rapidjson::Document doc;
    if (absl::Status parsed = ParseUntrustedJson(body, doc); !parsed.ok()) {
      return responder.Send(ErrorResponse(absl::InvalidArgumentError(absl::StrCat("request body: ", parsed.message()))));
    }
    if (!doc.IsObject()) return responder.Send(ErrorResponse(absl::InvalidArgumentError("request body must be a JSON object")));
    for (const char* field : {"model", "version"}) {  // a version 1 must not quietly mean the latest
      if (auto member = doc.FindMember(field); member != doc.MemberEnd() && !member->value.IsString()) {
        return responder.Send(ErrorResponse(absl::InvalidArgumentError(
            absl::StrCat("'", field, "' must be a string"))));
      }
    }
    if (auto m = doc.FindMember("model"); m != doc.MemberEnd()) {
      if (!model.empty() && model != m->value.GetString()) {
        return responder.Send(ErrorResponse(absl::InvalidArgumentError("the body names a different model than the path")));
      }
      model = m->value.GetString();
    }
    if (auto v = doc.FindMember("version"); v != doc.MemberEnd()) version = v->value.GetString();
    if (model.empty()) {
      return responder.Send(ErrorResponse(absl::InvalidArgumentError(
          "name the model: POST /predict/{model}, or \"model\" in the body")));
    }
    if (!doc.HasMember("instances")) {
      return responder.Send(ErrorResponse(absl::InvalidArgumentError("request needs an 'instances' array")));
    }
    // Decoding the instances needs the version's signature, so a version that is not loaded yet
    // is loaded first (when models load on first request).
    auto shared_doc = std::make_shared<rapidjson::Document>(std::move(doc));
    auto shared_responder = std::make_shared<http::Responder>(std::move(responder));
    serving::InferenceService* service = options_.service;
    service->FindOrLoad(model, version, [service, model, shared_doc, shared_responder, name_in_answer,
                                         client_gone = request.client_gone](
                                            absl::StatusOr<std::shared_ptr<serving::ServedModel>> served) {
      if (!served.ok()) return shared_responder->Send(ErrorResponse(served.status()));
      RunDecodedInstances(*service, model, **served, (*shared_doc)["instances"], name_in_answer, client_gone,
                          shared_responder);
    });
  }

  static void RunDecodedInstances(serving::InferenceService& service, const std::string& model,
                                  const serving::ServedModel& served, const rapidjson::Value& instances,
                                  bool name_in_answer, std::function<bool()> client_gone,
                                  std::shared_ptr<http::Responder> shared_responder) {
    absl::StatusOr<std::vector<serving::Tensor>> inputs = DecodeInstances(instances, served.signature());
    if (!inputs.ok()) return shared_responder->Send(ErrorResponse(inputs.status()));
    serving::InferenceRequest inference{.model = model, .version = served.version(), .inputs = std::move(*inputs)};
    inference.client_gone = std::move(client_gone);
    service.Infer(std::move(inference), [shared_responder,
                                         name_in_answer](absl::StatusOr<serving::InferenceResponse> result) {
      if (!result.ok()) return shared_responder->Send(ErrorResponse(result.status()));
      rapidjson::StringBuffer buffer;
      JsonWriter writer(buffer);
      writer.StartObject();
      if (name_in_answer) {
        writer.Key("model");
        writer.String(result->model.c_str());
        writer.Key("version");
        writer.String(result->version.c_str());
      }
      writer.Key("predictions");
      WritePredictions(result->outputs, writer);
      writer.EndObject();
      shared_responder->Send(HttpResponse::Json(200, Finish(buffer)));
    });
  }

  ServingRoutesOptions options_;
};

}  // namespace

std::string PlatformName(absl::string_view framework) {
  if (framework == "torchscript") return "pytorch_torchscript";
  if (framework == "onnx") return "onnx_opencv";
  if (framework == "xgboost") return "xgboost";
  return std::string(framework);
}

absl::Status AddServingRoutes(const ServingRoutesOptions& options, http::Router& router) {
  return ServingRoutes(options).Add(router);
}

}  // namespace meridian::protocol
