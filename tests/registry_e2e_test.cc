// The registry as a user meets it: the `meridian model` CLI against `meridian serve`, across
// restarts and a crash.

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_client.h"
#include "rapidjson/document.h"
#include "tests/child_process.h"
#include "tests/test_server.h"
#include "testing/postgres_server.h"

namespace meridian {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::RunMeridian;
using testing::TestServer;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string FreshDir(const std::string& name) { return testing::FreshTestDir("registry-e2e-" + name); }

std::string WriteRandomFile(const std::string& path, size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string content(size, '\0');
  for (auto& c : content) c = static_cast<char>(rng());
  std::ofstream(path, std::ios::binary) << content;
  return content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Push three versions, list them, point production, roll back, see the history, pull with a
// verified digest, restart and find everything intact. `extra` selects the metadata store.
void PushListAliasRollbackPullAndRestart(const std::string& name, const std::vector<std::string>& extra) {
  const std::string dir = FreshDir(name);
  std::vector<std::string> contents;
  for (int i = 0; i < 3; ++i) contents.push_back(WriteRandomFile(dir + "/model-" + std::to_string(i) + ".onnx", 300000 + i, i));

  auto server = std::make_unique<TestServer>(dir, dir + "/data", extra);
  ASSERT_NE(server->WaitUntilStarted(), 0) << server->child().Stderr();
  const std::map<std::string, std::string> env = {{"MERIDIAN_SERVER", server->url()}};
  auto meridian = [&](std::vector<std::string> args) { return RunMeridian(args, env, dir); };

  auto first = meridian({"model", "push", "model-0.onnx", "--name", "image-classifier", "--version", "1.0.0",
                         "--framework", "onnx", "--metric", "accuracy=0.91"});
  ASSERT_EQ(first.exit_status, 0) << first.err;
  ASSERT_EQ(meridian({"model", "push", "model-1.onnx", "--name", "image-classifier", "--framework", "onnx",
                      "--bump", "minor", "--metric", "accuracy=0.95"}).exit_status, 0);
  auto third = meridian({"model", "push", "model-2.onnx", "--name", "image-classifier", "--framework", "onnx",
                         "-o", "json"});
  ASSERT_EQ(third.exit_status, 0) << third.err;
  EXPECT_THAT(third.out, HasSubstr(R"("version": "1.1.1")"));

  auto versions = meridian({"model", "versions", "image-classifier"});
  ASSERT_EQ(versions.exit_status, 0);
  EXPECT_LT(versions.out.find("1.0.0"), versions.out.find("1.1.0"));
  EXPECT_LT(versions.out.find("1.1.0"), versions.out.find("1.1.1"));

  auto accurate = meridian({"model", "versions", "image-classifier", "--filter", "metrics.accuracy>=0.93"});
  ASSERT_EQ(accurate.exit_status, 0) << accurate.err;
  EXPECT_THAT(accurate.out, HasSubstr("1.1.0"));
  EXPECT_THAT(accurate.out, ::testing::Not(HasSubstr("1.0.0")));

  ASSERT_EQ(meridian({"model", "alias", "image-classifier", "production", "1.1.0", "--reason", "launch"}).exit_status, 0);
  ASSERT_EQ(meridian({"model", "alias", "image-classifier", "production", "1.1.1"}).exit_status, 0);
  auto rollback = meridian({"model", "rollback", "image-classifier", "--reason", "regression"});
  ASSERT_EQ(rollback.exit_status, 0) << rollback.err;
  EXPECT_THAT(rollback.out, HasSubstr("1.1.0"));
  auto history = meridian({"model", "alias", "image-classifier", "production", "--history", "-o", "yaml"});
  ASSERT_EQ(history.exit_status, 0);
  EXPECT_THAT(history.out, AllOf(HasSubstr("reason: launch"), HasSubstr("reason: regression"),
                                 HasSubstr("previousVersion: 1.1.1")));

  auto pulled = meridian({"model", "pull", "image-classifier", "production", "--dest", "prod.onnx"});
  ASSERT_EQ(pulled.exit_status, 0) << pulled.err;
  EXPECT_EQ(ReadFile(dir + "/prod.onnx"), contents[1]);

  // Restart: everything is still there.
  server->child().Signal(SIGTERM);
  ASSERT_EQ(server->child().Wait(10s), 0);
  server = std::make_unique<TestServer>(dir, dir + "/data", extra);
  ASSERT_NE(server->WaitUntilStarted(), 0);
  const std::map<std::string, std::string> env2 = {{"MERIDIAN_SERVER", server->url()}};
  auto after = RunMeridian({"model", "get", "image-classifier", "-o", "json"}, env2, dir);
  EXPECT_EQ(after.exit_status, 0);
  auto alias = RunMeridian({"model", "alias", "image-classifier", "production"}, env2, dir);
  EXPECT_THAT(alias.out, HasSubstr("1.1.0"));
  auto latest = RunMeridian({"model", "pull", "image-classifier", "latest", "--dest", "latest.onnx"}, env2, dir);
  ASSERT_EQ(latest.exit_status, 0) << latest.err;
  EXPECT_EQ(ReadFile(dir + "/latest.onnx"), contents[2]);

  // Bad input through the CLI: clear messages, nothing changed.
  auto bad = RunMeridian({"model", "push", "model-0.onnx", "--name", "Bad_Name", "--framework", "onnx"}, env2, dir);
  EXPECT_NE(bad.exit_status, 0);
  EXPECT_THAT(bad.err, HasSubstr("invalid model name"));
  auto dup = RunMeridian({"model", "push", "model-0.onnx", "--name", "image-classifier", "--version", "1.0.0",
                          "--framework", "onnx"}, env2, dir);
  EXPECT_EQ(dup.exit_status, 1);
  EXPECT_THAT(dup.err, HasSubstr("already exists"));
  auto missing = RunMeridian({"model", "push", "nope.onnx", "--name", "x", "--framework", "onnx"}, env2, dir);
  EXPECT_EQ(missing.exit_status, 2);
  // Metadata whose serving settings could never load is refused at push, naming the field.
  std::ofstream(dir + "/bad-batching.json") << R"({"batching":{"maxBatchSize":8,"preferredBatchSizes":[16]}})";
  auto unloadable = RunMeridian({"model", "push", "model-0.onnx", "--name", "image-classifier", "--framework", "onnx",
                                 "--metadata-file", "bad-batching.json"}, env2, dir);
  EXPECT_EQ(unloadable.exit_status, 1);
  EXPECT_THAT(unloadable.err, HasSubstr("preferredBatchSizes entry 16 must be within 1..maxBatchSize (8)"));
  auto unchanged = RunMeridian({"model", "versions", "image-classifier", "-o", "json"}, env2, dir);
  EXPECT_THAT(unchanged.out, ::testing::Not(HasSubstr("1.1.2")));
  server->child().Signal(SIGTERM);
  EXPECT_EQ(server->child().Wait(10s), 0);
}

TEST(RegistryEndToEndTest, PushListAliasRollbackPullAndRestartOnSqlite) {
  PushListAliasRollbackPullAndRestart("sqlite", {});
}

TEST(RegistryEndToEndTest, PushListAliasRollbackPullAndRestartOnPostgres) {
  auto postgres = testing::PostgresServer::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status();
  auto url = (*postgres)->CreateDatabase("registry_e2e");
  ASSERT_TRUE(url.ok()) << url.status();
  PushListAliasRollbackPullAndRestart("postgres", {"--postgres-url", *url});
}

// Kills the server with SIGKILL while clients upload and register versions, then checks that
// after a restart every READY version is complete (its artifact hashes to its digest) and no
// partial upload is left behind.
TEST(RegistryEndToEndTest, SigkillDuringUploadsLeavesOnlyCompleteVersions) {
  const std::string dir = FreshDir("sigkill");
  auto server = std::make_unique<TestServer>(dir, dir + "/data");
  ASSERT_NE(server->WaitUntilStarted(), 0);
  const std::string url = server->url();
  ASSERT_EQ((*http::HttpClient::Create(url))->Send(http::HttpMethod::kPost, "/api/v1/models", R"({"name":"crash"})")->status, 201);

  std::atomic<bool> stop{false};
  std::atomic<int> registered{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      auto client = *http::HttpClient::Create(url, {.timeout = absl::Seconds(5)});
      std::mt19937 rng(t);
      for (int i = 0; !stop.load(); ++i) {
        std::string blob((1 << 20) + rng() % 4096, '\0');
        for (auto& c : blob) c = static_cast<char>(rng());
        auto up = client->Send(http::HttpMethod::kPost, "/api/v1/artifacts", blob,
                               {{"Content-Type", "application/octet-stream"}});
        if (!up.ok() || up->status != 201) return;
        rapidjson::Document doc;
        doc.Parse(up->body.c_str());
        const std::string body = std::string(R"({"version":")") + std::to_string(t + 1) + "." + std::to_string(i) +
                                 R"(.0","framework":"onnx","artifactDigest":")" + doc["digest"].GetString() + "\"}";
        auto reg = client->Send(http::HttpMethod::kPost, "/api/v1/models/crash/versions", body,
                                {{"Content-Type", "application/json"}});
        if (!reg.ok()) return;
        if (reg->status == 201) registered.fetch_add(1);
      }
    });
  }
  while (registered.load() < 6) std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(30ms);  // land the kill in the middle of things
  server->child().Signal(SIGKILL);
  ASSERT_TRUE(server->child().Wait(5s).has_value());
  stop.store(true);
  for (auto& c : clients) c.join();

