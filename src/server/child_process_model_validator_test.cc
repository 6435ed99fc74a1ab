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
// succeeds, fails, crashes or hangs.
std::string FakeChecker(const std::string& name, const std::string& body) {
  const std::string path = std::filesystem::temp_directory_path() / ("meridian-fake-checker-" + name + "-" +
                                                                      std::to_string(getpid()));
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  chmod(path.c_str(), 0755);
  return path;
}

serving::ModelArtifact Artifact() {
  return {.model = "m", .version = "1.0.0", .framework = "onnx", .path = "/dev/null", .metadata_json = "{}"};
}

TEST(ChildProcessModelValidatorTest, PassesWhenTheCheckSucceeds) {
  ChildProcessModelValidator validator({.executable = FakeChecker("ok", "cat >/dev/null; exit 0")});
  EXPECT_TRUE(validator.Validate(Artifact()).ok());
}

TEST(ChildProcessModelValidatorTest, ReportsTheChecksLastLine) {
  ChildProcessModelValidator validator(
      {.executable = FakeChecker("fail", "echo 'framework noise' >&2; echo 'operator Frobnicate is not supported' >&2; exit 1")});
  absl::Status status = validator.Validate(Artifact());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "operator Frobnicate is not supported");
}

TEST(ChildProcessModelValidatorTest, ACrashingLoaderIsAClearError) {
  ChildProcessModelValidator validator({.executable = FakeChecker("crash", "kill -SEGV $$")});
  absl::Status status = validator.Validate(Artifact());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("loader crashed on this model file (signal 11"));
}

TEST(ChildProcessModelValidatorTest, AHangingLoaderIsKilled) {
  ChildProcessModelValidator validator(
      {.executable = FakeChecker("hang", "exec sleep 30"), .timeout = absl::Milliseconds(300)});
  absl::Status status = validator.Validate(Artifact());
  EXPECT_THAT(status.message(), HasSubstr("took longer than"));
}

TEST(ChildProcessModelValidatorTest, AMissingExecutableIsAnInternalError) {
  ChildProcessModelValidator validator({.executable = "/nonexistent/meridian"});
  EXPECT_EQ(validator.Validate(Artifact()).code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace meridian::server
