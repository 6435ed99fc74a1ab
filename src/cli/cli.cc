#include "cli/cli.h"

#include <iostream>

#include "cli/commands.h"

namespace meridian::cli {

int Run(int argc, char** argv) {
  CLI::App app{"Meridian: model registry, inference serving and deployments in one binary."};
  app.name("meridian");
  app.require_subcommand(1, 1);
  app.footer("Run `meridian COMMAND --help` for a command's options.");
  int exit_code = kExitOk;
  AddServeCommand(app, exit_code);
  AddVersionCommand(app, exit_code);
  AddHealthCommand(app, exit_code);
  AddModelCommand(app, exit_code);
  AddSecurityCommands(app, exit_code);
  AddDeploymentCommands(app, exit_code);
  AddSimCommand(app, exit_code);
  AddInternalCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "meridian: " << e.what() << "\nRun `meridian --help` for usage.\n";
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace meridian::cli
