#include "common/config.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace meridian {
namespace {

absl::StatusOr<int64_t> ParseIntInRange(absl::string_view text, int64_t min, int64_t max) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not an integer"));
  }
  if (value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(value, " is out of range [", min, ", ", max, "]"));
  }
  return value;
}

absl::Status SetPort(absl::string_view v, uint16_t& out) {
  ASSIGN_OR_RETURN(int64_t port, ParseIntInRange(v, 0, 65535));
  out = static_cast<uint16_t>(port);
  return absl::OkStatus();
}

absl::Status SetDuration(absl::string_view v, absl::Duration& out) {
  ASSIGN_OR_RETURN(out, ParseNonNegativeDuration(v));
  return absl::OkStatus();
}

absl::Status SetPositiveDuration(absl::string_view v, absl::Duration& out) {
  ASSIGN_OR_RETURN(absl::Duration d, ParseNonNegativeDuration(v));
  if (d <= absl::ZeroDuration()) return absl::InvalidArgumentError("must be greater than zero");
  out = d;
  return absl::OkStatus();
}

absl::Status SetBytes(absl::string_view v, uint64_t& out, uint64_t min,
                      uint64_t max = std::numeric_limits<uint64_t>::max()) {
  ASSIGN_OR_RETURN(uint64_t bytes, ParseByteSize(v));
  if (bytes < min) return absl::InvalidArgumentError(absl::StrCat("must be at least ", min, " bytes"));
  if (bytes > max) return absl::InvalidArgumentError(absl::StrCat("must be at most ", max, " bytes"));
  out = bytes;
  return absl::OkStatus();
}

// The HTTP/1.1 parser and HTTP/2's SETTINGS_MAX_HEADER_LIST_SIZE take the limit as 32 bits (4 GiB
// used to wrap to 0 and refuse every request); Envoy's own ceiling, 8 MiB, is far above any
// client's need.
constexpr uint64_t kMaxHeaderBytesCeiling = 8 << 20;

// An I/O thread that polls longer than this between events burns a core for a client that has
// gone quiet; a wake-up costs tens of microseconds, not milliseconds.
constexpr absl::Duration kMaxIoBusyPoll = absl::Milliseconds(10);

