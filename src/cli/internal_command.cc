#include <iostream>
#include <iterator>
#include <string>

#include "cli/cli.h"
#include "cli/commands.h"
#include "server/child_process_model_validator.h"

namespace meridian::cli {

void AddInternalCommand(CLI::App& app, int& exit_code) {
  // Hidden from --help (empty group): only the server itself runs these.
  CLI::App* internal = app.add_subcommand("internal", "Commands the server runs in child processes");
  internal->group("");
  internal->require_subcommand(1);
  CLI::App* check = internal->add_subcommand(
      "check-model", "Open a model file with its backend and run one warm-up request; version metadata on stdin");
  auto framework = std::make_shared<std::string>();
  auto artifact = std::make_shared<std::string>();
  check->add_option("--framework", *framework, "backend name")->required();
  check->add_option("--artifact", *artifact, "model file")->required()->check(CLI::ExistingFile);
  check->callback([&exit_code, framework, artifact] {
    std::string metadata((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    exit_code = server::RunModelCheck(*framework, *artifact, metadata);
  });
}

}  // namespace meridian::cli
