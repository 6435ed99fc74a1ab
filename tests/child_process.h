#pragma once

// Runs the meridian binary as a child process for end-to-end tests, with its standard output and
// error captured in files and a clean MERIDIAN_* environment.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meridian::testing {

class ChildProcess {
 public:
  // `env` is added to this process's environment, from which every MERIDIAN_* variable has been
  // removed first. Runs in `working_dir`.
  ChildProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
               const std::string& working_dir);
  ~ChildProcess();  // kills the child if it still runs

  // Exit status, or nullopt if it has not exited within `timeout`. A death by signal is 128+N.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  void Signal(int signal_number);
  pid_t pid() const { return pid_; }

  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::string stdout_path_;
  std::string stderr_path_;
};

// The path of the binary under test: the one this build made, or $TEST_MERIDIAN_BINARY.
std::string MeridianBinary();

// Runs to completion (at most 60 s) and returns {exit status, stdout, stderr}.
struct RunResult {
  int exit_status = -1;
  std::string out;
  std::string err;
};
RunResult RunMeridian(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {},
                      const std::string& working_dir = ".");

}  // namespace meridian::testing