std::vector<ConfigOption> BuildOptions() {
  std::vector<ConfigOption> o;
  o.push_back({"dataDir", "data-dir", "DIR", "./meridian-data",
               "directory for the embedded database and model artifacts",
               [](absl::string_view v, Config& c) {
                 if (v.empty()) return absl::InvalidArgumentError("must not be empty");
                 c.data_dir = std::string(v);
                 return absl::OkStatus();
               }});
  o.push_back({"http.host", "host", "ADDRESS", "127.0.0.1",
               "address the HTTP server binds (0.0.0.0 for all interfaces)",
               [](absl::string_view v, Config& c) {
                 if (v.empty()) return absl::InvalidArgumentError("must not be empty");
                 c.http.host = std::string(v);
                 return absl::OkStatus();
               }});
  o.push_back({"http.port", "port", "PORT", "8080", "HTTP port (REST, OIP v2, UI, /metrics); 0 picks a free one",
               [](absl::string_view v, Config& c) { return SetPort(v, c.http.port); }});
  o.push_back({"http.ioThreads", "io-threads", "N", "0",
               "I/O threads of the HTTP port, and as many for the gRPC port; 0 means one per CPU of the cgroup "
               "CPU limit",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(int64_t n, ParseIntInRange(v, 0, 256));
                 c.http.io_threads = static_cast<int>(n);
                 return absl::OkStatus();
               }});
  o.push_back({"http.ioBusyPoll", "io-busy-poll", "DURATION", "100us",
               "how long an I/O thread (HTTP and gRPC) keeps polling after its last event before it sleeps, "
               "so that a client's next request finds it awake; 0 turns polling off (at most 10ms)",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(absl::Duration d, ParseNonNegativeDuration(v));
                 if (d > kMaxIoBusyPoll) return absl::InvalidArgumentError("must be at most 10ms");
                 c.http.io_busy_poll = d;
                 return absl::OkStatus();
               }});
  o.push_back({"http.maxConnections", "max-connections", "N", "0",
               "client connections open at once, HTTP and gRPC together; more are closed as they arrive "
               "(counted in http_connections_refused_total); 0 means three quarters of the open-file limit",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(int64_t n, ParseIntInRange(v, 0, 1 << 30));
                 c.http.max_connections = static_cast<uint64_t>(n);
                 return absl::OkStatus();
               }});
  o.push_back({"http.readTimeout", "read-timeout", "DURATION", "30s",
               "time allowed to receive a request's headers and body",
               [](absl::string_view v, Config& c) { return SetPositiveDuration(v, c.http.read_timeout); }});
  o.push_back({"http.idleTimeout", "idle-timeout", "DURATION", "60s",
               "keep-alive connections idle this long are closed",
               [](absl::string_view v, Config& c) { return SetPositiveDuration(v, c.http.idle_timeout); }});
  o.push_back({"http.maxHeaderBytes", "max-header-bytes", "BYTES", "16KiB",
               "largest request header block accepted (431 above it; at most 8MiB)",
               [](absl::string_view v, Config& c) {
                 return SetBytes(v, c.http.max_header_bytes, 1024, kMaxHeaderBytesCeiling);
               }});
  o.push_back({"http.maxBodyBytes", "max-body-bytes", "BYTES", "8MiB",
               "largest request body for routes without a limit of their own (413 above it)",
               [](absl::string_view v, Config& c) { return SetBytes(v, c.http.max_body_bytes, 0); }});
  o.push_back({"http.accessLog", "access-log", "BOOL", "true", "log one line per HTTP request",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(c.http.access_log, ParseBool(v));
                 return absl::OkStatus();
               }});
  o.push_back({"http.tls.certFile", "tls-cert", "FILE", "",
               "PEM certificate chain; with --tls-key, serves HTTPS",
               [](absl::string_view v, Config& c) {
                 c.http.tls.cert_file = std::string(v);
                 return absl::OkStatus();
               }});
  o.push_back({"http.tls.keyFile", "tls-key", "FILE", "", "PEM private key for --tls-cert",
               [](absl::string_view v, Config& c) {
                 c.http.tls.key_file = std::string(v);
                 return absl::OkStatus();
               }});
  o.push_back({"auth.enabled", "auth", "BOOL", "true",
               "require an API token (and a permission) on every route but health and metrics",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(c.auth.enabled, ParseBool(v));
                 return absl::OkStatus();
               }});
  o.push_back({"auth.openHealth", "open-health", "BOOL", "true", "serve health endpoints without a token",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(c.auth.open_health, ParseBool(v));
                 return absl::OkStatus();
               }});
  o.push_back({"auth.openMetrics", "open-metrics", "BOOL", "true", "serve /metrics without a token",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(c.auth.open_metrics, ParseBool(v));
                 return absl::OkStatus();
               }});
  o.push_back({"auth.maxFailedAttempts", "max-failed-auth", "N", "10",
               "failed token checks allowed per client address and minute before it gets 429",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(int64_t n, ParseIntInRange(v, 1, 1000000));
                 c.auth.max_failed_attempts = static_cast<int>(n);
                 return absl::OkStatus();
               }});
  o.push_back({"auth.jwt.publicKeyFile", "jwt-public-key", "FILE", "",
               "accept JWT bearer tokens signed with this PEM public key (RS256/384/512, ES256/384/512)",
               [](absl::string_view v, Config& c) {
                 c.auth.jwt_public_key_file = std::string(v);
                 return absl::OkStatus();
               }});
  o.push_back({"auth.jwt.issuer", "jwt-issuer", "URL", "", "the \"iss\" a JWT must carry (required with --jwt-public-key)",
               [](absl::string_view v, Config& c) {
                 c.auth.jwt_issuer = std::string(v);
                 return absl::OkStatus();
               }});
  o.push_back({"auth.jwt.audience", "jwt-audience", "NAME", "", "an \"aud\" a JWT must carry; empty: not checked",
               [](absl::string_view v, Config& c) {
                 c.auth.jwt_audience = std::string(v);
                 return absl::OkStatus();
               }});
  o.push_back({"auth.jwt.userClaim", "jwt-user-claim", "CLAIM", "sub", "the JWT claim that names the user",
               [](absl::string_view v, Config& c) {
                 if (v.empty()) return absl::InvalidArgumentError("must not be empty");
                 c.auth.jwt_user_claim = std::string(v);
                 return absl::OkStatus();
               }});
  o.push_back({"http.tls.clientCaFile", "tls-client-ca", "FILE", "",
               "PEM CAs for client certificates: every client must present one (mutual TLS, REST and gRPC); "
               "a request without a token acts as the certificate's common name",
               [](absl::string_view v, Config& c) {
                 c.http.tls.client_ca_file = std::string(v);
                 return absl::OkStatus();
               }});
  o.push_back({"http.tls.redirectPort", "https-redirect-port", "PORT", "0",
               "with TLS: also listen for plain HTTP on this port and redirect every request to HTTPS",
               [](absl::string_view v, Config& c) { return SetPort(v, c.http.tls.redirect_port); }});
  o.push_back({"registry.maxArtifactBytes", "max-artifact-bytes", "BYTES", "16GiB",
               "largest model artifact an upload may carry (413 above it)",
               [](absl::string_view v, Config& c) { return SetBytes(v, c.registry.max_artifact_bytes, 1); }});
  o.push_back({"store.postgresUrl", "postgres-url", "URL", "",
               "keep metadata in this PostgreSQL database instead of the embedded SQLite one",
               [](absl::string_view v, Config& c) {
                 if (!v.empty() && !absl::StartsWith(v, "postgresql://") && !absl::StartsWith(v, "postgres://")) {
                   return absl::InvalidArgumentError("must start with postgresql://");
                 }
                 c.store.postgres_url = std::string(v);
                 return absl::OkStatus();
               }});
  o.push_back({"grpc.port", "grpc-port", "PORT", "8081", "gRPC port for OIP v2 (inference.GRPCInferenceService); 0 picks a free one",
               [](absl::string_view v, Config& c) { return SetPort(v, c.grpc.port); }});
  o.push_back({"grpc.idleTimeout", "grpc-idle-timeout", "DURATION", "5m",
               "gRPC connections without a call this long are sent GOAWAY and closed (clients reconnect); 0 keeps them",
               [](absl::string_view v, Config& c) { return SetDuration(v, c.grpc.idle_timeout); }});
  o.push_back({"serving.loadModels", "load-models", "NAMES", "",
               "comma-separated registry models whose latest version is loaded at startup",
               [](absl::string_view v, Config& c) {
                 c.serving.load_models.clear();
                 for (absl::string_view name : absl::StrSplit(v, ',', absl::SkipWhitespace())) {
                   c.serving.load_models.push_back(std::string(absl::StripAsciiWhitespace(name)));
                 }
                 return absl::OkStatus();
               }});
  o.push_back({"serving.instancesPerVersion", "instances", "N", "1",
               "execution threads (model instances) per loaded model version",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(int64_t n, ParseIntInRange(v, 1, 64));
                 c.serving.instances_per_version = static_cast<int>(n);
                 return absl::OkStatus();
               }});
  o.push_back({"serving.intraOpThreads", "intra-op-threads", "N", "1",
               "threads one model instance may use inside the framework",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(int64_t n, ParseIntInRange(v, 1, 256));
                 c.serving.intra_op_threads = static_cast<int>(n);
                 return absl::OkStatus();
               }});
  o.push_back({"serving.maxQueuePerVersion", "max-queue", "N", "1024",
               "requests waiting per model version before new ones get 429",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(int64_t n, ParseIntInRange(v, 1, 1 << 24));
                 c.serving.max_queue_per_version = static_cast<uint64_t>(n);
                 return absl::OkStatus();
               }});
  o.push_back({"serving.maxBatchSize", "max-batch-size", "N", "1",
               "rows per execution when batching requests of models with a dynamic batch dimension (1: off)",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(c.serving.max_batch_size, ParseIntInRange(v, 1, 4096));
                 return absl::OkStatus();
               }});
  o.push_back({"serving.maxQueueDelay", "max-queue-delay", "DURATION", "0s",
               "how long a request may wait for others to fill its batch",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(c.serving.max_queue_delay, ParseNonNegativeDuration(v));
                 return absl::OkStatus();
               }});
  o.push_back({"serving.executeInlineBelow", "execute-inline-below", "DURATION", "200us",
               "a request to an idle model version whose executions take less than this, and a request that "
               "completes a full batch of a version whose batches take less than this, run on the thread that "
               "read it, sparing thread wake-ups (0s: always on the version's instance threads)",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(c.serving.execute_inline_below, ParseNonNegativeDuration(v));
                 return absl::OkStatus();
               }});
  o.push_back({"serving.maxRequestBytes", "max-request-bytes", "BYTES", "64MiB",
               "largest inference request body (413 above it)",
               [](absl::string_view v, Config& c) { return SetBytes(v, c.serving.max_request_bytes, 1024); }});
  o.push_back({"serving.memoryBudget", "memory-budget", "BYTES|PERCENT", "50%",
               "memory for loaded models (measured at load); idle models are evicted least recently used "
               "to stay within it. A size (4GiB) or a share of the cgroup memory limit (50%); 0 for none",
               [](absl::string_view v, Config& c) {
                 if (absl::ConsumeSuffix(&v, "%")) {
                   double percent = 0;
                   if (!absl::SimpleAtod(v, &percent) || percent <= 0 || percent > 100) {
                     return absl::InvalidArgumentError("a percentage must be within (0, 100]");
                   }
                   c.serving.memory_budget_share = percent / 100;
                   c.serving.memory_budget_bytes = 0;
                   return absl::OkStatus();
                 }
                 c.serving.memory_budget_share = 0;
                 return SetBytes(v, c.serving.memory_budget_bytes, 0);
               }});
  o.push_back({"serving.lazyLoad", "lazy-load", "BOOL", "true",
               "load a registered model on its first request (that request waits; others keep flowing)",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(c.serving.lazy_load, ParseBool(v));
                 return absl::OkStatus();
               }});
  o.push_back({"serving.cache.maxBytes", "cache-max-bytes", "BYTES", "64MiB",
               "size of the in-process response cache (for versions whose metadata enables it)",
               [](absl::string_view v, Config& c) { return SetBytes(v, c.serving.cache_max_bytes, 0); }});
  o.push_back({"serving.cache.redisUrl", "cache-redis-url", "URL", "",
               "keep the response cache in Redis (redis://host:port) to share it between replicas",
               [](absl::string_view v, Config& c) {
                 if (!v.empty() && !absl::StartsWith(v, "redis://")) {
                   return absl::InvalidArgumentError("must look like redis://host:port");
                 }
                 c.serving.cache_redis_url = std::string(v);
                 return absl::OkStatus();
               }});
  o.push_back({"serving.isolateModelChecks", "isolate-model-checks", "BOOL", "true",
               "open each model file in a child process first, so a corrupt file cannot crash the server",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(c.serving.isolate_model_checks, ParseBool(v));
                 return absl::OkStatus();
               }});
  o.push_back({"log.format", "log-format", "FORMAT", "text", "log format: text or json",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(c.log.format, log::ParseFormat(v));
                 return absl::OkStatus();
               }});
  o.push_back({"log.level", "log-level", "LEVEL", "info", "log level: debug, info, warn or error",
               [](absl::string_view v, Config& c) {
                 ASSIGN_OR_RETURN(c.log.level, log::ParseLevel(v));
                 return absl::OkStatus();
               }});
  o.push_back({"log.file", "log-file", "FILE", "", "write logs to this file instead of standard error",
               [](absl::string_view v, Config& c) {
                 c.log.file = std::string(v);
                 return absl::OkStatus();
               }});
  o.push_back({"deployments.resyncInterval", "deployment-resync", "DURATION", "2s",
               "how often every deployment is reconciled (aliases followed, autoscaling, canary steps)",
               [](absl::string_view v, Config& c) {
                 RETURN_IF_ERROR(SetDuration(v, c.deployments.resync));
                 if (c.deployments.resync < absl::Milliseconds(100)) {
                   return absl::InvalidArgumentError("must be at least 100ms");
                 }
                 return absl::OkStatus();
               }});
  o.push_back({"deployments.nodeGpus", "node-gpus", "COUNT|auto", "auto",
               "GPUs this machine offers to deployments (auto: the /dev/nvidiaN devices present)",
               [](absl::string_view v, Config& c) {
                 if (v == "auto") {
                   c.deployments.node_gpus = -1;
                   return absl::OkStatus();
                 }
                 ASSIGN_OR_RETURN(int64_t n, ParseIntInRange(v, 0, 64));
                 c.deployments.node_gpus = static_cast<int>(n);
                 return absl::OkStatus();
               }});
  o.push_back({"deployments.nodeCpus", "node-cpus", "CPUS", "0",
               "CPUs offered to deployments' replicas (their requests must fit); 0: the cgroup CPU limit",
               [](absl::string_view v, Config& c) {
                 double cpus = 0;
                 if (!absl::SimpleAtod(v, &cpus) || cpus < 0 || cpus > 100000) {
                   return absl::InvalidArgumentError("must be a number of CPUs such as 2 or 1.5");
                 }
                 c.deployments.node_cpus = cpus;
                 return absl::OkStatus();
               }});
  o.push_back({"deployments.nodeMemory", "node-memory", "BYTES", "0",
               "memory offered to deployments' replicas (their requests must fit); 0: the cgroup memory limit",
               [](absl::string_view v, Config& c) { return SetBytes(v, c.deployments.node_memory_bytes, 0); }});
  o.push_back({"shutdown.drainTimeout", "drain-timeout", "DURATION", "30s",
               "on SIGTERM/SIGINT, time in-flight requests get to finish before exit",
               [](absl::string_view v, Config& c) { return SetDuration(v, c.drain_timeout); }});
  return o;
}

