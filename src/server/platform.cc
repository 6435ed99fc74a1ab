#include "server/platform.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "auth/access_control.h"
#include "auth/audit_log.h"
#include "auth/auth_routes.h"
#include "auth/jwt_verifier.h"
#include "auth/request_authorizer.h"
#include "common/blas_kernels.h"
#include "common/build_info.h"
#include "common/cpu_limits.h"
#include "common/memory_limits.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "health/health_routes.h"
#include "health/health_state.h"
#include "http/access_log.h"
#include "http/connection_limit.h"
#include "http/http_server.h"
#include "metrics/exposition.h"
#include "metrics/http_metrics.h"
#include "metrics/inference_metrics.h"
#include "metrics/process_collector.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "registry/registry.h"
#include "registry/registry_routes.h"
#include "protocol/grpc_server.h"
#include "protocol/serving_routes.h"
#include "server/backends.h"
#include "server/child_process_model_validator.h"
#include "server/connection_limit_collector.h"
#include "server/registry_model_source.h"
#include "serving/inference_service.h"
#include "serving/local_response_cache.h"
#include "serving/redis_response_cache.h"
#include "serving/model_repository.h"
#include "common/open_file_limit.h"
#include "common/thread_pool.h"
#include "deploy/deployment_controller.h"
#include "deploy/deployment_routes.h"
#include "deploy/local_runtime.h"
#include "metrics/deployment_metrics.h"
#include "server/data_dir_lock.h"
#include "server/local_node.h"
#include "serving/traffic_router.h"
#include "serving/version_metadata_check.h"
#include "store/blob_store.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace meridian::server {
namespace {

// Feeds completed HTTP requests into the HTTP metrics (metrics/ may not depend on http/).
class HttpMetricsObserver final : public http::RequestObserver {
 public:
  explicit HttpMetricsObserver(metrics::HttpMetrics* metrics) : metrics_(metrics) {}
  void OnRequestCompleted(const http::CompletedRequest& r) override {
    metrics_->Record(r.method, r.route, r.status, r.duration);
  }

 private:
  metrics::HttpMetrics* metrics_;
};

// --max-connections, or by default three quarters of the open-file limit (which `meridian serve`
// has raised to its hard limit): the other quarter stays for models, the database and logs.
uint64_t MaxConnections(const HttpConfig& http) {
  if (http.max_connections > 0) return http.max_connections;
  constexpr uint64_t kFallback = 1024;  // when the limit cannot be read
  const absl::StatusOr<uint64_t> open_files = OpenFileLimit();
  if (!open_files.ok()) return kFallback;
  return std::max<uint64_t>(1, std::min<uint64_t>(*open_files, uint64_t{1} << 40) / 4 * 3);
}

void RegisterBuildInfo(prometheus::Registry& registry) {
  const BuildInfo& build = GetBuildInfo();
  prometheus::BuildGauge()
      .Name("meridian_build_info")
      .Help("Always 1; the labels describe the running build.")
      .Register(registry)
      .Add({{"version", std::string(build.version)},
            {"commit", std::string(build.git_commit)},
            {"build_type", std::string(build.build_type)}})
      .Set(1);
}

}  // namespace

// Everything the platform owns, in construction order (destroyed in reverse).
class Platform::Parts {
 public:
  Config config;
  std::unique_ptr<DataDirLock> data_dir_lock;
  std::unique_ptr<store::MetadataStore> metadata;
  store::SecurityStore* security = nullptr;  // the same database as `metadata`
  std::unique_ptr<auth::AuditLog> audit;
  std::unique_ptr<auth::JwtVerifier> jwt;
  std::unique_ptr<auth::AccessControl> access;
  std::unique_ptr<auth::RequestAuthorizer> gate;
  std::unique_ptr<auth::AuditObserver> audit_observer;
  std::unique_ptr<store::BlobStore> blobs;
  std::unique_ptr<registry::Registry> registry;
  health::HealthState health;
  std::shared_ptr<prometheus::Registry> metrics_registry = std::make_shared<prometheus::Registry>();
  std::shared_ptr<metrics::ProcessCollector> process_collector =
      std::make_shared<metrics::ProcessCollector>();
  std::shared_ptr<http::ConnectionLimit> connection_limit;  // the HTTP and gRPC listeners share it
  std::unique_ptr<metrics::HttpMetrics> http_metrics;
  serving::BackendRegistry backends;
  std::unique_ptr<RegistryModelSource> model_source;
  std::unique_ptr<ChildProcessModelValidator> model_validator;
  std::unique_ptr<metrics::InferenceMetrics> inference_metrics;
  std::unique_ptr<serving::ResponseCache> response_cache;
  std::unique_ptr<serving::ModelRepository> models;
  std::unique_ptr<metrics::DeploymentMetrics> deployment_metrics;
  serving::TrafficRouter traffic_router;
  std::unique_ptr<serving::InferenceService> inference;
  // The Redis response cache's lookups, stores and invalidations, off the I/O threads and the
  // repository's lock. Destroyed after the control pool, whose unloads invalidate through it.
  std::unique_ptr<ThreadPool> cache_pool;
  // Model loads and unloads: slow, so never on an I/O thread. Destroyed before the models.
  std::unique_ptr<ThreadPool> control_pool;
  std::unique_ptr<deploy::LocalRuntime> deployment_runtime;
  std::unique_ptr<deploy::DeploymentController> deployments;
  std::unique_ptr<HttpMetricsObserver> http_metrics_observer;
  http::AccessLog access_log;
  std::unique_ptr<http::HttpServer> http_server;
  std::unique_ptr<http::HttpServer> redirect_server;  // plain HTTP -> HTTPS, when configured
  std::unique_ptr<protocol::GrpcServer> grpc_server;
  bool shut_down = false;

