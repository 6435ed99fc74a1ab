// The only entry point of the `meridian` binary.

#include "absl/synchronization/mutex.h"
#include "cli/cli.h"

int main(int argc, char** argv) {
#ifdef NDEBUG
  // Debian builds abseil with its deadlock detection on: every Mutex lock then also updates a
  // process-wide lock graph under a global lock. Release builds leave that to the sanitizer and
  // debug builds, which keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  return meridian::cli::Run(argc, argv);
}