const ConfigOption* FindOption(absl::string_view key) {
  for (const ConfigOption& option : ConfigOptions()) {
    if (option.key == key) return &option;
  }
  return nullptr;
}

absl::Status Annotate(const absl::Status& status, absl::string_view where, absl::string_view key) {
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": invalid value for \"", key, "\": ", status.message()));
}

// Flattens a YAML mapping into dotted keys; every leaf must be a scalar.
absl::Status FlattenYaml(const YAML::Node& node, const std::string& prefix,
                         std::vector<std::pair<std::string, YAML::Node>>& out) {
  for (const auto& entry : node) {
    const std::string name = entry.first.as<std::string>();
    const std::string key = prefix.empty() ? name : absl::StrCat(prefix, ".", name);
    const YAML::Node& value = entry.second;
    if (value.IsMap()) {
      RETURN_IF_ERROR(FlattenYaml(value, key, out));
    } else {
      out.emplace_back(key, value);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadConfigFile(const std::string& file) {
  auto fail = [&file](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read config file ", file, ": ", why));
  };
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return fail("it does not exist");
  if (!std::filesystem::is_regular_file(file, ec)) return fail("it is not a regular file");
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!f) return fail(std::strerror(errno));
  std::string content;
  char chunk[4096];
  size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f.get())) > 0) content.append(chunk, n);
  if (std::ferror(f.get())) return fail(std::strerror(errno));
  return content;
}

