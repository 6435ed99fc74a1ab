#include <csignal>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "common/config.h"
#include "common/logging.h"
#include "common/open_file_limit.h"
#include "common/signal_waiter.h"
#include "server/platform.h"

extern char** environ;

namespace meridian::cli {
namespace {

struct ServeFlags {
  std::string config_file;
  std::map<std::string, std::string> values;  // option key -> value as given
  std::map<std::string, CLI::Option*> given;  // option key -> CLI11 option
};

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq != nullptr) env.emplace(std::string(*e, static_cast<size_t>(eq - *e)), std::string(eq + 1));
  }
  return env;
}

// Below this many open files a server warns (a connection each, and models, logs and stores).
constexpr uint64_t kFewOpenFiles = 4096;

int Serve(const ServeFlags& flags) {
  ConfigSources sources;
  sources.env = ProcessEnvironment();
  sources.file = flags.config_file;
  if (sources.file.empty()) {
    if (auto it = sources.env.find("MERIDIAN_CONFIG"); it != sources.env.end()) sources.file = it->second;
  }
  for (const auto& [key, option] : flags.given) {
    if (option->count() > 0) sources.flags[key] = flags.values.at(key);
  }
  auto config = LoadConfig(sources);
  if (!config.ok()) {
    std::cerr << "meridian: " << config.status().message() << "\n";
    return kExitUsage;
  }
  if (absl::Status s = log::Init(config->log); !s.ok()) {
    std::cerr << "meridian: " << s.message() << "\n";
    return kExitUsage;
  }

  // Client connections each hold a descriptor; a low soft limit would refuse clients long before
  // the machine runs out of anything.
  if (absl::StatusOr<uint64_t> open_files = RaiseOpenFileLimit(); !open_files.ok()) {
    log::Warn("the open-file limit was not raised", {{"error", std::string(open_files.status().message())}});
  } else if (*open_files < kFewOpenFiles) {
    log::Warn("the open-file limit is low: each client connection holds one; raise the hard limit (ulimit -Hn, "
              "systemd LimitNOFILE=)",
              {{"limit", static_cast<int64_t>(*open_files)}});
  }

  // Take the shutdown and reload signals on this thread alone, before any of ours starts; a signal
  // the kernel gives to a library's thread is forwarded here (see SignalWaiter).
  SignalWaiter signals({SIGTERM, SIGINT, SIGHUP});
  std::signal(SIGPIPE, SIG_IGN);

  auto platform = server::Platform::Start(*config);
  if (!platform.ok()) {
    log::Error("cannot start", {{"error", platform.status().message()}});
    log::Flush();
    if (!config->log.file.empty()) std::cerr << "meridian: " << platform.status().message() << "\n";
    return kExitUsage;
  }
  for (;;) {
    const int signal_number = signals.Wait();
    log::Info("received signal", {{"signal", sigabbrev_np(signal_number)}});
    if (signal_number != SIGHUP) break;
    // SIGHUP: a rotated certificate. Errors keep the running one.
    if (absl::Status s = (*platform)->ReloadTls(); s.ok()) {
      log::Info("TLS certificate reloaded");
    } else {
      log::Error("TLS certificate not reloaded; the running one stays", {{"error", s.message()}});
    }
  }
  (*platform)->Shutdown();
  platform->reset();
  log::Flush();
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "serve",
      "Run the platform: REST, OIP v2, UI and /metrics over HTTP, OIP v2 over gRPC.\n"
      "Settings come from the config file, then MERIDIAN_* environment variables, then flags.");
  auto flags = std::make_shared<ServeFlags>();
  command->add_option("--config", flags->config_file,
                      "YAML config file; its keys are the `config` names below, nested at the dots "
                      "(env MERIDIAN_CONFIG)")
      ->type_name("FILE");
  for (const ConfigOption& option : ConfigOptions()) {
    CLI::Option* o = command->add_option(
        "--" + option.flag, flags->values[option.key],
        absl::StrCat(option.help, "\n(default: ",
                     option.default_value.empty() ? "none" : option.default_value, "; config ",
                     option.key, "; env ", EnvVarName(option.key), ")"));
    o->type_name(option.value_name);
    flags->given[option.key] = o;
  }
  command->callback([&exit_code, flags] { exit_code = Serve(*flags); });
}

}  // namespace meridian::cli
