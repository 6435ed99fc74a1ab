#include "store/blob_store.h"

#include <filesystem>
#include <fstream>

#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::store {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/meridian-blobs-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    auto store = BlobStore::Open({.root = root_});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  absl::StatusOr<BlobInfo> Put(const std::string& content, std::optional<std::string> expected = std::nullopt) {
    auto writer = store_->NewWriter();
    if (!writer.ok()) return writer.status();
    // Several writes, as a streamed upload does.
    for (size_t i = 0; i < content.size(); i += 7) {
      if (auto s = (*writer)->Write(absl::string_view(content).substr(i, 7)); !s.ok()) return s;
    }
    return (*writer)->Commit(expected);
  }

  size_t TempFiles() {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(root_ + "/tmp")) ++n;
    return n;
  }

  std::string root_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(BlobStoreTest, StoresByContentDigest) {
  auto info = Put("hello model");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->digest, "sha256:" + Sha256::HexOf("hello model"));
  EXPECT_EQ(info->size, 11u);
  EXPECT_EQ(store_->Stat(info->digest)->size, 11u);
  auto path = store_->VerifiedPath(info->digest);
  ASSERT_TRUE(path.ok());
  std::ifstream in(*path);
  std::string read((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(read, "hello model");
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(BlobStoreTest, IdenticalUploadsAreStoredOnce) {
  auto a = Put("same bytes");
  auto b = Put("same bytes");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->digest, b->digest);
  size_t blobs = 0;
  for ([[maybe_unused]] const auto& e : fs::recursive_directory_iterator(root_ + "/sha256")) {
    if (e.is_regular_file()) ++blobs;
  }
  EXPECT_EQ(blobs, 1u);
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(BlobStoreTest, DigestMismatchStoresNothing) {
  const std::string wrong = "sha256:" + std::string(64, '0');
  auto info = Put("payload", wrong);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(info.status().message()), HasSubstr("digest mismatch"));
  EXPECT_EQ(store_->Stat("sha256:" + Sha256::HexOf("payload")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(BlobStoreTest, AbandonedUploadLeavesNothing) {
  {
    auto writer = store_->NewWriter();
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write("half of it").ok());
    EXPECT_EQ(TempFiles(), 1u);
  }
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(BlobStoreTest, LeftoverTemporariesAreRemovedAtOpen) {
  std::ofstream(root_ + "/tmp/crashed.upload") << "partial";
  auto reopened = BlobStore::Open({.root = root_});
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->removed_temporaries(), 1);
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(BlobStoreTest, CorruptionIsDetectedOnRead) {
  auto info = Put("precious weights");
  ASSERT_TRUE(info.ok());
  std::ofstream(*store_->PathOf(info->digest), std::ios::trunc) << "tampered weights";
  auto path = store_->VerifiedPath(info->digest);
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(BlobStoreTest, RejectsMalformedDigests) {
  for (const char* bad : {"", "sha256:", "md5:abc", "sha256:../../etc/passwd",
                          "sha256:ABCDEF0000000000000000000000000000000000000000000000000000000000"}) {
    EXPECT_EQ(store_->Stat(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->Delete(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(store_->Stat("sha256:" + std::string(64, 'a')).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(BlobStoreTest, Delete) {
  auto info = Put("bye");
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(store_->Delete(info->digest).ok());
  EXPECT_EQ(store_->Stat(info->digest).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete(info->digest).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace meridian::store