  absl::Status Start() {
    health.AddComponent("store", "opening the data directory");
    ASSIGN_OR_RETURN(data_dir_lock, DataDirLock::Acquire(config.data_dir));
    if (config.store.postgres_url.empty()) {
      ASSIGN_OR_RETURN(auto sqlite, store::SqliteStore::Open({.path = config.data_dir + "/meridian.db"}));
      security = sqlite.get();
      metadata = std::move(sqlite);
    } else {
      ASSIGN_OR_RETURN(auto postgres, store::PostgresStore::Open({.url = config.store.postgres_url}));
      security = postgres.get();
      metadata = std::move(postgres);
    }
    RETURN_IF_ERROR(StartSecurity());
    ASSIGN_OR_RETURN(blobs, store::BlobStore::Open({.root = config.data_dir + "/blobs"}));
    if (blobs->removed_temporaries() > 0) {
      log::Info("removed uploads interrupted by an earlier stop", {{"files", blobs->removed_temporaries()}});
    }
    const serving::BatchingConfig batching_defaults{.max_batch_size = config.serving.max_batch_size,
                                                   .max_queue_delay = config.serving.max_queue_delay,
                                                   .max_queue_size = static_cast<int64_t>(config.serving.max_queue_per_version),
                                                   .instances = config.serving.instances_per_version};
    ASSIGN_OR_RETURN(registry, registry::Registry::Create(
                                   {.metadata = metadata.get(),
                                    .blobs = blobs.get(),
                                    .check_metadata = [this, batching_defaults](absl::string_view framework,
                                                                                absl::string_view metadata_json) {
                                      absl::StatusOr<serving::Backend*> backend = backends.Find(framework);
                                      return serving::CheckVersionMetadata(metadata_json, batching_defaults,
                                                                           backend.ok() ? *backend : nullptr);
                                    },
                                    // Aliases and "latest" in requests follow a change at once
                                    // (other servers on the same store within the time to live).
                                    .on_references_changed = [this](absl::string_view model) {
                                      if (models) models->ForgetReferences(model);
                                    }}));
    // Artifacts uploaded but never registered (a client that gave up, a crash between the two
    // requests) go after a day.
    auto collected = registry->CollectUnusedArtifacts(absl::Hours(24));
    if (!collected.ok()) {
      log::Warn("artifact garbage collection failed", {{"error", collected.status().message()}});
    } else if (*collected > 0) {
      log::Info("deleted artifacts that no version uses", {{"count", *collected}});
    }
    health.SetReady("store");

    RegisterBuildInfo(*metrics_registry);
    http_metrics = std::make_unique<metrics::HttpMetrics>(*metrics_registry);
    http_metrics_observer = std::make_unique<HttpMetricsObserver>(http_metrics.get());

    RegisterBackends(backends);
    model_source = std::make_unique<RegistryModelSource>(registry.get());
    if (config.serving.isolate_model_checks) {
      model_validator = std::make_unique<ChildProcessModelValidator>(ChildProcessModelValidatorOptions{});
    }
    inference_metrics = std::make_unique<metrics::InferenceMetrics>(*metrics_registry);
    RETURN_IF_ERROR(CreateResponseCache());
    control_pool = std::make_unique<ThreadPool>(ThreadPoolOptions{.threads = 2, .max_queue = 256, .name = "control"});
    models = std::make_unique<serving::ModelRepository>(serving::ModelRepositoryOptions{
        .source = model_source.get(),
        .backends = &backends,
        .validator = model_validator.get(),
        .batching = batching_defaults,
        .intra_op_threads = config.serving.intra_op_threads,
        .execute_inline_below = config.serving.execute_inline_below,
        .cpu_limit = AvailableCpus(),
        .memory_budget_bytes = MemoryBudget(),
        .metrics = inference_metrics.get(),
        .lookups = control_pool.get(),
        .on_unloaded = [this](const std::string& model, const std::string& version) {
          InvalidateCachedAnswers(model, version);
        }});
    deployment_metrics = std::make_unique<metrics::DeploymentMetrics>(*metrics_registry);
    inference = std::make_unique<serving::InferenceService>(serving::InferenceServiceOptions{
        .repository = models.get(),
        .metrics = inference_metrics.get(),
        .loader = config.serving.lazy_load ? control_pool.get() : nullptr,
        .lookups = control_pool.get(),
        .cache = response_cache.get(),
        .cache_pool = cache_pool.get(),
        .router = &traffic_router,
        .deployment_metrics = deployment_metrics.get()});
    deployment_runtime = std::make_unique<deploy::LocalRuntime>(
        deploy::LocalRuntimeOptions{
            .repository = models.get(), .router = &traffic_router, .metrics = deployment_metrics.get()});
    auto* deployment_store = dynamic_cast<store::DeploymentStore*>(metadata.get());
    if (deployment_store == nullptr) return absl::InternalError("the metadata store does not keep deployments");
    ASSIGN_OR_RETURN(deployments, deploy::DeploymentController::Create(
                                      {.store = deployment_store,
                                       .registry = registry.get(),
                                       .runtime = deployment_runtime.get(),
                                       .node = DescribeLocalNode({.gpus = config.deployments.node_gpus,
                                                                  .cpus = config.deployments.node_cpus,
                                                                  .memory_bytes = config.deployments.node_memory_bytes}),
                                       .metrics = deployment_metrics.get(),
                                       .resync = config.deployments.resync}));

    auto router = std::make_shared<http::Router>();
    RETURN_IF_ERROR(health::AddHealthRoutes(&health, *router));
    RETURN_IF_ERROR(auth::AddAuthRoutes({.access = access.get(), .audit = audit.get(), .store = security}, *router));
    connection_limit = http::ConnectionLimit::Create(MaxConnections(config.http));
    RETURN_IF_ERROR(AddMetricsRoute(*router));
    RETURN_IF_ERROR(registry::AddRegistryRoutes(
        {.registry = registry.get(), .max_artifact_bytes = config.registry.max_artifact_bytes}, *router));
    RETURN_IF_ERROR(deploy::AddDeploymentRoutes({.controller = deployments.get()}, *router));

    RETURN_IF_ERROR(protocol::AddServingRoutes(
        {.service = inference.get(),
         .backends = &backends,
         .control_pool = control_pool.get(),
         .max_request_bytes = config.serving.max_request_bytes,
         .server_version = std::string(GetBuildInfo().version)},
        *router));
    LoadStartupModels();

    http::HttpServerOptions options{
        .host = config.http.host,
        .port = config.http.port,
        .io_threads = config.http.io_threads > 0 ? config.http.io_threads : AvailableCpus(),
        .io_busy_poll = config.http.io_busy_poll,
        .read_timeout = config.http.read_timeout,
        .idle_timeout = config.http.idle_timeout,
        .max_header_bytes = config.http.max_header_bytes,
        .max_body_bytes = config.http.max_body_bytes,
        .gate = gate.get(),
        .connection_limit = connection_limit};
    if (!config.http.tls.cert_file.empty()) {
      options.tls = http::TlsFiles{config.http.tls.cert_file, config.http.tls.key_file, config.http.tls.client_ca_file};
    }
    std::vector<http::RequestObserver*> observers = {http_metrics_observer.get(), audit_observer.get()};
    if (config.http.access_log) observers.push_back(&access_log);
    ASSIGN_OR_RETURN(http_server, http::HttpServer::Start(options, router, observers));
    ASSIGN_OR_RETURN(grpc_server, protocol::GrpcServer::Start({.host = config.http.host,
                                                               .port = config.grpc.port,
                                                               .io_threads = options.io_threads,
                                                               .io_busy_poll = options.io_busy_poll,
                                                               .service = inference.get(),
                                                               .server_version = std::string(GetBuildInfo().version),
                                                               .ready = [this] { return health.Ready(); },
                                                               .max_message_bytes = config.serving.max_request_bytes,
                                                               .gate = gate.get(),
                                                               .tls = options.tls,
                                                               .idle_timeout = config.grpc.idle_timeout,
                                                               .connection_limit = connection_limit}));
    if (config.http.tls.redirect_port != 0) {
      http::HttpServerOptions redirect = options;
      redirect.port = config.http.tls.redirect_port;
      redirect.io_threads = 1;
      redirect.io_busy_poll = absl::ZeroDuration();  // a redirect is not worth a polling thread
      redirect.tls.reset();
      redirect.gate = nullptr;
      redirect.redirect_to_https_port = http_server->port();
      ASSIGN_OR_RETURN(redirect_server, http::HttpServer::Start(redirect, router, {}));
    }

    const BuildInfo& build = GetBuildInfo();
    log::Info("meridian started", {{"version", build.version},
                                   {"commit", build.git_commit},
                                   {"http", absl::StrCat(options.tls ? "https://" : "http://",
                                                         config.http.host, ":", http_server->port())},
                                   {"port", http_server->port()},
                                   {"grpc_port", grpc_server->port()},
                                   {"io_threads", options.io_threads},
                                   {"max_connections", connection_limit->max()},
                                   {"blas_kernels", BlasKernelsDescription()},
                                   {"metadata", config.store.postgres_url.empty() ? "sqlite" : "postgresql"},
                                   {"auth", config.auth.enabled ? "tokens" : "off"},
                                   {"data_dir", config.data_dir}});
    return absl::OkStatus();
  }

