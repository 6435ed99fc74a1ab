#include "server/child_process_model_validator.h"

#include <sys/stat.h>
#include <unistd.h>

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

TEST(ChildProcessModelValidatorTest, AMissingExecutableIsAnInternalError) {
  ChildProcessModelValidator validator({.executable = "/nonexistent/meridian"});
  EXPECT_EQ(validator.Validate(Artifact()).code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace meridian::server
