#include "protocol/grpc_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "absl/strings/str_cat.h"
#include "api/grpc_predict_v2.grpc.pb.h"
#include "common/status_codes.h"
#include "protocol/grpc_infer_stream.h"
#include "protocol/grpc_tensor_codec.h"
#include "protocol/serving_routes.h"

namespace meridian::protocol {
namespace {

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(ToGrpcCode(status)), std::string(status.message()));
}

class InferenceGrpcService final : public inference::GRPCInferenceService::CallbackService {
 public:
  explicit InferenceGrpcService(const GrpcServerOptions& options) : options_(options) {}

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* context, const inference::ServerLiveRequest*,
                                       inference::ServerLiveResponse* response) override {
    if (auto denied = Admit(context, "health", "get", "ServerLive")) return Done(context, *denied);
    response->set_live(true);
    return Done(context, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* context, const inference::ServerReadyRequest*,
                                        inference::ServerReadyResponse* response) override {
    if (auto denied = Admit(context, "health", "get", "ServerReady")) return Done(context, *denied);
    response->set_ready(!options_.ready || options_.ready());
    return Done(context, grpc::Status::OK);
  }

  // As over REST, a registered version that is not loaded yet is loaded first (when models load
  // on first request); the reactor finishes from the loader's thread then.
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* context, const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override {
    if (auto denied = Admit(context, "models", "get", "ModelReady")) return Done(context, *denied);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    // `response` stays valid until Finish.
    options_.service->FindOrLoad(request->name(), request->version(),
                                 [reactor, response](absl::StatusOr<std::shared_ptr<serving::ServedModel>> served) {
                                   if (!served.ok() && served.status().code() != absl::StatusCode::kUnavailable) {
                                     return reactor->Finish(ToGrpc(served.status()));
                                   }
                                   response->set_ready(served.ok());
                                   reactor->Finish(grpc::Status::OK);
                                 });
    return reactor;
  }

  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* context,
                                           const inference::ServerMetadataRequest*,
                                           inference::ServerMetadataResponse* response) override {
    if (auto denied = Admit(context, "public", "get", "ServerMetadata")) return Done(context, *denied);
    response->set_name("meridian");
    response->set_version(options_.server_version);
    for (const char* extension : {"binary_tensor_data", "model_repository", "parameters", "kserve_v1"}) {
      response->add_extensions(extension);
    }
    return Done(context, grpc::Status::OK);
  }

  // As over REST, a registered version that is not loaded yet is loaded first (when models load
  // on first request); the reactor finishes from the loader's thread then.
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override {
    if (auto denied = Admit(context, "models", "get", "ModelMetadata")) return Done(context, *denied);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    serving::InferenceService* service = options_.service;
    // `request` and `response` stay valid until Finish.
    service->FindOrLoad(request->name(), request->version(),
                        [service, reactor, request, response](absl::StatusOr<std::shared_ptr<serving::ServedModel>> served) {
                          if (!served.ok()) return reactor->Finish(ToGrpc(served.status()));
                          FillModelMetadata(*service, request->name(), **served, response);
                          reactor->Finish(grpc::Status::OK);
                        });
    return reactor;
  }

  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context, const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override {
    if (auto denied = Admit(context, "predictions", "predict", "ModelInfer")) return Done(context, *denied);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::StatusOr<serving::InferenceRequest> decoded = DecodeGrpcInferRequest(*request);
    if (!decoded.ok()) {
      reactor->Finish(ToGrpc(decoded.status()));
      return reactor;
    }
    // The context stays valid until Finish, which comes after the batcher's last look.
    decoded->client_gone = [context] { return context->IsCancelled(); };
    // `request` and `response` stay valid until Finish, which the callback calls last.
    options_.service->Infer(std::move(*decoded), [reactor, response](absl::StatusOr<serving::InferenceResponse> result) {
      if (!result.ok()) {
        reactor->Finish(ToGrpc(result.status()));
        return;
      }
      EncodeGrpcInferResponse(*result, response);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

  InferStreamReactor* ModelStreamInfer(grpc::CallbackServerContext* context) override {
    if (auto denied = Admit(context, "predictions", "predict", "ModelStreamInfer")) return RefuseInferStream(*denied);
    return StartInferStream(context, options_.service, &streams_);
  }

  // Ends the open streams (see InferStreams::CloseAll), so that shutdown does not wait on them.
  void CloseStreams() { streams_.CloseAll(); }

 private:
  // The gate's refusal as a gRPC status (nullopt: go ahead), with what the HTTP answer would say.
  std::optional<grpc::Status> Admit(grpc::CallbackServerContext* context, absl::string_view resource,
                                    absl::string_view verb, absl::string_view method) {
    if (options_.gate == nullptr) return std::nullopt;
    const auto& metadata = context->client_metadata();
    auto authorization = metadata.find("authorization");
    const std::string client = PeerAddress(context->peer());
    const std::string target = absl::StrCat("/inference.GRPCInferenceService/", method);
    std::string certificate_name;
    // Only with mutual TLS is there a certificate to look at (auth_context() costs allocations).
    std::shared_ptr<const grpc::AuthContext> auth;
    if (options_.tls && !options_.tls->client_ca_file.empty()) auth = context->auth_context();
    if (auth && auth->IsPeerAuthenticated()) {
      for (const grpc::string_ref& name : auth->FindPropertyValues("x509_common_name")) {
        certificate_name.assign(name.data(), name.size());
      }
    }
    http::GateDecision decision = options_.gate->Check(
        {.resource = resource,
         .verb = verb,
         .namespace_name = http::kDefaultNamespace,
         .authorization = authorization == metadata.end()
                              ? absl::string_view()
                              : absl::string_view(authorization->second.data(), authorization->second.size()),
         .client_address = client,
         .method = "gRPC",
         .target = target,
         .request_id = {},
         .client_certificate = certificate_name});
    if (decision.allowed) return std::nullopt;
    for (const auto& [name, value] : decision.headers) {
      if (name == "Retry-After") context->AddTrailingMetadata("retry-after", value);
    }
    const grpc::StatusCode code = decision.status == 401   ? grpc::StatusCode::UNAUTHENTICATED
                                  : decision.status == 429 ? grpc::StatusCode::RESOURCE_EXHAUSTED
                                                           : grpc::StatusCode::PERMISSION_DENIED;
    return grpc::Status(code, decision.message);
  }

  // "ipv4:127.0.0.1:5000" / "ipv6:[::1]:5000" -> the address alone.
  static std::string PeerAddress(const std::string& peer) {
    absl::string_view p = peer;
    if (const size_t colon = p.find(':'); colon != absl::string_view::npos) p.remove_prefix(colon + 1);
    if (const size_t port = p.rfind(':'); port != absl::string_view::npos) p = p.substr(0, port);
    if (p.size() >= 2 && p.front() == '[' && p.back() == ']') p = p.substr(1, p.size() - 2);
    return std::string(p);
  }

  static void FillModelMetadata(const serving::InferenceService& service, const std::string& name,
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

  static grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context, const grpc::Status& status) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }

  GrpcServerOptions options_;
  InferStreams streams_;
};

}  // namespace

