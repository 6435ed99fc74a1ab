#pragma once

// Options shared by every command that talks to a running server: where it is (--server, else
// MERIDIAN_SERVER, else http://127.0.0.1:8080), how to trust its certificate, and the API token
// (--token, else MERIDIAN_TOKEN, else the administrator's token that a local server's first start
// wrote to <data dir>/admin-token, with the data directory from MERIDIAN_DATA_DIR or ./meridian-data).

#include <functional>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "cli/output.h"
#include "http/http_client.h"

namespace meridian::cli {

struct ClientOptions {
  std::string server;
  std::string ca_file;
  bool insecure = false;
  std::string token;
  std::string client_cert;  // mutual TLS
  std::string client_key;

  void AddTo(CLI::App& command);
  // Resolves the server URL and makes a client for it; `progress` sees file transfers.
  absl::StatusOr<std::unique_ptr<http::HttpClient>> MakeClient(http::ProgressCallback progress = nullptr) const;
  std::string ResolveToken() const;
};

// The body of a 2xx answer; otherwise an error carrying the server's message and status.
absl::StatusOr<std::string> CheckApiResponse(const http::ClientResponse& response);
// Prints a client command's output, or its error to stderr, and sets the exit code: 0, 1 when the
// operation failed, 2 for bad usage (kInvalidArgument).
void FinishCommand(int& exit_code, const absl::StatusOr<std::string>& out);

// What every client subcommand takes: the server options and -o/--output.
struct ClientCommandOptions {
  ClientOptions client;
  std::string output = "table";
};
// Adds a subcommand with the client options and -o/--output to `parent`.
CLI::App* AddClientSubcommand(CLI::App* parent, const char* name, const char* help,
                              const std::shared_ptr<ClientCommandOptions>& options);
// Connects (a bad server URL or output format is a usage error), runs `body`, prints its output
// or error and sets the exit code.
using ClientCommandBody = std::function<absl::StatusOr<std::string>(http::HttpClient&, OutputFormat)>;
void RunClientCommand(int& exit_code, const ClientCommandOptions& options, const ClientCommandBody& body);

// For query parameters and path segments: everything but unreserved characters escaped.
std::string PercentEncode(absl::string_view text);

// A JSON call to the REST API (Content-Type set when there is a body).
absl::StatusOr<std::string> CallApi(http::HttpClient& client, http::HttpMethod method, const std::string& path,
                                    const std::string& body = "");

}  // namespace meridian::cli
