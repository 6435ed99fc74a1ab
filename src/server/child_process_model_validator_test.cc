#include "server/child_process_model_validator.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::server {
namespace {

using ::testing::HasSubstr;

// Stands in for `meridian internal check-model`: a script that behaves like a loader that
// succeeds, fails, crashes or hangs. Removed when the test ends.
class FakeChecker {
 public:
  FakeChecker(const std::string& name, const std::string& body)
      : path_(std::filesystem::temp_directory_path() /
              ("meridian-fake-checker-" + name + "-" + std::to_string(getpid()))) {
    std::ofstream(path_) << "#!/bin/sh\n" << body << "\n";
    chmod(path_.c_str(), 0755);
  }
  ~FakeChecker() { std::filesystem::remove(path_); }
  operator std::string() const { return path_; }

 private:
  std::string path_;
};

serving::ModelArtifact Artifact() {
  return {.model = "m", .version = "1.0.0", .framework = "onnx", .path = "/dev/null", .metadata_json = "{}"};
}

TEST(ChildProcessModelValidatorTest, PassesWhenTheCheckSucceeds) {
  FakeChecker checker("ok", "cat >/dev/null; exit 0");
  ChildProcessModelValidator validator({.executable = checker});
  EXPECT_TRUE(validator.Validate(Artifact()).ok());
}

TEST(ChildProcessModelValidatorTest, ReportsTheChecksLastLine) {
  FakeChecker checker("fail", "echo 'framework noise' >&2; echo 'operator Frobnicate is not supported' >&2; exit 1");
  ChildProcessModelValidator validator({.executable = checker});
  absl::Status status = validator.Validate(Artifact());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "operator Frobnicate is not supported");
}

TEST(ChildProcessModelValidatorTest, ACrashingLoaderIsAClearError) {
  FakeChecker checker("crash", "kill -SEGV $$");
  ChildProcessModelValidator validator({.executable = checker});
  absl::Status status = validator.Validate(Artifact());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("loader crashed on this model file (signal 11"));
}

TEST(ChildProcessModelValidatorTest, AHangingLoaderIsKilled) {
  FakeChecker checker("hang", "exec sleep 30");
  ChildProcessModelValidator validator({.executable = checker, .timeout = absl::Milliseconds(300)});
  absl::Status status = validator.Validate(Artifact());
  EXPECT_THAT(status.message(), HasSubstr("took longer than"));
}

TEST(ChildProcessModelValidatorTest, TheCheckStartsWithNoSignalBlockedOrIgnored) {
  // As in `meridian serve`: the shutdown signals blocked, SIGPIPE ignored.
  sigset_t blocked, previous;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  pthread_sigmask(SIG_BLOCK, &blocked, &previous);
  std::signal(SIGPIPE, SIG_IGN);  // as Validate itself does
  FakeChecker checker("signals", "grep -E '^Sig(Blk|Ign)' /proc/self/status | tr '\\n\\t' '  ' >&2; echo >&2; exit 1");
  ChildProcessModelValidator validator({.executable = checker});
  absl::Status status = validator.Validate(Artifact());
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  // The kernel's masks in hex, bit N-1 for signal N; glibc keeps its own real-time signals (32
  // and 33) ignored where it must, so only the standard signals 1..31 are checked.
  const std::string message(status.message());
  for (const std::string field : {"SigBlk: ", "SigIgn: "}) {
    const size_t at = message.find(field);
    ASSERT_NE(at, std::string::npos) << message;
    EXPECT_EQ(std::stoull(message.substr(at + field.size(), 16), nullptr, 16) & 0x7fffffffULL, 0u) << message;
  }
}

TEST(ChildProcessModelValidatorTest, AMissingExecutableIsAnInternalError) {
  ChildProcessModelValidator validator({.executable = "/nonexistent/meridian"});
  EXPECT_EQ(validator.Validate(Artifact()).code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace meridian::server
