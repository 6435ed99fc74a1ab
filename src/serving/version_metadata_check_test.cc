#include "serving/version_metadata_check.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::serving {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(absl::string_view json, const BatchingConfig& defaults = {}) {
  absl::Status s = CheckVersionMetadata(json, defaults);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << json;
  return std::string(s.message());
}

TEST(VersionMetadataCheckTest, AcceptsWhatLoadsAndMetadataWithoutServingSettings) {
  EXPECT_TRUE(CheckVersionMetadata("{}", {}).ok());
  EXPECT_TRUE(CheckVersionMetadata(R"({"metrics":{"accuracy":0.9},"owner":"x"})", {}).ok());
  EXPECT_TRUE(CheckVersionMetadata(
                  R"({"inputs":[{"name":"x","datatype":"FP32","shape":[-1,4]}],
                      "outputs":[{"name":"y","datatype":"FP32","shape":[-1,2]}],
                      "batching":{"maxBatchSize":32,"preferredBatchSizes":[8,16],"maxQueueDelay":"500us"},
                      "responseCache":{"enabled":true,"ttl":"60s"}})",
                  {})
                  .ok());
}

TEST(VersionMetadataCheckTest, RefusesEachUnloadableSettingNamingIt) {
  EXPECT_THAT(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1]}]})"), HasSubstr("both 'inputs' and 'outputs'"));
  EXPECT_THAT(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FLOAT","shape":[1]}],
                          "outputs":[{"name":"y","datatype":"FP32","shape":[1]}]})"),
              HasSubstr("FLOAT"));
  EXPECT_THAT(ErrorOf(R"({"batching":{"maxBatchSize":0}})"), HasSubstr("batching.maxBatchSize"));
  EXPECT_THAT(ErrorOf(R"({"batching":{"maxQueueDelay":"soon"}})"), HasSubstr("batching.maxQueueDelay"));
  EXPECT_THAT(ErrorOf(R"({"batching":{"maxBatchSize":4,"bogus":1}})"), HasSubstr("batching.bogus"));
  EXPECT_THAT(ErrorOf(R"({"responseCache":{"enabled":"yes"}})"), HasSubstr("responseCache"));
}

class FakeSignaturelessBackend final : public Backend {
 public:
  explicit FakeSignaturelessBackend(bool requires_signature) : requires_signature_(requires_signature) {}
  std::string name() const override { return "fake"; }
  std::string framework_version() const override { return "0"; }
  bool requires_declared_signature() const override { return requires_signature_; }
  // Checking metadata at push must never load the file (it may be large, or hostile).
  absl::StatusOr<std::unique_ptr<LoadedModel>> Load(const ModelLoadOptions&) override {
    ADD_FAILURE() << "the metadata check loaded the model";
    return absl::InternalError("the metadata check must not load the model");
  }

 private:
  bool requires_signature_;
};

TEST(VersionMetadataCheckTest, AFrameworkWhoseFilesDoNotSayTheirSignatureNeedsItDeclared) {
  FakeSignaturelessBackend needs(true);
  absl::Status refused = CheckVersionMetadata(R"({"owner":"x"})", {}, &needs);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("declare them in the version metadata"));
  EXPECT_TRUE(CheckVersionMetadata(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[-1,4]}],
                                       "outputs":[{"name":"y","datatype":"FP32","shape":[-1,2]}]})",
                                   {}, &needs)
                  .ok());
  FakeSignaturelessBackend reads_its_file(false);
  EXPECT_TRUE(CheckVersionMetadata("{}", {}, &reads_its_file).ok());
}

TEST(VersionMetadataCheckTest, BatchingIsCheckedOverTheServersDefaults) {
  // A preferred size within the server's maxBatchSize is fine; beyond it is not.
  EXPECT_TRUE(CheckVersionMetadata(R"({"batching":{"preferredBatchSizes":[16]}})", {.max_batch_size = 32}).ok());
  EXPECT_THAT(ErrorOf(R"({"batching":{"preferredBatchSizes":[16]}})", {.max_batch_size = 8}),
              HasSubstr("within 1..maxBatchSize (8)"));
}

}  // namespace
}  // namespace meridian::serving
