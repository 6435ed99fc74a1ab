// Loading and unloading real models (every backend) 200 times leaves resident memory flat:
// unloading returns what loading took.

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/allocator.h"
#include "common/memory_limits.h"
#include "gtest/gtest.h"
#include "server/backends.h"
#include "serving/model_repository.h"

namespace meridian {
namespace {

// Serves tests/fixtures/models/<name>/ as version 1.0.0 of model <name>.
class FixtureDirectorySource final : public serving::ModelSource {
 public:
  absl::StatusOr<serving::ModelArtifact> Fetch(absl::string_view model, absl::string_view ref) override {
    const std::string dir = std::string(TEST_SOURCE_DIR) + "/tests/fixtures/models/" + std::string(model);
    serving::ModelArtifact artifact{.model = std::string(model), .version = "1.0.0"};
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().stem() == "model") artifact.path = entry.path().string();
    }
    const std::string ext = std::filesystem::path(artifact.path).extension().string();
    artifact.framework = ext == ".pt" ? "torchscript" : ext == ".onnx" ? "onnx" : "xgboost";
    std::ifstream metadata(dir + "/metadata.json");
    artifact.metadata_json.assign(std::istreambuf_iterator<char>(metadata), std::istreambuf_iterator<char>());
    return artifact;
  }
  absl::StatusOr<std::vector<std::string>> Versions(absl::string_view) override {
    return std::vector<std::string>{"1.0.0"};
  }
  absl::StatusOr<std::string> Resolve(absl::string_view, absl::string_view) override { return std::string("1.0.0"); }
  absl::StatusOr<std::vector<std::string>> Models() override {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(std::string(TEST_SOURCE_DIR) + "/tests/fixtures/models")) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }
};

uint64_t SettledResidentBytes() {
  ReleaseFreedMemory();  // hand freed pages back, as the allocator would over time
  return AllocatedResidentBytes();
}

// Every backend, models from tests/fixtures/models. Resident memory is what these tests measure,
// which is not meaningful under AddressSanitizer: it holds freed blocks in a quarantine, so the
// resident set grows by design (the optimised build measures; LeakSanitizer checks for leaks).
class RealBackendsTest : public ::testing::TestWithParam<std::string> {
 protected:
  RealBackendsTest() { server::RegisterBackends(backends_); }
  void SetUp() override {
#ifdef __SANITIZE_ADDRESS__
    GTEST_SKIP() << "resident memory is not meaningful under AddressSanitizer";
#endif
  }
  serving::BackendRegistry backends_;
  FixtureDirectorySource source_;
  serving::ModelRepository repository_{{.source = &source_, .backends = &backends_}};
};

class ModelResidencyTest : public RealBackendsTest {};

TEST_P(ModelResidencyTest, LoadUnload200TimesKeepsResidentMemoryFlat) {
  const std::string model = GetParam();
  auto cycle = [&] {
    ASSERT_TRUE(repository_.Load(model, {}).ok());
    ASSERT_TRUE(repository_.Find(model, "").ok());
    ASSERT_TRUE(repository_.Unload(model).ok());
  };
  for (int i = 0; i < 20; ++i) cycle();  // framework caches and thread pools settle first
  const uint64_t before = SettledResidentBytes();
  for (int i = 0; i < 200; ++i) cycle();
  const uint64_t after = SettledResidentBytes();
  const double growth_mib = (static_cast<double>(after) - static_cast<double>(before)) / (1 << 20);
  std::cout << model << " (" << AllocatorName() << "): resident " << before / (1 << 20) << " MiB -> " << after / (1 << 20) << " MiB after 200 cycles\n";
  EXPECT_LT(growth_mib, 8.0) << "resident memory grew by " << growth_mib << " MiB over 200 load/unload cycles";
}

class FirstModelResidencyTest : public RealBackendsTest {};

// The framework's own first-use memory (libraries, registries, thread pools) is not the first
// model's: with a tight budget it would refuse a model that fits.
TEST_P(FirstModelResidencyTest, IsChargedWhatTheNextLoadOfItIs) {
  const std::string model = GetParam();
  auto measured = [&] {
    EXPECT_TRUE(repository_.Load(model, {}).ok());
    auto served = repository_.Find(model, "");
    EXPECT_TRUE(served.ok());
    const uint64_t bytes = served.ok() ? (*served)->memory_bytes() : 0;
    EXPECT_TRUE(repository_.Unload(model).ok());
    return bytes;
  };
  const uint64_t first = measured();
  const uint64_t second = measured();
  std::cout << model << ": first load measured " << first << " bytes, the next " << second << "\n";
  EXPECT_LE(first, second + (512u << 10)) << "the first load was charged the framework's first use";
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, ModelResidencyTest,
                         ::testing::Values("mlp-onnx", "classifier-xgboost-json", "mlp-torchscript"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

INSTANTIATE_TEST_SUITE_P(EveryFixture, FirstModelResidencyTest,
                         ::testing::Values("mlp-onnx", "cnn-onnx", "two-in-two-out-onnx", "classifier-xgboost-json",
                                           "classifier-xgboost-ubj", "mlp-torchscript", "cnn-torchscript",
                                           "two-in-two-out-torchscript"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace meridian
