#pragma once

// The contract of MetadataStore as a parameterised test suite. Every implementation instantiates
// it with a factory that returns a fresh, empty store:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, MetadataStoreTest, ::testing::Values(&MakeSqlite));

#include <functional>
#include <memory>

#include "gtest/gtest.h"
#include "store/metadata_store.h"

namespace meridian::store {

using StoreFactory = std::unique_ptr<MetadataStore> (*)();

class MetadataStoreTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam()();
    ASSERT_NE(store_, nullptr);
  }
  std::unique_ptr<MetadataStore> store_;
};

}  // namespace meridian::store
