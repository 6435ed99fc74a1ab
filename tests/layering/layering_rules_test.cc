#include "tests/layering/layering_rules.h"

#include "gtest/gtest.h"

namespace meridian::layering {
namespace {

size_t Count(absl::string_view path, absl::string_view content) {
  return CheckFile(path, content).size();
}

TEST(LayeringRulesTest, FrameworkHeadersOnlyInTheirBackend) {
  EXPECT_EQ(Count("backends/torchscript/model.cc", "#include <torch/script.h>\n"), 0u);
  EXPECT_EQ(Count("serving/batcher.cc", "#include <torch/script.h>\n"), 1u);
  EXPECT_EQ(Count("backends/onnx/model.cc", "#include <torch/script.h>\n"), 1u);
  EXPECT_EQ(Count("protocol/infer.cc", "  #  include \"opencv2/dnn.hpp\"\n"), 1u);
  EXPECT_EQ(Count("backends/xgboost/booster.cc", "#include <xgboost/c_api.h>\n"), 0u);
}

TEST(LayeringRulesTest, LowerLayersIncludeOnlyWhatTheyMay) {
  EXPECT_EQ(Count("common/config.cc", "#include \"common/json.h\"\n#include \"absl/strings/str_cat.h\"\n"), 0u);
  EXPECT_EQ(Count("common/config.cc", "#include \"http/router.h\"\n"), 1u);
  EXPECT_EQ(Count("http/router.cc", "#include \"metrics/http_metrics.h\"\n"), 1u);
  EXPECT_EQ(Count("metrics/x.cc", "#include \"common/logging.h\"\n"), 0u);
  EXPECT_EQ(Count("store/x.cc", "#include \"registry/model.h\"\n"), 1u);
  EXPECT_EQ(Count("http/http_server_test.cc", "#include \"testing/raw_connection.h\"\n"), 0u);
  EXPECT_EQ(Count("http/http_server.cc", "#include \"testing/raw_connection.h\"\n"), 2u);
}

TEST(LayeringRulesTest, ControlIsPure) {
  EXPECT_EQ(Count("control/scheduler/fgd.cc", "#include <vector>\n#include \"common/semver.h\"\n"), 0u);
  EXPECT_EQ(Count("control/scheduler/fgd.cc", "#include <thread>\n"), 1u);
  EXPECT_EQ(Count("control/autoscaler/hpa.cc", "#include \"absl/time/clock.h\"\n"), 1u);
  EXPECT_EQ(Count("control/autoscaler/hpa.cc", "#include \"absl/time/time.h\"\n"), 0u);
  EXPECT_EQ(Count("control/autoscaler/hpa.cc", "#include \"serving/model.h\"\n"), 1u);
}

TEST(LayeringRulesTest, NobodyIncludesTheCompositionRoot) {
  EXPECT_EQ(Count("registry/registry.cc", "#include \"server/platform.h\"\n"), 1u);
  EXPECT_EQ(Count("cli/serve_command.cc", "#include \"server/platform.h\"\n"), 0u);
  EXPECT_EQ(Count("main.cc", "#include \"cli/cli.h\"\n"), 0u);
}

TEST(LayeringRulesTest, StorageOnlyThroughStoreInterfaces) {
  EXPECT_EQ(Count("registry/registry.cc", "#include \"store/metadata_store.h\"\n"), 0u);
  EXPECT_EQ(Count("registry/registry.cc", "#include \"store/sqlite/sqlite_store.h\"\n"), 1u);
  EXPECT_EQ(Count("registry/registry_test.cc", "#include \"store/sqlite/sqlite_store.h\"\n"), 0u);
  EXPECT_EQ(Count("registry/registry.cc", "#include <sqlite3.h>\n"), 1u);
  EXPECT_EQ(Count("store/sqlite/sqlite_store.cc", "#include <sqlite3.h>\n"), 0u);
}

TEST(LayeringRulesTest, BackendsAreWiredByTheServerOnly) {
  EXPECT_EQ(Count("serving/repository.cc", "#include \"backends/onnx/onnx_backend.h\"\n"), 1u);
  EXPECT_EQ(Count("server/platform.cc", "#include \"backends/onnx/onnx_backend.h\"\n"), 0u);
}

}  // namespace
}  // namespace meridian::layering