  server = std::make_unique<TestServer>(dir, dir + "/data");
  ASSERT_NE(server->WaitUntilStarted(), 0) << server->child().Stderr();
  auto client = *http::HttpClient::Create(server->url());
  auto list = client->Get("/api/v1/models/crash/versions");
  ASSERT_TRUE(list.ok());
  rapidjson::Document doc;
  doc.Parse(list->body.c_str());
  ASSERT_FALSE(doc.HasParseError());
  const auto& versions = doc["versions"].GetArray();
  EXPECT_GE(static_cast<int>(versions.Size()), 6);
  for (const auto& v : versions) {
    EXPECT_STREQ(v["status"].GetString(), "READY");
    const std::string digest = v["artifact"]["digest"].GetString();
    auto artifact = client->Get("/api/v1/artifacts/" + digest);
    ASSERT_TRUE(artifact.ok());
    ASSERT_EQ(artifact->status, 200) << v["version"].GetString();
    EXPECT_EQ("sha256:" + Sha256::HexOf(artifact->body), digest) << v["version"].GetString();
    EXPECT_EQ(artifact->body.size(), v["artifact"]["size"].GetUint64());
  }
  EXPECT_TRUE(fs::is_empty(dir + "/data/blobs/tmp")) << "interrupted uploads must be cleaned at start-up";
  server->child().Signal(SIGTERM);
  EXPECT_EQ(server->child().Wait(10s), 0);
}

}  // namespace
}  // namespace meridian