absl::Status ApplyFile(const std::string& file, Config& config) {
  const std::string where = absl::StrCat("config file ", file);
  ASSIGN_OR_RETURN(std::string content, ReadConfigFile(file));
  YAML::Node root;
  try {
    root = YAML::Load(content);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": not valid YAML: ", e.what()));
  }
  if (root.IsNull()) return absl::OkStatus();  // an empty file changes nothing
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": the top level must be a mapping"));
  }
  std::vector<std::pair<std::string, YAML::Node>> entries;
  try {
    RETURN_IF_ERROR(FlattenYaml(root, "", entries));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", e.what()));
  }
  for (const auto& [key, value] : entries) {
    const ConfigOption* option = FindOption(key);
    if (option == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown key \"", key, "\""));
    }
    if (!value.IsScalar()) {
      return Annotate(absl::InvalidArgumentError("expected a single value"), where, key);
    }
    if (absl::Status s = option->apply(value.Scalar(), config); !s.ok()) {
      return Annotate(s, where, key);
    }
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<ConfigOption>& ConfigOptions() {
  static const std::vector<ConfigOption>* const options =
      new std::vector<ConfigOption>(BuildOptions());
  return *options;
}

std::string EnvVarName(absl::string_view key) {
  std::string name = "MERIDIAN_";
  for (char c : key) {
    if (c == '.') {
      name.push_back('_');
    } else if (absl::ascii_isupper(c)) {
      name.push_back('_');
      name.push_back(c);
    } else {
      name.push_back(absl::ascii_toupper(c));
    }
  }
  return name;
}

