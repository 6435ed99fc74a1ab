// The registry REST API against a real HTTP server, SQLite store and blob store.

#include "registry/registry_routes.h"

#include <filesystem>
#include <fstream>

#include <thread>

#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_client.h"
#include "http/http_server.h"
#include "rapidjson/document.h"
#include "store/sqlite/sqlite_store.h"

namespace meridian::registry {
namespace {

using ::testing::HasSubstr;
using http::HttpMethod;
namespace fs = std::filesystem;

class RegistryRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/meridian-routes-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    fs::create_directories(root_);
    metadata_ = std::move(*store::SqliteStore::Open({.path = root_ + "/meta.db"}));
    blobs_ = std::move(*store::BlobStore::Open({.root = root_ + "/blobs"}));
    registry_ = std::move(*Registry::Create({metadata_.get(), blobs_.get()}));
    auto router = std::make_shared<http::Router>();
    ASSERT_TRUE(AddRegistryRoutes({.registry = registry_.get(), .max_artifact_bytes = 8 << 20}, *router).ok());
    server_ = std::move(*http::HttpServer::Start({.io_threads = 2}, router, {}));
    client_ = std::move(*http::HttpClient::Create("http://127.0.0.1:" + std::to_string(server_->port())));
  }

  http::ClientResponse Call(HttpMethod method, const std::string& target, const std::string& body = "",
                            http::HeaderList headers = {{"Content-Type", "application/json"}}) {
    auto r = client_->Send(method, target, body, headers);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : http::ClientResponse{};
  }

  std::string UploadArtifact(const std::string& content) {
    auto r = Call(HttpMethod::kPost, "/api/v1/artifacts", content, {{"Content-Type", "application/octet-stream"}});
    EXPECT_EQ(r.status, 201) << r.body;
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    return doc.HasParseError() ? "" : doc["digest"].GetString();
  }