  // Tokens, roles and the audit log; on the first start, the administrator's token.
  absl::Status StartSecurity() {
    audit = std::make_unique<auth::AuditLog>(auth::AuditLogOptions{.store = security});
    audit_observer = std::make_unique<auth::AuditObserver>(audit.get());
    if (!config.auth.jwt_public_key_file.empty()) {
      ASSIGN_OR_RETURN(std::string key, ReadJwtKey());
      ASSIGN_OR_RETURN(jwt, auth::JwtVerifier::Create({.public_key_pem = std::move(key),
                                                       .issuer = config.auth.jwt_issuer,
                                                       .audience = config.auth.jwt_audience,
                                                       .user_claim = config.auth.jwt_user_claim}));
    }
    ASSIGN_OR_RETURN(access, auth::AccessControl::Create({.store = security,
                                                          .limiter = {.max_failures = config.auth.max_failed_attempts},
                                                          .jwt = jwt.get()}));
    if (!config.auth.enabled) {
      log::Warn("authentication is off: every route is open to anyone who can reach the port");
      return absl::OkStatus();
    }
    std::set<std::string, std::less<>> open;
    if (config.auth.open_health) open.insert({"health", "public"});
    if (config.auth.open_metrics) open.insert("metrics");
    gate = std::make_unique<auth::RequestAuthorizer>(
        auth::RequestAuthorizerOptions{.access = access.get(), .audit = audit.get(), .open_resources = open});
    ASSIGN_OR_RETURN(std::optional<std::string> admin_token, access->Bootstrap(config.auth.admin_token));
    if (admin_token) ShowAdminTokenOnce(*admin_token);
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> ReadJwtKey() const {
    std::ifstream in(config.auth.jwt_public_key_file);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read the JWT public key file ", config.auth.jwt_public_key_file));
    }
    std::stringstream key;
    key << in.rdbuf();
    return key.str();
  }

