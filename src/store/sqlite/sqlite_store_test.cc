#include "store/sqlite/sqlite_store.h"

#include <filesystem>

#include "gmock/gmock.h"
#include "store/metadata_store_test_suite.h"

namespace meridian::store {
namespace {

std::unique_ptr<MetadataStore> MakeSqlite() {
  auto store = SqliteStore::Open({.path = ":memory:"});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::unique_ptr<MetadataStore>(std::move(*store)) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Sqlite, MetadataStoreTest, ::testing::Values(&MakeSqlite));

TEST(SqliteStoreTest, SurvivesReopeningAndKeepsItsSchemaVersion) {
  const std::string path = ::testing::TempDir() + "/meridian-sqlite-reopen.db";
  std::filesystem::remove(path);
  {
    auto store = SqliteStore::Open({.path = path});
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->schema_version(), 3);
    ASSERT_TRUE((*store)->CreateModel({.name = "kept"}).ok());
  }
  auto reopened = SqliteStore::Open({.path = path});
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->schema_version(), 3);
  EXPECT_TRUE((*reopened)->GetModel("kept").ok());
}

TEST(SqliteStoreTest, RefusesANewerSchema) {
  const std::string path = ::testing::TempDir() + "/meridian-sqlite-newer.db";
  std::filesystem::remove(path);
  {
    auto store = SqliteStore::Open({.path = path});
    ASSERT_TRUE(store.ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (99, 0)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = SqliteStore::Open({.path = path});
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), ::testing::HasSubstr("upgrade meridian"));
}

TEST(SqliteStoreTest, UnopenableFileIsAClearError) {
  auto store = SqliteStore::Open({.path = "/nonexistent-dir/meta.db"});
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), ::testing::HasSubstr("/nonexistent-dir/meta.db"));
}

}  // namespace
}  // namespace meridian::store