struct GrpcServer::Impl {
  std::unique_ptr<InferenceGrpcService> service;
  std::unique_ptr<grpc::Server> server;
};

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(const GrpcServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->service = std::make_unique<InferenceGrpcService>(options);
  grpc::ServerBuilder builder;
  int bound_port = 0;
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (options.tls) {
    const http::TlsFiles& files = *options.tls;
    auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        files.key_file, files.cert_file, files.client_ca_file, /*refresh_interval_sec=*/1);
    grpc::experimental::TlsServerCredentialsOptions tls(provider);
    tls.watch_identity_key_cert_pairs();
    if (files.client_ca_file.empty()) {
      tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    } else {
      tls.watch_root_certs();
      tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    }
    credentials = grpc::experimental::TlsServerCredentials(tls);
  }
  builder.AddListeningPort(absl::StrCat(options.host, ":", options.port), credentials, &bound_port);
  // gRPC sets SO_REUSEPORT by default, which lets a second server share a port silently; a port
  // in use must be an error, as it is for HTTP.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<uint64_t>(options.max_message_bytes, INT32_MAX)));
  builder.SetMaxSendMessageSize(INT32_MAX);
  builder.RegisterService(impl->service.get());
  impl->server = builder.BuildAndStart();
  if (!impl->server || bound_port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", options.host, ":", options.port));
  }
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl), static_cast<uint16_t>(bound_port)));
}

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl, uint16_t port) : impl_(std::move(impl)), port_(port) {}

GrpcServer::~GrpcServer() { Shutdown(absl::Seconds(5)); }

void GrpcServer::Shutdown(absl::Duration deadline) {
  if (!impl_->server) return;
  impl_->service->CloseStreams();
  impl_->server->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(deadline));
  impl_->server->Wait();
  impl_->server.reset();
}

}  // namespace meridian::protocol