  http::ClientResponse RegisterVersion(const std::string& version, const std::string& digest) {
    return Call(HttpMethod::kPost, "/api/v1/models/clf/versions",
                R"({"version":")" + version + R"(","framework":"onnx","artifactDigest":")" + digest +
                    R"(","metadata":{"accuracy":0.9},"lineage":{"runId":"r1"}})");
  }

  size_t TempFiles() {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(root_ + "/blobs/tmp")) ++n;
    return n;
  }

  std::string root_;
  std::unique_ptr<store::SqliteStore> metadata_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(RegistryRoutesTest, PushListAliasRollbackAndDownload) {
  ASSERT_EQ(Call(HttpMethod::kPost, "/api/v1/models", R"({"name":"clf","description":"image classifier"})").status, 201);
  std::vector<std::string> digests;
  for (const char* v : {"1.0.0", "1.1.0", "1.2.0"}) {
    digests.push_back(UploadArtifact(std::string("weights of ") + v));
    auto r = RegisterVersion(v, digests.back());
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_THAT(r.body, HasSubstr(R"("status":"READY")"));
    EXPECT_THAT(r.body, HasSubstr(R"("metadata":{"accuracy":0.9})"));
  }
  auto list = Call(HttpMethod::kGet, "/api/v1/models/clf/versions?order=desc");
  ASSERT_EQ(list.status, 200);
  EXPECT_LT(list.body.find("1.2.0"), list.body.find("1.1.0"));
  EXPECT_LT(list.body.find("1.1.0"), list.body.find("1.0.0"));

  EXPECT_EQ(Call(HttpMethod::kPut, "/api/v1/models/clf/aliases/production", R"({"version":"1.1.0","reason":"launch"})").status, 200);
  EXPECT_EQ(Call(HttpMethod::kPut, "/api/v1/models/clf/aliases/production", R"({"version":"1.2.0"})").status, 200);
  EXPECT_THAT(Call(HttpMethod::kGet, "/api/v1/models/clf/versions/production").body, HasSubstr(R"("version":"1.2.0")"));
  auto rollback = Call(HttpMethod::kPost, "/api/v1/models/clf/aliases/production/rollback", R"({"reason":"bad canary"})");
  ASSERT_EQ(rollback.status, 200) << rollback.body;
  EXPECT_THAT(rollback.body, HasSubstr(R"("version":"1.1.0")"));
  auto history = Call(HttpMethod::kGet, "/api/v1/models/clf/aliases/production/history");
  EXPECT_THAT(history.body, HasSubstr(R"("reason":"bad canary")"));
  EXPECT_THAT(Call(HttpMethod::kGet, "/api/v1/models/clf/versions/latest").body, HasSubstr(R"("version":"1.2.0")"));

  const std::string file = root_ + "/download.bin";
  auto download = client_->Download("/api/v1/models/clf/versions/production/artifact", file);
  ASSERT_TRUE(download.ok());
  EXPECT_EQ(download->status, 200);
  EXPECT_EQ(*download->Header("X-Content-Digest"), digests[1]);
  std::ifstream in(file, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ("sha256:" + Sha256::HexOf(content), digests[1]);
  auto range = Call(HttpMethod::kGet, "/api/v1/artifacts/" + digests[0], "", {{"Range", "bytes=0-6"}});
  EXPECT_EQ(range.status, 206);
  EXPECT_EQ(range.body, "weights");
}

TEST_F(RegistryRoutesTest, BadRequestsGetClearErrorsAndChangeNothing) {
  ASSERT_EQ(Call(HttpMethod::kPost, "/api/v1/models", R"({"name":"clf"})").status, 201);
  struct Case {
    HttpMethod method;
    std::string target;
    std::string body;
    int status;
    std::string message;
  };
  const std::string missing_digest = "sha256:" + std::string(64, 'c');
  for (const Case& c : std::vector<Case>{
           {HttpMethod::kPost, "/api/v1/models", "{not json", 400, "not valid JSON"},
           {HttpMethod::kPost, "/api/v1/models", R"({"name":"clf2","colour":"red"})", 400, "unknown field"},
           {HttpMethod::kPost, "/api/v1/models", R"({"name":7})", 400, "must be a string"},
           {HttpMethod::kPost, "/api/v1/models", R"({"name":"Bad_Name"})", 400, "invalid model name"},
           {HttpMethod::kPost, "/api/v1/models", R"({"name":"clf"})", 409, "already exists"},
           {HttpMethod::kGet, "/api/v1/models/ghost", "", 404, "not found"},
           {HttpMethod::kPost, "/api/v1/models/clf/versions", R"({"version":"1.0","framework":"onnx","artifactDigest":")" + missing_digest + R"("})", 400, "semantic version"},
           {HttpMethod::kPost, "/api/v1/models/clf/versions", R"({"version":"1.0.0","framework":"onnx","artifactDigest":")" + missing_digest + R"("})", 409, "has not been uploaded"},
           {HttpMethod::kPost, "/api/v1/models/clf/versions", R"({"framework":"onnx","artifactDigest":"sha256:../../etc"})", 400, "invalid digest"},
           {HttpMethod::kPost, "/api/v1/models/clf/versions", R"({"framework":"onnx"})", 400, "artifactDigest"},
           {HttpMethod::kPost, "/api/v1/models/clf/versions", R"({"framework":"onnx","artifactDigest":")" + missing_digest + R"(","metadata":"x"})", 400, "must be a JSON object"},
           {HttpMethod::kPut, "/api/v1/models/clf/aliases/production", R"({"version":"9.9.9"})", 404, "not found"},
           {HttpMethod::kPut, "/api/v1/models/clf/aliases/latest", R"({"version":"1.0.0"})", 400, "computed"},
           {HttpMethod::kGet, "/api/v1/artifacts/sha256:..%2F..%2Fmeta.db", "", 400, "invalid digest"},
           {HttpMethod::kGet, "/api/v1/models?pageSize=0", "", 400, "pageSize"},
           {HttpMethod::kGet, "/api/v1/models?pageToken=!!", "", 400, "pageToken"},
           {HttpMethod::kGet, "/api/v1/models?tag=team", "", 400, "key=value"},
           {HttpMethod::kGet, "/api/v1/models/clf/versions?tag=%3Dx", "", 400, "key=value"},
           {HttpMethod::kPost, "/api/v1/models/clf/aliases/production/rollback", "", 404, "never been set"},
       }) {
    auto r = Call(c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.target << " " << c.body << " -> " << r.body;
    EXPECT_THAT(r.body, HasSubstr(c.message)) << c.target << " " << c.body;
    EXPECT_THAT(r.body, HasSubstr("\"error\"")) << c.target;
  }
  auto xml = Call(HttpMethod::kPost, "/api/v1/models", "<model/>", {{"Content-Type", "application/xml"}});
  EXPECT_EQ(xml.status, 415);
  auto big = Call(HttpMethod::kPost, "/api/v1/models", std::string(2 << 20, ' '));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(Call(HttpMethod::kGet, "/api/v1/models/clf/versions").body, R"({"versions":[],"nextPageToken":""})");
  auto models = Call(HttpMethod::kGet, "/api/v1/models");
  EXPECT_THAT(models.body, HasSubstr(R"("name":"clf")"));
  EXPECT_THAT(models.body, ::testing::Not(HasSubstr("clf2")));
}

TEST_F(RegistryRoutesTest, UploadsWithAWrongDigestOrOverTheLimitLeaveNothing) {
  const std::string wrong = "sha256:" + std::string(64, 'd');
  auto mismatch = Call(HttpMethod::kPost, "/api/v1/artifacts", "some weights", {{"X-Content-Digest", wrong}});
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_THAT(mismatch.body, HasSubstr("digest mismatch"));
  EXPECT_EQ(Call(HttpMethod::kGet, "/api/v1/artifacts/sha256:" + Sha256::HexOf("some weights")).status, 404);

  auto malformed = Call(HttpMethod::kPost, "/api/v1/artifacts", "x", {{"X-Content-Digest", "md5:abc"}});
  EXPECT_EQ(malformed.status, 400);

  auto over = Call(HttpMethod::kPost, "/api/v1/artifacts", std::string((8 << 20) + 1, 'x'));
  EXPECT_EQ(over.status, 413);

  const std::string right = "sha256:" + Sha256::HexOf("some weights");
  auto ok = Call(HttpMethod::kPost, "/api/v1/artifacts?digest=" + right, "some weights");
  EXPECT_EQ(ok.status, 201);
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(RegistryRoutesTest, VersionsPaginateAndFilterByTagAndMetadata) {
  ASSERT_EQ(Call(HttpMethod::kPost, "/api/v1/models", R"({"name":"clf"})").status, 201);
  const std::string digest = UploadArtifact("w");
  for (int i = 0; i < 5; ++i) {
    const std::string body = R"({"version":"1.)" + std::to_string(i) + R"(.0","framework":"onnx","artifactDigest":")" +
                             digest + R"(","metadata":{"metrics":{"accuracy":0.9)" + std::to_string(i) + R"(}},"tags":{"even":")" +
                             (i % 2 == 0 ? "yes" : "no") + R"("}})";
    ASSERT_EQ(Call(HttpMethod::kPost, "/api/v1/models/clf/versions", body).status, 201);
  }
  std::vector<std::string> seen;
  std::string token;
  for (int pages = 0; pages < 10; ++pages) {
    auto r = Call(HttpMethod::kGet, "/api/v1/models/clf/versions?order=desc&pageSize=2&pageToken=" + token);
    ASSERT_EQ(r.status, 200) << r.body;
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    for (const auto& v : doc["versions"].GetArray()) seen.push_back(v["version"].GetString());
    token = doc["nextPageToken"].GetString();
    if (token.empty()) break;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"1.4.0", "1.3.0", "1.2.0", "1.1.0", "1.0.0"}));

  auto filtered = Call(HttpMethod::kGet, "/api/v1/models/clf/versions?tag=even%3Dyes&filter=metrics.accuracy%3E%3D0.92");
  ASSERT_EQ(filtered.status, 200);
  EXPECT_THAT(filtered.body, HasSubstr(R"("version":"1.2.0")"));
  EXPECT_THAT(filtered.body, HasSubstr(R"("version":"1.4.0")"));
  EXPECT_THAT(filtered.body, ::testing::Not(HasSubstr(R"("version":"1.0.0")")));
  EXPECT_THAT(filtered.body, ::testing::Not(HasSubstr(R"("version":"1.3.0")")));
  EXPECT_EQ(Call(HttpMethod::kGet, "/api/v1/models/clf/versions?filter=accuracy").status, 400);
  EXPECT_EQ(Call(HttpMethod::kGet, "/api/v1/models/clf/versions?pageToken=garbage").status, 400);
}

