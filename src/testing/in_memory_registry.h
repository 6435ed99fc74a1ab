#pragma once

// A registry over an in-memory SQLite store and a blob store in a fresh folder (named after the
// running test), for the tests of the registry and of what is built on it.

#include <filesystem>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "registry/registry.h"
#include "store/sqlite/sqlite_store.h"

namespace meridian::testing {

class InMemoryRegistry {
 public:
  // `options` gives everything but the stores (the clock, the metadata check).
  explicit InMemoryRegistry(const std::string& folder, registry::RegistryOptions options = {}) {
    const std::string root = ::testing::TempDir() + "/" + folder + "-" +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root);
    store_ = std::move(*store::SqliteStore::Open({.path = ":memory:"}));
    blobs_ = std::move(*store::BlobStore::Open({.root = root}));
    options.metadata = store_.get();
    options.blobs = blobs_.get();
    registry_ = std::move(*registry::Registry::Create(options));
  }

  registry::Registry& registry() { return *registry_; }
  store::SqliteStore& store() { return *store_; }
  store::BlobStore& blobs() { return *blobs_; }

  // Stores `content` as a blob; its digest, for registering a version.
  std::string Upload(const std::string& content) {
    auto writer = blobs_->NewWriter();
    EXPECT_TRUE((*writer)->Write(content).ok());
    return (*writer)->Commit(std::nullopt)->digest;
  }

 private:
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<registry::Registry> registry_;
};

}  // namespace meridian::testing
