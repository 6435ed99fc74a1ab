#pragma once

// Options shared by every command that talks to a running server: where it is (--server, else
// MERIDIAN_SERVER, else http://127.0.0.1:8080) and how to trust its certificate.

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "http/http_client.h"

namespace meridian::cli {

struct ClientOptions {
  std::string server;
  std::string ca_file;
  bool insecure = false;

  void AddTo(CLI::App& command);
  // Resolves the server URL and makes a client for it; `progress` sees file transfers.
  absl::StatusOr<std::unique_ptr<http::HttpClient>> MakeClient(http::ProgressCallback progress = nullptr) const;
};

}  // namespace meridian::cli
