#pragma once

// The platform's configuration: one YAML file, then MERIDIAN_* environment variables, then
// command-line flags, each overriding the one before. Every option is declared once in
// ConfigOptions(); the YAML key, the environment variable, the flag, the default and the help text
// all come from that declaration, so they cannot drift apart.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/logging.h"

namespace meridian {

struct TlsConfig {
  std::string cert_file;  // PEM certificate chain; TLS is on when both files are set
  std::string key_file;   // PEM private key
  std::string client_ca_file;  // PEM CAs of client certificates: mutual TLS when set
  uint16_t redirect_port = 0;  // non-zero: plain HTTP here redirects to the HTTPS port
};

struct HttpConfig {
  std::string host;
  uint16_t port = 0;
  int io_threads = 0;  // 0: one per CPU of the cgroup limit
  absl::Duration io_busy_poll;  // of the HTTP and gRPC I/O threads (see http::RunIoThread)
  absl::Duration read_timeout;
  absl::Duration idle_timeout;
  uint64_t max_header_bytes = 0;
  uint64_t max_body_bytes = 0;
  // Client connections open at once, HTTP and gRPC together; 0: three quarters of the open-file
  // limit (the rest stays for models, the database and logs).
  uint64_t max_connections = 0;
  bool access_log = false;
  TlsConfig tls;
};

struct GrpcConfig {
  uint16_t port = 0;
  absl::Duration idle_timeout;  // zero: idle connections stay open
};

struct ServingConfig {
  std::vector<std::string> load_models;  // loaded at startup (latest version of each)
  int instances_per_version = 1;
  int intra_op_threads = 1;
  uint64_t max_queue_per_version = 0;
  int64_t max_batch_size = 1;            // 1: no batching unless a version's metadata asks
  absl::Duration max_queue_delay;
  // Models quicker than this per request run on the I/O thread when idle (0: never).
  absl::Duration execute_inline_below = absl::Microseconds(100);
  uint64_t max_request_bytes = 0;
  bool isolate_model_checks = true;  // check model files in a child process before loading
  // Budget for loaded models' measured memory: a byte size, or a share of the memory limit.
  uint64_t memory_budget_bytes = 0;
  double memory_budget_share = 0;  // used when memory_budget_bytes is 0; 0 and 0: no budget
  bool lazy_load = true;  // load a registered model on its first request
  uint64_t cache_max_bytes = 0;  // the in-process response cache
  std::string cache_redis_url;   // redis://host:port: share the response cache through Redis
};

struct RegistryConfig {
  uint64_t max_artifact_bytes = 0;
};

struct StoreConfig {
  // Empty: the embedded SQLite database in the data directory. Otherwise a PostgreSQL URL
  // (postgresql://user:password@host:port/database) shared by several replicas.
  std::string postgres_url;
};

struct AuthConfig {
  bool enabled = true;        // false: every route is open (tests of other features, trusted networks)
  bool open_health = true;    // /health/*, /v2/health/*, server metadata without a token
  bool open_metrics = true;   // /metrics without a token
  int max_failed_attempts = 0;  // per client address and minute, then 429 until the minute passes
  std::string admin_token;    // MERIDIAN_ADMIN_TOKEN (environment only: never a flag or a file)
  // JWTs from an identity provider: accepted when a public key file is set.
  std::string jwt_public_key_file;
  std::string jwt_issuer;
  std::string jwt_audience;
  std::string jwt_user_claim;
};

struct DeploymentsConfig {
  absl::Duration resync = absl::Seconds(2);  // how often every deployment is reconciled
  int node_gpus = -1;                        // GPUs of this machine for placement; -1: count /dev/nvidiaN
  double node_cpus = 0;                      // CPUs offered to deployments; 0: the cgroup CPU limit
  uint64_t node_memory_bytes = 0;            // memory offered to deployments; 0: the cgroup memory limit
};

struct Config {
  std::string data_dir;
  DeploymentsConfig deployments;
  AuthConfig auth;
  RegistryConfig registry;
  StoreConfig store;
  HttpConfig http;
  GrpcConfig grpc;
  ServingConfig serving;
  log::LogOptions log;
  absl::Duration drain_timeout;
};

// One configuration option.
struct ConfigOption {
  std::string key;            // YAML path, e.g. "http.port"
  std::string flag;           // long flag without dashes, e.g. "port"
  std::string value_name;     // e.g. "PORT", for help text
  std::string default_value;  // as a user would write it
  std::string help;
  std::function<absl::Status(absl::string_view value, Config& config)> apply;
};

const std::vector<ConfigOption>& ConfigOptions();

// "http.tls.certFile" -> "MERIDIAN_HTTP_TLS_CERT_FILE".
std::string EnvVarName(absl::string_view key);

// MERIDIAN_* variables that are not configuration options of `serve` but are read elsewhere (the
// client's settings, the admin token, where the TorchScript backend module is), so that setting
// them is not an error.
bool IsNonConfigEnvVar(absl::string_view name);

// Where configuration values come from. Keys of `flags` are option keys ("http.port").
struct ConfigSources {
  std::string file;                          // empty: no file
  std::map<std::string, std::string> env;    // the process environment (all of it is fine)
  std::map<std::string, std::string> flags;  // only the flags the user gave
};

// Defaults, then file, then env, then flags. Errors name the key and where it came from.
absl::StatusOr<Config> LoadConfig(const ConfigSources& sources);

// The defaults alone.
Config DefaultConfig();

// Value parsers shared by options (exposed for tests).
absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text);  // "16KiB", "8MiB", "1GB", "512"
absl::StatusOr<absl::Duration> ParseNonNegativeDuration(absl::string_view text);  // "30s", "1m30s"
absl::StatusOr<bool> ParseBool(absl::string_view text);

}  // namespace meridian
