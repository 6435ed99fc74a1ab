// End-to-end TLS with certificates the test makes with the openssl command: HTTPS and gRPC over
// TLS, mutual TLS (a client certificate is required and its common name is the user), the plain
// HTTP port that redirects to HTTPS, and certificate rotation picked up on SIGHUP (HTTPS) and by
// watching the files (gRPC), with a broken rotation keeping the running certificate on both, and
// gRPC agreeing on HTTP/2 in the handshake (ALPN).

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "api/grpc_predict_v2.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_client.h"
#include "testing/free_port.h"
#include "tests/test_server.h"

namespace meridian {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

class TlsEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_NO_FATAL_FAILURE(MakeCa("ca"));
    ASSERT_NO_FATAL_FAILURE(MakeCert("server", "127.0.0.1", "ca"));
    ASSERT_NO_FATAL_FAILURE(MakeCert("alice", "alice", "ca"));
    ASSERT_NO_FATAL_FAILURE(MakeCert("operator", "operator", "ca"));
    redirect_port_ = testing::FreePort();
    server_ = std::make_unique<testing::TestServer>(
        dir_, dir_ + "/data",
        std::vector<std::string>{"--auth", "true", "--tls-cert", Path("server.pem"), "--tls-key", Path("server.key"),
                                 "--tls-client-ca", Path("ca.pem"), "--https-redirect-port",
                                 std::to_string(redirect_port_)});
    ASSERT_NE(server_->WaitUntilStarted(), 0) << server_->child().Stderr();
    url_ = absl::StrCat("https://127.0.0.1:", server_->port());
    admin_token_ = ReadFile(dir_ + "/data/admin-token");
    admin_token_.pop_back();  // the newline
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  void Run(const std::string& command) {
    ASSERT_EQ(std::system(absl::StrCat("cd ", dir_, " && ", command, " 2>/dev/null >/dev/null").c_str()), 0) << command;
  }
  void MakeCa(const std::string& name) {
    Run(absl::StrCat("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ", name,
                     ".key -out ", name, ".pem -days 2 -subj /CN=", name, "-authority"));
  }
  void MakeCert(const std::string& name, const std::string& common_name, const std::string& ca) {
    Run(absl::StrCat("printf 'subjectAltName=IP:127.0.0.1\\n' > ", name, ".ext && ",
                     "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ", name,
                     ".key -out ", name, ".csr -subj /CN=", common_name, " && openssl x509 -req -in ", name,
                     ".csr -CA ", ca, ".pem -CAkey ", ca, ".key -CAcreateserial -days 2 -extfile ", name,
                     ".ext -out ", name, ".pem"));
  }

  // A client trusting `ca`, presenting `cert` (if any) and `token` (if any).
  std::unique_ptr<http::HttpClient> Client(const std::string& ca, const std::string& cert, const std::string& token = "") {
    return *http::HttpClient::Create(
        url_, {.timeout = absl::Seconds(5),
               .ca_file = Path(ca + ".pem"),
               .client_cert_file = cert.empty() ? "" : Path(cert + ".pem"),
               .client_key_file = cert.empty() ? "" : Path(cert + ".key"),
               .bearer_token = token});
  }

  std::unique_ptr<inference::GRPCInferenceService::Stub> GrpcStub(const std::string& ca, const std::string& cert) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(Path(ca + ".pem"));
    if (!cert.empty()) {
      ssl.pem_private_key = ReadFile(Path(cert + ".key"));
      ssl.pem_cert_chain = ReadFile(Path(cert + ".pem"));
    }
    return inference::GRPCInferenceService::NewStub(grpc::CreateChannel(server_->grpc_target(), grpc::SslCredentials(ssl)));
  }

  grpc::Status Live(inference::GRPCInferenceService::Stub& stub) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    inference::ServerLiveResponse response;
    return stub.ServerLive(&context, {}, &response);
  }

  std::string dir_;
  int redirect_port_ = 0;
  std::unique_ptr<testing::TestServer> server_;
  std::string url_;
  std::string admin_token_;
};

TEST_F(TlsEndToEndTest, MutualTlsIdentifiesTheUserByCertificateOverRestAndGrpc) {
  // No client certificate: no connection at all.
  auto anonymous = Client("ca", "")->Get("/health/live");
  EXPECT_FALSE(anonymous.ok() && anonymous->status == 200);

  auto alice = Client("ca", "alice");
  auto whoami = alice->Get("/api/v1/auth/whoami");
  ASSERT_TRUE(whoami.ok()) << whoami.status();
  EXPECT_THAT(whoami->body, HasSubstr("user:alice"));
  EXPECT_EQ(alice->Get("/api/v1/models")->status, 403);

  // A token still decides when one is sent (the operator's certificate, the admin's token).
  auto admin = Client("ca", "operator", admin_token_);
  ASSERT_EQ(admin->Send(http::HttpMethod::kPut, "/api/v1/clusterrolebindings/alice",
                        R"({"role":"viewer","subjects":[{"kind":"user","name":"alice"}]})")->status, 200);
  EXPECT_EQ(alice->Get("/api/v1/models")->status, 200);

  // gRPC: the same certificates, the same identity.
  EXPECT_EQ(Live(*GrpcStub("ca", "")).error_code(), grpc::StatusCode::UNAVAILABLE) << "no client certificate";
  auto stub = GrpcStub("ca", "alice");
  EXPECT_TRUE(Live(*stub).ok());
  grpc::ClientContext context;
  inference::ModelInferRequest request;
  request.set_model_name("anything");
  inference::ModelInferResponse response;
  grpc::Status infer = stub->ModelInfer(&context, request, &response);
  EXPECT_EQ(infer.error_code(), grpc::StatusCode::PERMISSION_DENIED) << infer.error_message();
  EXPECT_THAT(infer.error_message(), HasSubstr("user alice"));
}

