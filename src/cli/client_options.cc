#include "cli/client_options.h"

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/cli.h"
#include "rapidjson/document.h"

namespace meridian::cli {

void ClientOptions::AddTo(CLI::App& command) {
  command.add_option("--server", server,
                     "server URL (default: $MERIDIAN_SERVER, else http://127.0.0.1:8080)");
  command.add_option("--ca-file", ca_file, "PEM file of CAs to trust for an https:// server");
  command.add_flag("--insecure", insecure, "do not verify the server's TLS certificate");
  command.add_option("--client-cert", client_cert, "PEM client certificate to present (mutual TLS)");
  command.add_option("--client-key", client_key, "PEM private key of --client-cert");
  command.add_option("--token", token,
                     "API token (default: $MERIDIAN_TOKEN, else the local server's <data dir>/admin-token)");
}

std::string ClientOptions::ResolveToken() const {
  if (!token.empty()) return token;
  if (const char* env = std::getenv("MERIDIAN_TOKEN"); env != nullptr && *env != '\0') return env;
  const char* data_dir = std::getenv("MERIDIAN_DATA_DIR");
  std::ifstream file(absl::StrCat(data_dir != nullptr && *data_dir != '\0' ? data_dir : "./meridian-data",
                                  "/admin-token"));
  std::string line;
  if (file && std::getline(file, line)) return std::string(absl::StripAsciiWhitespace(line));
  return "";
}

void FinishCommand(int& exit_code, const absl::StatusOr<std::string>& out) {
  if (!out.ok()) {
    std::cerr << "meridian: " << out.status().message() << "\n";
    exit_code = absl::IsInvalidArgument(out.status()) ? kExitUsage : kExitFailure;
    return;
  }
  std::cout << *out;
  exit_code = kExitOk;
}

CLI::App* AddClientSubcommand(CLI::App* parent, const char* name, const char* help,
                              const std::shared_ptr<ClientCommandOptions>& options) {
  CLI::App* c = parent->add_subcommand(name, help);
  options->client.AddTo(*c);
  c->add_option("-o,--output", options->output, "output format: table, json or yaml")->capture_default_str();
  return c;
}

void RunClientCommand(int& exit_code, const ClientCommandOptions& options, const ClientCommandBody& body) {
  auto format = ParseOutputFormat(options.output);
  auto client =
      format.ok() ? options.client.MakeClient() : absl::StatusOr<std::unique_ptr<http::HttpClient>>(format.status());
  if (!client.ok()) {
    FinishCommand(exit_code, absl::InvalidArgumentError(client.status().message()));
    return;
  }
  FinishCommand(exit_code, body(**client, *format));
}

std::string PercentEncode(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      absl::StrAppend(&out, "%", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  return out;
}

absl::StatusOr<std::string> CheckApiResponse(const http::ClientResponse& r) {
  if (r.status >= 200 && r.status < 300) return r.body;
  std::string message = r.body;
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("error") && doc["error"].IsString()) {
    message = doc["error"].GetString();
  }
  if (r.status == 401) absl::StrAppend(&message, "; pass --token or set MERIDIAN_TOKEN");
  return absl::FailedPreconditionError(absl::StrCat(message, " (HTTP ", r.status, ")"));
}

absl::StatusOr<std::string> CallApi(http::HttpClient& client, http::HttpMethod method, const std::string& path,
                                    const std::string& body) {
  http::HeaderList headers;
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  auto response = client.Send(method, path, body, headers);
  if (!response.ok()) return response.status();
  return CheckApiResponse(*response);
}

absl::StatusOr<std::unique_ptr<http::HttpClient>> ClientOptions::MakeClient(http::ProgressCallback progress) const {
  std::string url = server;
  if (url.empty()) {
    const char* env = std::getenv("MERIDIAN_SERVER");
    url = env != nullptr && *env != '\0' ? env : "http://127.0.0.1:8080";
  }
  return http::HttpClient::Create(
      url, {.ca_file = ca_file,
            .insecure_skip_verify = insecure,
            .client_cert_file = client_cert,
            .client_key_file = client_key.empty() ? client_cert : client_key,
            .progress = std::move(progress),
            .bearer_token = ResolveToken()});
}

}  // namespace meridian::cli
