#pragma once

// One function per subcommand; each adds itself to the app and, when run, stores its exit code.

#include "CLI/CLI.hpp"

namespace meridian::cli {

void AddServeCommand(CLI::App& app, int& exit_code);
void AddVersionCommand(CLI::App& app, int& exit_code);
void AddHealthCommand(CLI::App& app, int& exit_code);
void AddModelCommand(CLI::App& app, int& exit_code);
// token, role, rolebinding, auth, audit.
void AddSecurityCommands(CLI::App& app, int& exit_code);
// apply, get, describe, rollout, delete: deployments.
void AddDeploymentCommands(CLI::App& app, int& exit_code);
void AddSimCommand(CLI::App& app, int& exit_code);
// `meridian sim schedule`, added under the sim command.
void AddSimScheduleCommand(CLI::App& sim, int& exit_code);
// Hidden commands the server runs in child processes.
void AddInternalCommand(CLI::App& app, int& exit_code);

}  // namespace meridian::cli
