#include "server/child_process_model_validator.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "serving/model_signature.h"
#include "serving/warmup.h"
#include "server/backends.h"

extern char** environ;

namespace meridian::server {
namespace {

// Closes a file descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

absl::Status ChildProcessModelValidator::Validate(const serving::ModelArtifact& artifact) {
  int in[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  Fd in_read{in[0]}, in_write{in[1]};
  if (pipe2(err, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  Fd err_read{err[0]}, err_write{err[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_read.fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_write.fd, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> args = {"meridian", "internal", "check-model", "--framework", artifact.framework,
                                   "--artifact", artifact.path};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // The server blocks its shutdown signals in every thread (SignalWaiter), and a blocked mask
  // survives exec: start the check with nothing blocked and default handlers, so that a Ctrl-C
  // to the terminal's process group ends it with the server.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, options_.executable.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return absl::InternalError(absl::StrCat("cannot start the model check (", options_.executable, "): ",
                                            std::strerror(spawned)));
  }
  close(in_read.fd);
  in_read.fd = -1;
  close(err_write.fd);
  err_write.fd = -1;
  // The metadata goes in on stdin (it can be larger than a command line allows).
  signal(SIGPIPE, SIG_IGN);
  const std::string& metadata = artifact.metadata_json;
  size_t written = 0;
  while (written < metadata.size()) {
    ssize_t n = write(in_write.fd, metadata.data() + written, metadata.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  close(in_write.fd);
  in_write.fd = -1;

  std::string errors;
  const absl::Time deadline = absl::Now() + options_.timeout;
  bool timed_out = false;
  while (true) {
    const int wait_ms = static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now())));
    pollfd p{err_read.fd, POLLIN, 0};
    const int ready = poll(&p, 1, wait_ms);
    if (ready == 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    char buffer[4096];
    const ssize_t n = read(err_read.fd, buffer, sizeof buffer);
    if (n <= 0) break;
    if (errors.size() < 64 * 1024) errors.append(buffer, static_cast<size_t>(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // The check writes its verdict last; a framework may have logged before it.
  absl::string_view reason = absl::StripAsciiWhitespace(errors);
  if (const size_t newline = reason.rfind('\n'); newline != absl::string_view::npos) {
    reason = reason.substr(newline + 1);
  }
  if (timed_out) {
    return absl::InvalidArgumentError(absl::StrCat("opening the model file took longer than ",
                                                   absl::FormatDuration(options_.timeout), "; gave up"));
  }
  if (WIFSIGNALED(status)) {
    return absl::InvalidArgumentError(absl::StrCat("the ", artifact.framework,
                                                   " loader crashed on this model file (signal ", WTERMSIG(status),
                                                   ", ", strsignal(WTERMSIG(status)), "); the file is corrupt or hostile"));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InvalidArgumentError(reason.empty() ? "the model check failed" : std::string(reason));
  }
  return absl::OkStatus();
}

int RunModelCheck(absl::string_view framework, absl::string_view artifact_path, absl::string_view metadata_json) {
  serving::BackendRegistry registry;
  RegisterBackends(registry);
  absl::StatusOr<serving::Backend*> backend = registry.Find(framework);
  if (!backend.ok()) {
    std::cerr << backend.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::optional<serving::ModelSignature>> declared = serving::SignatureFromMetadata(metadata_json);
  if (!declared.ok()) {
    std::cerr << declared.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::unique_ptr<serving::LoadedModel>> model = (*backend)->Load(
      {.artifact_path = std::string(artifact_path), .declared_signature = *declared, .intra_op_threads = 1});
  if (!model.ok()) {
    std::cerr << model.status().message() << "\n";
    return 1;
  }
  if (absl::Status warm = serving::WarmUp(**model, 1); !warm.ok()) {
    std::cerr << warm.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace meridian::server
