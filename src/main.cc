// The only entry point of the `meridian` binary.

#include <cstring>

#include "absl/synchronization/mutex.h"
#include "cli/cli.h"
#include "common/blas_kernels.h"

int main(int argc, char** argv) {
  // The server executes models: with OpenBLAS's generic kernels on a CPU it does not know, dense
  // layers run several times slower (common/blas_kernels.h). Other commands start as they are.
  if (argc > 1 && std::strcmp(argv[1], "serve") == 0) meridian::RestartWithBetterBlasKernels(argv);
#ifdef NDEBUG
  // Debian builds abseil with its deadlock detection on: every Mutex lock then also updates a
  // process-wide lock graph under a global lock. Release builds leave that to the sanitizer and
  // debug builds, which keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  return meridian::cli::Run(argc, argv);
}