  // Straight to the terminal, not through the logger (logs are shipped and kept); and into a file
  // only the data directory's owner can read, for the CLI on this machine.
  void ShowAdminTokenOnce(const std::string& token) {
    const std::string path = config.data_dir + "/admin-token";
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, S_IRUSR | S_IWUSR);
    if (fd >= 0) {
      const std::string line = token + "\n";
      if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        log::Warn("could not write the administrator's token file", {{"path", path}});
      }
      close(fd);
    }
    std::fprintf(stderr,
                 "\nFirst start: the administrator's API token (shown once; also in %s, readable only by you):\n\n"
                 "    %s\n\nUse it as \"Authorization: Bearer <token>\" or MERIDIAN_TOKEN for the CLI, make tokens for "
                 "others with `meridian token create`, then delete that file.\n\n",
                 path.c_str(), token.c_str());
  }

  absl::Status CreateResponseCache() {
    if (!config.serving.cache_redis_url.empty()) {
      ASSIGN_OR_RETURN(store::RedisKeyValueOptions redis, store::ParseRedisUrl(config.serving.cache_redis_url));
      metrics::InferenceMetrics* metrics = inference_metrics.get();
      redis.on_error = [metrics] { metrics->RecordCacheError("redis"); };
      // Reported by /health, never a reason to be unready: requests go on without the cache.
      health.AddOptionalComponent("responseCache");
      redis.on_availability = [this, where = absl::StrCat(redis.host, ":", redis.port),
                               retry = absl::FormatDuration(redis.retry_after)](bool available,
                                                                                const std::string& reason) {
        if (available) return health.SetReady("responseCache");
        health.SetNotReady("responseCache", absl::StrCat("Redis at ", where, " is unavailable (", reason,
                                                         "); answering without the cache, retrying every ", retry));
      };
      response_cache = std::make_unique<serving::RedisResponseCache>(redis);
      cache_pool = std::make_unique<ThreadPool>(ThreadPoolOptions{.threads = 4, .max_queue = 1024, .name = "cache"});
    } else if (config.serving.cache_max_bytes > 0) {
      response_cache = std::make_unique<serving::LocalResponseCache>(config.serving.cache_max_bytes);
    }
    return absl::OkStatus();
  }

  // An unloaded version's cached answers go (they would expire anyway). Called under the model
  // repository's lock, so a Redis cache's scan runs on its pool.
  void InvalidateCachedAnswers(const std::string& model, const std::string& version) {
    if (!response_cache) return;
    if (!cache_pool) return response_cache->Invalidate(model, version);
    const bool queued = cache_pool->TrySubmit(
        [cache = response_cache.get(), model, version] { cache->Invalidate(model, version); });
    if (!queued) {
      log::Warn("the response cache is behind: an unloaded version's answers stay until they expire",
                {{"model", model}, {"version", version}});
    }
  }

  uint64_t MemoryBudget() const {
    if (config.serving.memory_budget_bytes > 0) return config.serving.memory_budget_bytes;
    return static_cast<uint64_t>(config.serving.memory_budget_share * static_cast<double>(MemoryLimitBytes()));
  }

  // Loads the configured models in the background; the server reports ready when they are in.
  void LoadStartupModels() {
    if (config.serving.load_models.empty()) return;
    health.AddComponent("models", "loading the startup models");
    control_pool->TrySubmit([this] {
      for (const std::string& model : config.serving.load_models) {
        absl::Status loaded = models->Load(model, {});
        if (absl::IsNotFound(loaded)) {
          log::Warn("startup model is not in the registry (yet)", {{"model", model}, {"error", loaded.message()}});
        } else if (!loaded.ok()) {
          log::Error("startup model failed to load", {{"model", model}, {"error", loaded.message()}});
        }
      }
      health.SetReady("models");
    });
  }

  absl::Status AddMetricsRoute(http::Router& router) {
    std::vector<std::shared_ptr<prometheus::Collectable>> collectables = {
        metrics_registry, process_collector, std::make_shared<ConnectionLimitCollector>(connection_limit)};
    return router.Add(http::Route{
        .method = http::HttpMethod::kGet,
        .pattern = "/metrics",
        .resource = "metrics",
        .verb = "get",
        .max_body_bytes = 0,
        .handler = http::Sync([collectables](const http::HttpRequest&) {
          return http::HttpResponse::Text(200, metrics::RenderText(collectables),
                                          metrics::kExpositionContentType);
        })});
  }

  bool Shutdown() {
    if (shut_down) return true;
    shut_down = true;
    health.SetDraining();
    if (!http_server) return true;
    log::Info("shutting down", {{"drain_timeout", absl::FormatDuration(config.drain_timeout)},
                                {"in_flight", http_server->in_flight()}});
    if (redirect_server) redirect_server->Shutdown(absl::ZeroDuration());
    const bool drained = http_server->Shutdown(config.drain_timeout);
    if (grpc_server) grpc_server->Shutdown(config.drain_timeout);
    if (drained) {
      log::Info("shutdown complete");
    } else {
      log::Warn("drain timeout reached; requests still in flight were cut off");
    }
    return drained;
  }
};

absl::StatusOr<std::unique_ptr<Platform>> Platform::Start(const Config& config) {
  auto parts = std::make_unique<Parts>();
  parts->config = config;
  RETURN_IF_ERROR(parts->Start());
  return std::unique_ptr<Platform>(new Platform(std::move(parts)));
}

Platform::Platform(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
Platform::~Platform() { Shutdown(); }
uint16_t Platform::http_port() const { return parts_->http_server->port(); }
bool Platform::Shutdown() { return parts_->Shutdown(); }

absl::Status Platform::ReloadTls() {
  if (!parts_->http_server->tls()) return absl::FailedPreconditionError("TLS is not configured");
  // gRPC watches the same files itself.
  return parts_->http_server->ReloadTls();
}

}  // namespace meridian::server
