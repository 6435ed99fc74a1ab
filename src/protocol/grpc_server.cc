#include "protocol/grpc_server.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/grpc_predict_v2.pb.h"
#include "http/http2_server.h"
#include "protocol/grpc_call.h"
#include "protocol/grpc_infer_response_writer.h"
#include "protocol/grpc_infer_stream.h"
#include "protocol/grpc_tensor_codec.h"
#include "protocol/serving_routes.h"

namespace meridian::protocol {
namespace {

constexpr absl::string_view kServicePrefix = "/inference.GRPCInferenceService/";

// Each method, with the resource and verb the gate checks it as (the same as its REST route).
enum class Method {
  kServerLive,
  kServerReady,
  kModelReady,
  kServerMetadata,
  kModelMetadata,
  kModelInfer,
  kModelStreamInfer,
};
struct MethodInfo {
  absl::string_view name;
  Method method;
  absl::string_view resource;
  absl::string_view verb;
};
constexpr MethodInfo kMethods[] = {
    {"ServerLive", Method::kServerLive, "health", "get"},
    {"ServerReady", Method::kServerReady, "health", "get"},
    {"ModelReady", Method::kModelReady, "models", "get"},
    {"ServerMetadata", Method::kServerMetadata, "public", "get"},
    {"ModelMetadata", Method::kModelMetadata, "models", "get"},
    {"ModelInfer", Method::kModelInfer, "predictions", "predict"},
    {"ModelStreamInfer", Method::kModelStreamInfer, "predictions", "predict"},
};

// Ends `call` with the answer `framed` (a message as FrameMessage gives it), from any thread: it is
// handed to the call's I/O thread to send.
void ReplyFramed(const std::shared_ptr<GrpcCall>& call, std::string framed) {
  call->Run([call, framed = std::move(framed)]() mutable {
    if (call->deadline() != absl::InfiniteFuture() && absl::Now() >= call->deadline()) {
      return call->Finish(absl::DeadlineExceededError("the call's deadline (grpc-timeout) passed before its answer"));
    }
    call->SendMessage(std::move(framed));
    call->Finish(absl::OkStatus());
  });
}

// Ends `call` with `response` or an error, from any thread; the message is serialized here.
template <class Response>
void Reply(const std::shared_ptr<GrpcCall>& call, const absl::StatusOr<Response>& response) {
  if (!response.ok()) {
    return call->Run([call, status = response.status()] { call->Finish(status); });
  }
  ReplyFramed(call, FrameMessage(*response));
}

void FillModelMetadata(const serving::InferenceService& service, const std::string& name,
                       const serving::ServedModel& served, inference::ModelMetadataResponse* response) {
  response->set_name(name);
  for (std::string& version : service.MetadataVersions(name, served)) response->add_versions(std::move(version));
  response->set_platform(PlatformName(served.framework()));
  auto fill = [](const serving::TensorSpec& spec, inference::ModelMetadataResponse::TensorMetadata* out) {
    out->set_name(spec.name);
    out->set_datatype(std::string(serving::DataTypeName(spec.type)));
    for (int64_t dim : spec.shape) out->add_shape(dim);
  };
  for (const auto& spec : served.signature().inputs) fill(spec, response->add_inputs());
  for (const auto& spec : served.signature().outputs) fill(spec, response->add_outputs());
}

class InferenceGrpcHandler final : public http::Http2Handler {
 public:
  explicit InferenceGrpcHandler(GrpcServerOptions options) : options_(std::move(options)) {}

  void OnStream(std::shared_ptr<http::Http2Stream> stream) override {
    // gRPC over HTTP/2: a POST of content-type application/grpc[+proto] to /service/method. Other
    // requests get the HTTP status the protocol names, without a gRPC status.
    if (stream->Header(":method") != "POST") return stream->SendHeaders({{":status", "405"}}, true);
    if (!absl::StartsWith(stream->Header("content-type"), "application/grpc")) {
      return stream->SendHeaders({{":status", "415"}}, true);
    }
    auto call = std::make_shared<GrpcCall>(stream, options_.max_message_bytes);
    const absl::string_view path = stream->Header(":path");
    const MethodInfo* method = nullptr;
    for (const MethodInfo& info : kMethods) {
      if (absl::StartsWith(path, kServicePrefix) && path.substr(kServicePrefix.size()) == info.name) method = &info;
    }
    if (method == nullptr) {
      return call->Finish(absl::UnimplementedError(absl::StrCat("unknown method ", path, "; this server implements ",
                                                                "inference.GRPCInferenceService")));
    }
    const absl::string_view encoding = stream->Header("grpc-encoding");
    if (std::optional<GrpcEncoding> parsed = ParseGrpcEncoding(encoding)) {
      call->set_encoding(*parsed);
    } else {
      return call->Finish(absl::UnimplementedError(absl::StrCat("grpc-encoding ", encoding,
                                                                " is not supported; use one of ", kGrpcAcceptEncoding)));
    }
    if (const absl::string_view timeout = stream->Header("grpc-timeout"); !timeout.empty()) {
      std::optional<absl::Duration> parsed = ParseGrpcTimeout(timeout);
      if (!parsed) {
        return call->Finish(absl::InvalidArgumentError(absl::StrCat("malformed grpc-timeout \"", timeout, "\"")));
      }
      call->set_deadline(absl::Now() + *parsed);
    }
    if (Admit(*call, *method)) Serve(call, method->method);
  }

