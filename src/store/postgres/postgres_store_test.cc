// The MetadataStore contract against a real PostgreSQL server started for this test binary.

#include "store/postgres/postgres_store.h"

#include <atomic>
#include <pqxx/pqxx>

#include "gmock/gmock.h"
#include "store/metadata_store_test_suite.h"
#include "testing/postgres_server.h"

namespace meridian::store {
namespace {

testing::PostgresServer* g_server = nullptr;

class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto server = testing::PostgresServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    g_server = server_.get();
  }
  void TearDown() override {
    g_server = nullptr;
    server_.reset();
  }

 private:
  std::unique_ptr<testing::PostgresServer> server_;
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

// Every test gets a database of its own.
std::string FreshDatabase() {
  static std::atomic<int> counter{0};
  auto url = g_server->CreateDatabase("test_" + std::to_string(counter.fetch_add(1)));
  EXPECT_TRUE(url.ok()) << url.status();
  return url.ok() ? *url : "";
}

std::unique_ptr<MetadataStore> MakePostgres() {
  if (g_server == nullptr) return nullptr;
  auto store = PostgresStore::Open({.url = FreshDatabase()});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::unique_ptr<MetadataStore>(std::move(*store)) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Postgres, MetadataStoreTest, ::testing::Values(&MakePostgres));

TEST(PostgresStoreTest, MigratesOnceAndReopens) {
  ASSERT_NE(g_server, nullptr);
  const std::string url = FreshDatabase();
  {
    auto store = PostgresStore::Open({.url = url});
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->schema_version(), 3);
    ASSERT_TRUE((*store)->CreateModel({.name = "kept"}).ok());
  }
  auto reopened = PostgresStore::Open({.url = url});
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->schema_version(), 3);
  EXPECT_TRUE((*reopened)->GetModel("kept").ok());
}

TEST(PostgresStoreTest, UnreachableServerIsAClearError) {
  auto store = PostgresStore::Open({.url = "postgresql://meridian@127.0.0.1:1/none?connect_timeout=2"});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(store.status().message()), ::testing::HasSubstr("cannot connect to PostgreSQL"));
}

TEST(PostgresStoreTest, SurvivesAServerSideDisconnect) {
  ASSERT_NE(g_server, nullptr);
  const std::string url = FreshDatabase();
  auto store = PostgresStore::Open({.url = url});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->CreateModel({.name = "before"}).ok());
  {
    pqxx::connection admin(url);
    pqxx::nontransaction tx(admin);
    tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND "
            "datname = current_database()");
  }
  EXPECT_TRUE((*store)->GetModel("before").ok());  // reconnects once
}

}  // namespace
}  // namespace meridian::store
