#include "cli/client_options.h"

#include <cstdlib>

namespace meridian::cli {

void ClientOptions::AddTo(CLI::App& command) {
  command.add_option("--server", server,
                     "server URL (default: $MERIDIAN_SERVER, else http://127.0.0.1:8080)");
  command.add_option("--ca-file", ca_file, "PEM file of CAs to trust for an https:// server");
  command.add_flag("--insecure", insecure, "do not verify the server's TLS certificate");
}

absl::StatusOr<std::unique_ptr<http::HttpClient>> ClientOptions::MakeClient(http::ProgressCallback progress) const {
  std::string url = server;
  if (url.empty()) {
    const char* env = std::getenv("MERIDIAN_SERVER");
    url = env != nullptr && *env != '\0' ? env : "http://127.0.0.1:8080";
  }
  return http::HttpClient::Create(
      url, {.ca_file = ca_file, .insecure_skip_verify = insecure, .progress = std::move(progress)});
}

}  // namespace meridian::cli
