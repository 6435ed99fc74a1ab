#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/allocator.h"
#include "common/blas_kernels.h"
#include "common/build_info.h"
#include "server/backends.h"

namespace meridian::cli {

void AddVersionCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand("version", "Print the version and build details");
  command->callback([&exit_code] {
    const BuildInfo& build = GetBuildInfo();
    std::cout << "meridian " << build.version << "\n"
              << "commit:     " << build.git_commit << "\n"
              << "build type: " << build.build_type << "\n"
              << "sanitizers: " << build.sanitizers << "\n"
              << "allocator:  " << AllocatorName() << "\n"
              << "blas:       "
              << (ServingBlasCoreName().empty() ? "none loaded" : "OpenBLAS, " + ServingBlasCoreName() + " kernels")
              << "\n"
              << "backends:  ";
    serving::BackendRegistry backends;
    server::RegisterBackends(backends);
    for (const serving::Backend* backend : backends.backends()) {
      std::cout << " " << backend->name() << " (" << backend->framework_version() << ")";
    }
    std::cout << "\n";
    exit_code = kExitOk;
  });
}

}  // namespace meridian::cli
