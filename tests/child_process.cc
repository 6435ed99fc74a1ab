#include "tests/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace meridian::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string TempPath(const char* what) {
  static std::atomic<int> counter{0};
  return "/tmp/meridian-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "." + what;
}

}  // namespace

std::string MeridianBinary() {
  const char* binary = std::getenv("TEST_MERIDIAN_BINARY");  // to test another build
  return binary != nullptr ? binary : MERIDIAN_BINARY_PATH;
}

ChildProcess::ChildProcess(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env,
                           const std::string& working_dir)
    : stdout_path_(TempPath("out")), stderr_path_(TempPath("err")) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "MERIDIAN_", 9) != 0) env_strings.emplace_back(*e);
  }
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = args;
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  pid_ = fork();
  if (pid_ == 0) {
    int out = open(stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (chdir(working_dir.c_str()) != 0) _exit(126);
    // Undo anything the test process blocked, so the child sees signals normally.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_status_) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  unlink(stdout_path_.c_str());
  unlink(stderr_path_.c_str());
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (exit_status_) return exit_status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void ChildProcess::Signal(int signal_number) {
  if (pid_ > 0 && !exit_status_) kill(pid_, signal_number);
}

std::string ChildProcess::Stdout() const { return ReadAll(stdout_path_); }
std::string ChildProcess::Stderr() const { return ReadAll(stderr_path_); }

RunResult RunMeridian(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env, const std::string& working_dir) {
  std::vector<std::string> full = {MeridianBinary()};
  full.insert(full.end(), args.begin(), args.end());
  ChildProcess child(full, env, working_dir);
  RunResult result;
  result.exit_status = child.Wait(std::chrono::seconds(60)).value_or(-1);
  result.out = child.Stdout();
  result.err = child.Stderr();
  return result;
}

}  // namespace meridian::testing