 private:
  // Asks the gate; a refusal ends the call with the gRPC status matching the HTTP answer.
  bool Admit(GrpcCall& call, const MethodInfo& method) {
    if (options_.gate == nullptr) return true;
    http::Http2Stream& stream = call.stream();
    const std::string target = absl::StrCat(kServicePrefix, method.name);
    http::GateDecision decision = options_.gate->Check({.resource = method.resource,
                                                        .verb = method.verb,
                                                        .namespace_name = http::kDefaultNamespace,
                                                        .authorization = stream.Header("authorization"),
                                                        .client_address = stream.peer_address(),
                                                        .method = "gRPC",
                                                        .target = target,
                                                        .request_id = {},
                                                        .client_certificate = stream.client_certificate()});
    if (decision.allowed) return true;
    http::Http2Stream::HeaderList trailers;
    for (const auto& [name, value] : decision.headers) {
      if (name == "Retry-After") trailers.emplace_back("retry-after", value);
    }
    const absl::Status status = decision.status == 401   ? absl::UnauthenticatedError(decision.message)
                                : decision.status == 429 ? absl::ResourceExhaustedError(decision.message)
                                                         : absl::PermissionDeniedError(decision.message);
    call.Finish(status, trailers);
    return false;
  }

  // Reads the call's one request message, then runs `method` on it.
  template <class Request>
  static void ReadUnary(const std::shared_ptr<GrpcCall>& call,
                        std::function<void(std::shared_ptr<Request>)> method) {
    GrpcCall::StartUnary(call, [method = std::move(method)](const std::shared_ptr<GrpcCall>& call) {
      std::shared_ptr<Request> request = Parse<Request>(call->request_message());
      if (request == nullptr) return call->Finish(NotA<Request>());
      method(std::move(request));
    });
  }