bool IsNonConfigEnvVar(absl::string_view name) {
  return name == "MERIDIAN_SERVER" || name == "MERIDIAN_TOKEN" || name == "MERIDIAN_CONFIG" ||
         name == "MERIDIAN_ADMIN_TOKEN" || name == "MERIDIAN_TORCHSCRIPT_BACKEND";
}

Config DefaultConfig() {
  Config config;
  for (const ConfigOption& option : ConfigOptions()) {
    absl::Status s = option.apply(option.default_value, config);
    if (!s.ok()) std::abort();  // a default that does not parse is a programming error
  }
  return config;
}

absl::StatusOr<Config> LoadConfig(const ConfigSources& sources) {
  Config config = DefaultConfig();
  if (!sources.file.empty()) RETURN_IF_ERROR(ApplyFile(sources.file, config));

  for (const auto& [name, value] : sources.env) {
    if (!name.starts_with("MERIDIAN_") || IsNonConfigEnvVar(name)) continue;
    const ConfigOption* match = nullptr;
    for (const ConfigOption& option : ConfigOptions()) {
      if (EnvVarName(option.key) == name) match = &option;
    }
    if (match == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "environment variable ", name,
          ": unknown setting (see `meridian serve --help` for the MERIDIAN_* variables)"));
    }
    if (absl::Status s = match->apply(value, config); !s.ok()) {
      return Annotate(s, absl::StrCat("environment variable ", name), match->key);
    }
  }

  // A secret: taken from the environment only, so it never sits in a config file or a process list.
  if (auto it = sources.env.find("MERIDIAN_ADMIN_TOKEN"); it != sources.env.end()) config.auth.admin_token = it->second;

  for (const auto& [key, value] : sources.flags) {
    const ConfigOption* option = FindOption(key);
    if (option == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown option ", key));
    if (absl::Status s = option->apply(value, config); !s.ok()) {
      return Annotate(s, absl::StrCat("flag --", option->flag), key);
    }
  }

  if (config.http.tls.cert_file.empty() != config.http.tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "http.tls.certFile and http.tls.keyFile must be set together (or neither)");
  }
  if (!config.auth.jwt_public_key_file.empty() && config.auth.jwt_issuer.empty()) {
    return absl::InvalidArgumentError("auth.jwt.publicKeyFile needs auth.jwt.issuer: the issuer whose tokens to accept");
  }
  if (config.http.tls.cert_file.empty() &&
      (!config.http.tls.client_ca_file.empty() || config.http.tls.redirect_port != 0)) {
    return absl::InvalidArgumentError(
        "http.tls.clientCaFile and http.tls.redirectPort need TLS: set http.tls.certFile and http.tls.keyFile too");
  }
  return config;
}

absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  size_t digits = 0;
  while (digits < t.size() && absl::ascii_isdigit(t[digits])) ++digits;
  if (digits == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a size (examples: 512, 64KiB, 8MiB, 1GiB)"));
  }
  uint64_t number = 0;
  if (!absl::SimpleAtoi(t.substr(0, digits), &number)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is too large"));
  }
  const std::string unit = absl::AsciiStrToLower(absl::StripAsciiWhitespace(t.substr(digits)));
  uint64_t multiplier = 0;
  if (unit.empty() || unit == "b") multiplier = 1;
  else if (unit == "kib") multiplier = 1ull << 10;
  else if (unit == "mib") multiplier = 1ull << 20;
  else if (unit == "gib") multiplier = 1ull << 30;
  else if (unit == "kb") multiplier = 1000;
  else if (unit == "mb") multiplier = 1000 * 1000;
  else if (unit == "gb") multiplier = 1000 * 1000 * 1000;
  else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown size unit in \"", text, "\": use B, KiB, MiB, GiB, KB, MB or GB"));
  }
  if (number > UINT64_MAX / multiplier) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is too large"));
  }
  return number * multiplier;
}

absl::StatusOr<absl::Duration> ParseNonNegativeDuration(absl::string_view text) {
  absl::Duration d;
  if (!absl::ParseDuration(std::string(absl::StripAsciiWhitespace(text)), &d) ||
      d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a duration (examples: 500ms, 30s, 2m)"));
  }
  if (d < absl::ZeroDuration()) return absl::InvalidArgumentError("must not be negative");
  return d;
}

absl::StatusOr<bool> ParseBool(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (t == "true" || t == "yes" || t == "on" || t == "1") return true;
  if (t == "false" || t == "no" || t == "off" || t == "0") return false;
  return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a boolean (true or false)"));
}

}  // namespace meridian
