#include <iostream>
#include <memory>

#include "cli/cli.h"
#include "cli/client_options.h"
#include "cli/commands.h"

namespace meridian::cli {

void AddHealthCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "health", "Ask a running server whether it is live and ready (exit 0 when ready)");
  auto options = std::make_shared<ClientOptions>();
  options->AddTo(*command);
  command->callback([&exit_code, options] {
    auto client = options->MakeClient();
    if (!client.ok()) {
      std::cerr << "meridian: " << client.status().message() << "\n";
      exit_code = kExitUsage;
      return;
    }
    auto details = (*client)->Get("/health");
    if (!details.ok()) {
      std::cerr << "meridian: " << details.status().message() << "\n";
      exit_code = kExitFailure;
      return;
    }
    auto ready = (*client)->Get("/health/ready");
    std::cout << details->body << "\n";
    exit_code = ready.ok() && ready->status == 200 ? kExitOk : kExitFailure;
  });
}

}  // namespace meridian::cli
