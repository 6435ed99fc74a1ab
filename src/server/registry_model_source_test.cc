#include "server/registry_model_source.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "testing/in_memory_registry.h"

namespace meridian::server {
namespace {

class RegistryModelSourceTest : public ::testing::Test {
 protected:
  void Register(const std::string& model, const std::string& version) {
    ASSERT_TRUE(registry_->RegisterVersion({.model = model, .version = version, .framework = "onnx",
                                            .artifact_digest = stores_.Upload("weights")},
                                           "alice")
                    .ok());
  }

  testing::InMemoryRegistry stores_{"meridian-registry-source"};
  registry::Registry* registry_ = &stores_.registry();
};

TEST_F(RegistryModelSourceTest, ListsEveryModelAcrossPages) {
  for (int i = 0; i < 1005; ++i) ASSERT_TRUE(registry_->CreateModel({.name = absl::StrCat("m", i)}, "alice").ok());
  RegistryModelSource source(registry_);
  auto models = source.Models();
  ASSERT_TRUE(models.ok()) << models.status();
  EXPECT_EQ(models->size(), 1005u);
}

TEST_F(RegistryModelSourceTest, ResolvesAliasesAndLatestToTheirVersion) {
  ASSERT_TRUE(registry_->CreateModel({.name = "clf"}, "alice").ok());
  Register("clf", "1.0.0");
  Register("clf", "1.1.0");
  ASSERT_TRUE(registry_->SetAlias("clf", "production", "1.0.0", "alice", "").ok());
  RegistryModelSource source(registry_);
  EXPECT_EQ(source.Resolve("clf", "production").value(), "1.0.0");
  EXPECT_EQ(source.Resolve("clf", "latest").value(), "1.1.0");
  EXPECT_EQ(source.Resolve("clf", "1.1.0").value(), "1.1.0");
  EXPECT_EQ(source.Resolve("clf", "staging").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(source.Resolve("clf", "1.0").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(source.Resolve("nope", "latest").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace meridian::server