  // Null when `bytes` is not a valid Request.
  template <class Request>
  static std::shared_ptr<Request> Parse(absl::string_view bytes) {
    auto request = std::make_shared<Request>();
    if (!request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return nullptr;
    return request;
  }

  template <class Request>
  static absl::Status NotA() {
    return absl::InvalidArgumentError(
        absl::StrCat("the request message is not a valid ", Request::descriptor()->full_name()));
  }

  // ModelInfer, once its request message is in.
  static void Infer(serving::InferenceService& service, const std::shared_ptr<GrpcCall>& call) {
    std::shared_ptr<inference::ModelInferRequest> parsed;
    // The decoded tensors view the call's message and hold the call, which keeps it: a copy of the
    // request (a shadow deployment's) may outlive the answer.
    std::optional<absl::StatusOr<serving::InferenceRequest>> read =
        DecodeGrpcInferMessage(call->request_message(), std::shared_ptr<const void>(call, call.get()), &parsed);
    if (!read) return call->Finish(NotA<inference::ModelInferRequest>());
    absl::StatusOr<serving::InferenceRequest>& decoded = *read;
    if (!decoded.ok()) return call->Finish(decoded.status());
    decoded->client_gone = [call] { return call->cancelled(); };
    // A connection that carries many calls at once (a gRPC channel's way) has their answers go out
    // together; one with a lone call is like an HTTP/1.1 connection, where a batch run on the I/O
    // thread holds up the thread's other connections (see InferenceRequest).
    decoded->may_execute_batch_inline = call->stream().streams_on_connection() > 1;
    service.Infer(std::move(*decoded), [call](absl::StatusOr<serving::InferenceResponse> result) {
      if (!result.ok()) return Reply(call, absl::StatusOr<inference::ModelInferResponse>(result.status()));
      ReplyFramed(call, FramedInferResponse(*result));
    });
  }

  void Serve(const std::shared_ptr<GrpcCall>& call, Method method) {
    serving::InferenceService* service = options_.service;
    switch (method) {
      case Method::kServerLive:
        return ReadUnary<inference::ServerLiveRequest>(call, [call](auto) {
          inference::ServerLiveResponse response;
          response.set_live(true);
          Reply(call, absl::StatusOr<inference::ServerLiveResponse>(response));
        });
      case Method::kServerReady:
        return ReadUnary<inference::ServerReadyRequest>(call, [call, ready = options_.ready](auto) {
          inference::ServerReadyResponse response;
          response.set_ready(!ready || ready());
          Reply(call, absl::StatusOr<inference::ServerReadyResponse>(response));
        });
      case Method::kServerMetadata:
        return ReadUnary<inference::ServerMetadataRequest>(call, [call, version = options_.server_version](auto) {
          inference::ServerMetadataResponse response;
          response.set_name("meridian");
          response.set_version(version);
          for (const char* extension : {"binary_tensor_data", "model_repository", "parameters", "kserve_v1"}) {
            response.add_extensions(extension);
          }
          Reply(call, absl::StatusOr<inference::ServerMetadataResponse>(response));
        });
      // As over REST, a registered version that is not loaded yet is loaded first (when models
      // load on first request); the answer then comes from the loader's thread.
      case Method::kModelReady:
        return ReadUnary<inference::ModelReadyRequest>(call, [call, service](auto request) {
          service->FindOrLoad(request->name(), request->version(),
                              [call](absl::StatusOr<std::shared_ptr<serving::ServedModel>> served) {
                                if (!served.ok() && served.status().code() != absl::StatusCode::kUnavailable) {
                                  return Reply(call, absl::StatusOr<inference::ModelReadyResponse>(served.status()));
                                }
                                inference::ModelReadyResponse response;
                                response.set_ready(served.ok());
                                Reply(call, absl::StatusOr<inference::ModelReadyResponse>(response));
                              });
        });
      case Method::kModelMetadata:
        return ReadUnary<inference::ModelMetadataRequest>(call, [call, service](auto request) {
          service->FindOrLoad(request->name(), request->version(),
                              [call, service, request](absl::StatusOr<std::shared_ptr<serving::ServedModel>> served) {
                                if (!served.ok()) {
                                  return Reply(call, absl::StatusOr<inference::ModelMetadataResponse>(served.status()));
                                }
                                inference::ModelMetadataResponse response;
                                FillModelMetadata(*service, request->name(), **served, &response);
                                Reply(call, absl::StatusOr<inference::ModelMetadataResponse>(response));
                              });
        });
      case Method::kModelInfer:
        return GrpcCall::StartUnary(call, [service](const std::shared_ptr<GrpcCall>& call) { Infer(*service, call); });
      case Method::kModelStreamInfer:
        return StartInferStream(call, service, streams_);
    }
  }

 public:
  // Ends the open streams (see InferStreams::CloseAll), so that shutdown does not wait on them.
  void CloseStreams() { streams_->CloseAll(); }

 private:
  GrpcServerOptions options_;
  std::shared_ptr<InferStreams> streams_ = std::make_shared<InferStreams>();
};

}  // namespace

struct GrpcServer::Impl {
  std::unique_ptr<InferenceGrpcHandler> handler;
  std::unique_ptr<http::Http2Server> server;
  bool stopped = false;
};

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(const GrpcServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  GrpcServerOptions clamped = options;
  // Protobuf parses messages of up to 2 GiB - 1.
  clamped.max_message_bytes = std::min<uint64_t>(options.max_message_bytes, INT32_MAX);
  impl->handler = std::make_unique<InferenceGrpcHandler>(std::move(clamped));
  absl::StatusOr<std::unique_ptr<http::Http2Server>> server = http::Http2Server::Start(
      {.host = options.host,
       .port = options.port,
       .io_threads = options.io_threads,
       .io_busy_poll = options.io_busy_poll,
       .tls = options.tls,
       .idle_timeout = options.idle_timeout,
       .connection_limit = options.connection_limit},
      impl->handler.get());
  if (server.status().code() == absl::StatusCode::kFailedPrecondition) {
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", options.host, ":", options.port, " (",
                                               server.status().message(), ")"));
  }
  if (!server.ok()) return absl::Status(server.status().code(), absl::StrCat("gRPC: ", server.status().message()));
  impl->server = *std::move(server);
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcServer::~GrpcServer() { Shutdown(absl::Seconds(5)); }

uint16_t GrpcServer::port() const { return impl_->server->port(); }

void GrpcServer::Shutdown(absl::Duration deadline) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->handler->CloseStreams();
  impl_->server->Shutdown(deadline);
}

}  // namespace meridian::protocol
