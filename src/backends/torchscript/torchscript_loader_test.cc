#include <dlfcn.h>
#include <stdlib.h>

#include "absl/strings/match.h"
#include "backends/torchscript/torchscript_backend.h"
#include "gtest/gtest.h"

namespace meridian::backends {
namespace {

bool LibtorchLoaded() { return dlopen("libtorch_cpu.so.1.13", RTLD_NOW | RTLD_NOLOAD) != nullptr; }

// Set by the tests that open the module: from then on this process has libtorch whatever the
// test (a test binary that had it from the start, linked in, fails the first test instead).
bool module_opened_here = false;

// Sets MERIDIAN_TORCHSCRIPT_BACKEND for one test, whichever way the test ends.
class ScopedModulePath {
 public:
  explicit ScopedModulePath(const char* path) { setenv("MERIDIAN_TORCHSCRIPT_BACKEND", path, 1); }
  ~ScopedModulePath() { unsetenv("MERIDIAN_TORCHSCRIPT_BACKEND"); }
};

serving::ModelLoadOptions MlpOptions() {
  serving::ModelSignature signature;
  signature.inputs.push_back({.name = "input__0", .type = serving::DataType::kFp32, .shape = {-1, 784}});
  signature.outputs.push_back({.name = "output__0", .type = serving::DataType::kFp32, .shape = {-1, 10}});
  return {.artifact_path = TEST_SOURCE_DIR "/tests/fixtures/models/mlp-torchscript/model.pt",
          .declared_signature = signature};
}

// ctest runs each test in a process of its own; run together, the first to load a model loads
// libtorch for the rest, hence the order here.
TEST(TorchScriptLoaderTest, TheBackendLoadsLibtorchOnlyForItsFirstModel) {
  if (module_opened_here) GTEST_SKIP() << "another test in this process has loaded libtorch already";
  std::unique_ptr<serving::Backend> backend = MakeTorchScriptBackend();
  EXPECT_EQ(backend->name(), "torchscript");
  EXPECT_EQ(backend->framework_version().substr(0, 2), "1.");
  EXPECT_FALSE(LibtorchLoaded());

  module_opened_here = true;
  auto model = backend->Load(MlpOptions());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_TRUE(LibtorchLoaded());
  auto outputs = (*model)->Execute({serving::Tensor::Owned("input__0", serving::DataType::kFp32, {1, 784},
                                                           std::string(784 * sizeof(float), '\0'))},
                                   {});
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(outputs->size(), 1u);
  EXPECT_EQ((*outputs)[0].shape(), (serving::Shape{1, 10}));
}

TEST(TorchScriptLoaderTest, AModuleThatCannotBeOpenedIsAClearErrorOnEveryLoad) {
  ScopedModulePath path("/nonexistent/libmeridian_backend_torchscript.so");
  std::unique_ptr<serving::Backend> backend = MakeTorchScriptBackend();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto model = backend->Load(MlpOptions());
    ASSERT_FALSE(model.ok());
    EXPECT_EQ(model.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_NE(model.status().message().find("MERIDIAN_TORCHSCRIPT_BACKEND"), std::string::npos) << model.status();
    EXPECT_NE(model.status().message().find("/nonexistent/libmeridian_backend_torchscript.so"), std::string::npos)
        << model.status();
  }
  EXPECT_EQ(backend->Prepare().code(), absl::StatusCode::kUnavailable);
}

TEST(TorchScriptLoaderTest, ALibraryThatIsNotTheModuleIsAClearError) {
  ScopedModulePath path("libm.so.6");  // opens, but has no backend in it
  auto model = MakeTorchScriptBackend()->Load(MlpOptions());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(model.status().message().find("libm.so.6: no meridian_torchscript_backend_create"), std::string::npos)
      << model.status();
}

TEST(TorchScriptLoaderTest, TheModuleNamedByTheEnvironmentIsUsed) {
  ScopedModulePath path(MERIDIAN_TORCHSCRIPT_MODULE);
  module_opened_here = true;
  auto model = MakeTorchScriptBackend()->Load(MlpOptions());
  EXPECT_TRUE(model.ok()) << model.status();
}

// libtorch's errors are tracebacks many lines long; the answer names the cause alone.
TEST(TorchScriptLoaderTest, ErrorsSayWhatWentWrongWithoutTheTraceback) {
  std::unique_ptr<serving::Backend> backend = MakeTorchScriptBackend();
  module_opened_here = true;
  serving::ModelLoadOptions options = MlpOptions();
  options.declared_signature->inputs[0].shape = {-1, -1};  // lets through what the model cannot take
  auto model = backend->Load(options);
  ASSERT_TRUE(model.ok()) << model.status();
  auto outputs = (*model)->Execute(
      {serving::Tensor::Owned("input__0", serving::DataType::kFp32, {1, 10}, std::string(10 * sizeof(float), '\0'))},
      {});
  ASSERT_FALSE(outputs.ok());
  EXPECT_EQ(outputs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(outputs.status().message(),
            "TorchScript execution failed: RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x10 and 784x64)");

  options.artifact_path = TEST_SOURCE_DIR "/tests/fixtures/models/mlp-torchscript/metadata.json";  // not an archive
  auto not_a_model = backend->Load(options);
  ASSERT_FALSE(not_a_model.ok());
  EXPECT_EQ(not_a_model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(not_a_model.status().message(), "not a loadable TorchScript file: ")) << not_a_model.status();
  EXPECT_EQ(not_a_model.status().message().find('\n'), std::string::npos) << not_a_model.status();
  EXPECT_GT(not_a_model.status().message().size(), std::string("not a loadable TorchScript file: ").size() + 10)
      << not_a_model.status();
}

}  // namespace
}  // namespace meridian::backends