TEST_F(RegistryRoutesTest, UploadCutOffMidStreamLeavesNothing) {
  {
    boost::asio::io_context ctx;
    boost::asio::ip::tcp::socket socket(ctx);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
    const std::string head = "POST /api/v1/artifacts HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n";
    boost::asio::write(socket, boost::asio::buffer(head + std::string(300000, 'x')));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }  // the client goes away with 700000 bytes unsent
  for (int i = 0; i < 200 && TempFiles() != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(TempFiles(), 0u);
  size_t blobs = 0;
  for (const auto& e : fs::recursive_directory_iterator(root_ + "/blobs/sha256")) blobs += e.is_regular_file();
  EXPECT_EQ(blobs, 0u);
}

TEST_F(RegistryRoutesTest, DeletionIsRefusedWhileAnAliasPointsAtTheVersion) {
  ASSERT_EQ(Call(HttpMethod::kPost, "/api/v1/models", R"({"name":"clf"})").status, 201);
  ASSERT_EQ(RegisterVersion("1.0.0", UploadArtifact("w")).status, 201);
  ASSERT_EQ(Call(HttpMethod::kPut, "/api/v1/models/clf/aliases/production", R"({"version":"1.0.0"})").status, 200);
  auto refused = Call(HttpMethod::kDelete, "/api/v1/models/clf/versions/1.0.0");
  EXPECT_EQ(refused.status, 409);
  EXPECT_THAT(refused.body, HasSubstr("production"));
  EXPECT_EQ(Call(HttpMethod::kDelete, "/api/v1/models/clf").status, 409);
  EXPECT_EQ(Call(HttpMethod::kDelete, "/api/v1/models/clf/aliases/production").status, 204);
  EXPECT_EQ(Call(HttpMethod::kDelete, "/api/v1/models/clf/versions/1.0.0").status, 204);
  EXPECT_EQ(Call(HttpMethod::kDelete, "/api/v1/models/clf").status, 204);
}

}  // namespace
}  // namespace meridian::registry