TEST_F(TlsEndToEndTest, PlainHttpRedirectsToHttps) {
  auto plain = *http::HttpClient::Create(absl::StrCat("http://127.0.0.1:", redirect_port_));
  auto r = plain->Get("/api/v1/models?pageSize=5");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 308);
  ASSERT_TRUE(r->Header("Location").has_value());
  EXPECT_EQ(*r->Header("Location"), absl::StrCat(url_, "/api/v1/models?pageSize=5"));
}

TEST_F(TlsEndToEndTest, ARotatedCertificateIsServedAfterSighupAndABrokenOneIsRefused) {
  ASSERT_NO_FATAL_FAILURE(MakeCa("ca2"));
  ASSERT_NO_FATAL_FAILURE(MakeCert("server2", "127.0.0.1", "ca2"));
  EXPECT_FALSE(Client("ca2", "alice")->Get("/health/live").ok()) << "not yet rotated";

  std::filesystem::copy_file(Path("server2.pem"), Path("server.pem"), std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(Path("server2.key"), Path("server.key"), std::filesystem::copy_options::overwrite_existing);
  server_->child().Signal(SIGHUP);
  bool https_rotated = false;
  bool grpc_rotated = false;
  for (int i = 0; i < 100 && !(https_rotated && grpc_rotated); ++i) {
    if (!https_rotated) {
      auto r = Client("ca2", "alice")->Get("/health/live");
      https_rotated = r.ok() && r->status == 200;
    }
    if (!grpc_rotated) grpc_rotated = Live(*GrpcStub("ca2", "alice")).ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(https_rotated);
  EXPECT_TRUE(grpc_rotated);
  EXPECT_FALSE(Client("ca", "alice")->Get("/health/live").ok()) << "the old certificate is gone";

  // A half-written rotation: the reload fails, the running certificate stays.
  std::ofstream(Path("server.pem"), std::ios::trunc) << "not a certificate";
  server_->child().Signal(SIGHUP);
  for (int i = 0; i < 100 && server_->child().Stderr().find("not reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_THAT(server_->child().Stderr(), HasSubstr("not reloaded"));
  auto still = Client("ca2", "alice")->Get("/health/live");
  ASSERT_TRUE(still.ok()) << still.status();
  EXPECT_EQ(still->status, 200);
  // gRPC reads the files on its own within a second, and keeps its certificate too.
  for (int i = 0; i < 150 && server_->child().Stderr().find("do not load") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_THAT(server_->child().Stderr(), HasSubstr("do not load"));
  EXPECT_TRUE(Live(*GrpcStub("ca2", "alice")).ok());
}

TEST_F(TlsEndToEndTest, GrpcOverTlsAgreesOnHttp2OrRefusesTheHandshake) {
  const std::string port = server_->grpc_target().substr(server_->grpc_target().rfind(':') + 1);
  // openssl's exit status is 0 once the handshake is done, but not always after it: the newline it
  // then sends is not HTTP/2, so the server may close the connection before openssl has finished
  // reading. What it printed of the handshake is what counts for h2.
  auto handshake = [&](const std::string& alpn) {
    return std::system(absl::StrCat("cd ", dir_, " && echo | timeout 20 openssl s_client -connect 127.0.0.1:", port,
                                    " -alpn ", alpn, " -CAfile ca.pem -cert alice.pem -key alice.key",
                                    " -verify_return_error > s_client-", alpn == "h2" ? "h2" : "http1", ".log 2>&1")
                           .c_str());
  };
  handshake("h2");
  const std::string h2_log = ReadFile(Path("s_client-h2.log"));
  EXPECT_THAT(h2_log, HasSubstr("ALPN protocol: h2")) << h2_log;
  EXPECT_THAT(h2_log, HasSubstr("Verify return code: 0 (ok)")) << h2_log;
  EXPECT_NE(handshake("http/1.1"), 0) << "a client that cannot speak HTTP/2 must fail the handshake\n"
                                      << ReadFile(Path("s_client-http1.log"));
  EXPECT_TRUE(Live(*GrpcStub("ca", "alice")).ok());
}

}  // namespace
}  // namespace meridian
