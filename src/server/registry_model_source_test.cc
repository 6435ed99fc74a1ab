#include "server/registry_model_source.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"

namespace meridian::server {
namespace {

class RegistryModelSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = ::testing::TempDir() + "/meridian-registry-source-" +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root);
    metadata_ = std::move(*store::SqliteStore::Open({.path = ":memory:"}));
    blobs_ = std::move(*store::BlobStore::Open({.root = root}));
    registry_ = std::move(*registry::Registry::Create({metadata_.get(), blobs_.get(), &clock_}));
  }

  void Register(const std::string& model, const std::string& version) {
    auto writer = blobs_->NewWriter();
    ASSERT_TRUE((*writer)->Write("weights").ok());
    const std::string digest = (*writer)->Commit(std::nullopt)->digest;
    ASSERT_TRUE(registry_->RegisterVersion(
                             {.model = model, .version = version, .framework = "onnx", .artifact_digest = digest}, "alice")
                    .ok());
  }

  testing::FakeClock clock_;
  std::unique_ptr<store::MetadataStore> metadata_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<registry::Registry> registry_;
};

TEST_F(RegistryModelSourceTest, ListsEveryModelAcrossPages) {
  for (int i = 0; i < 1005; ++i) ASSERT_TRUE(registry_->CreateModel({.name = absl::StrCat("m", i)}, "alice").ok());
  RegistryModelSource source(registry_.get());
  auto models = source.Models();
  ASSERT_TRUE(models.ok()) << models.status();
  EXPECT_EQ(models->size(), 1005u);
}

TEST_F(RegistryModelSourceTest, ResolvesAliasesAndLatestToTheirVersion) {
  ASSERT_TRUE(registry_->CreateModel({.name = "clf"}, "alice").ok());
  Register("clf", "1.0.0");
  Register("clf", "1.1.0");
  ASSERT_TRUE(registry_->SetAlias("clf", "production", "1.0.0", "alice", "").ok());
  RegistryModelSource source(registry_.get());
  EXPECT_EQ(source.Resolve("clf", "production").value(), "1.0.0");
  EXPECT_EQ(source.Resolve("clf", "latest").value(), "1.1.0");
  EXPECT_EQ(source.Resolve("clf", "1.1.0").value(), "1.1.0");
  EXPECT_EQ(source.Resolve("clf", "staging").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(source.Resolve("clf", "1.0").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(source.Resolve("nope", "latest").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace meridian::server
