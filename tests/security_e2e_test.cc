// End-to-end security: a real server with authentication on. Every built-in role is tried
// against every route (REST and gRPC) and gets what the issue's role table says; tokens expire
// and revoke at once; every change and every denial is in the audit log; guessing tokens is
// locked out per address without touching valid clients.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/grpc_predict_v2.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_client.h"
#include "rapidjson/document.h"
#include "tests/serving_fixtures.h"
#include "tests/test_server.h"

namespace meridian {
namespace {

using ::testing::HasSubstr;

struct Call {
  http::HttpMethod method;
  std::string path;
  std::string resource;  // what the route acts on and does, as the issue's role table names it
  std::string verb;
  std::string body = "{}";
};

// Every REST route but the open ones, with names that do not exist, so that an allowed call
// changes nothing (it answers 400/404) and a denied one answers 403.
std::vector<Call> EveryProtectedRoute() {
  using M = http::HttpMethod;
  return {
      {M::kPost, "/api/v1/artifacts", "artifacts", "create", "x"},
      {M::kGet, "/api/v1/artifacts/sha256:00", "artifacts", "get"},
      {M::kPost, "/api/v1/models", "models", "create", "{\"name\":\"\"}"},
      {M::kGet, "/api/v1/models", "models", "list"},
      {M::kGet, "/api/v1/models/nope", "models", "get"},
      {M::kPatch, "/api/v1/models/nope", "models", "update"},
      {M::kDelete, "/api/v1/models/nope", "models", "delete"},
      {M::kPost, "/api/v1/models/nope/versions", "versions", "create"},
      {M::kGet, "/api/v1/models/nope/versions", "versions", "list"},
      {M::kGet, "/api/v1/models/nope/versions/1.0.0", "versions", "get"},
      {M::kPatch, "/api/v1/models/nope/versions/1.0.0", "versions", "update"},
      {M::kDelete, "/api/v1/models/nope/versions/1.0.0", "versions", "delete"},
      {M::kGet, "/api/v1/models/nope/versions/1.0.0/artifact", "artifacts", "get"},
      {M::kGet, "/api/v1/models/nope/aliases", "aliases", "list"},
      {M::kGet, "/api/v1/models/nope/aliases/production", "aliases", "get"},
      {M::kPut, "/api/v1/models/nope/aliases/production", "aliases", "update"},
      {M::kDelete, "/api/v1/models/nope/aliases/production", "aliases", "delete"},
      {M::kGet, "/api/v1/models/nope/aliases/production/history", "aliases", "get"},
      {M::kPost, "/api/v1/models/nope/aliases/production/rollback", "aliases", "rollback"},
      {M::kGet, "/v2/models/nope", "models", "get"},
      {M::kGet, "/v2/models/nope/versions/1", "models", "get"},
      {M::kGet, "/v2/models/nope/ready", "models", "get"},
      {M::kGet, "/v2/models/nope/versions/1/ready", "models", "get"},
      {M::kPost, "/v2/models/nope/infer", "predictions", "predict"},
      {M::kPost, "/v2/models/nope/versions/1/infer", "predictions", "predict"},
      {M::kPost, "/v2/repository/index", "models", "list"},
      {M::kPost, "/v2/repository/models/nope/load", "models", "update"},
      {M::kPost, "/v2/repository/models/nope/unload", "models", "update"},
      {M::kGet, "/v1/models/nope", "models", "get"},
      {M::kPost, "/v1/models/nope:predict", "predictions", "predict"},
      {M::kPost, "/predict", "predictions", "predict", "{\"model\":\"nope\",\"instances\":[[1]]}"},
      {M::kPost, "/predict/nope", "predictions", "predict"},
      {M::kPost, "/api/v1/tokens", "tokens", "create", "{\"expiresIn\":\"bogus\"}"},
      {M::kGet, "/api/v1/tokens", "tokens", "list"},
      {M::kDelete, "/api/v1/tokens/000000000000", "tokens", "delete"},
      {M::kGet, "/api/v1/roles", "roles", "list"},
      {M::kGet, "/api/v1/roles/nope", "roles", "get"},
      {M::kPut, "/api/v1/roles/nope", "roles", "update"},
      {M::kDelete, "/api/v1/roles/nope", "roles", "delete"},
      {M::kGet, "/api/v1/clusterrolebindings", "bindings", "list"},
      {M::kPut, "/api/v1/clusterrolebindings/nope", "bindings", "update"},
      {M::kDelete, "/api/v1/clusterrolebindings/nope", "bindings", "delete"},
      {M::kGet, "/api/v1/namespaces/default/rolebindings", "bindings", "list"},
      {M::kPut, "/api/v1/namespaces/default/rolebindings/nope", "bindings", "update"},
      {M::kDelete, "/api/v1/namespaces/default/rolebindings/nope", "bindings", "delete"},
      {M::kGet, "/api/v1/audit", "audit", "list"},
      {M::kPut, "/api/v1/namespaces/default/deployments/nope", "deployments", "update", "x"},
      {M::kGet, "/api/v1/namespaces/default/deployments/nope", "deployments", "get"},
      {M::kGet, "/api/v1/namespaces/default/deployments", "deployments", "list"},
      {M::kGet, "/api/v1/deployments", "deployments", "list"},
      {M::kGet, "/api/v1/namespaces/default/deployments/nope/revisions", "deployments", "get"},
      {M::kPost, "/api/v1/namespaces/default/deployments/nope:rollback", "deployments", "rollback"},
      {M::kDelete, "/api/v1/namespaces/default/deployments/nope", "deployments", "delete"},
      {M::kPut, "/api/v1/namespaces/default/resourcequotas/nope", "resourcequotas", "update", "x"},
      {M::kGet, "/api/v1/namespaces/default/resourcequotas/nope", "resourcequotas", "get"},
      {M::kGet, "/api/v1/namespaces/default/resourcequotas", "resourcequotas", "list"},
      {M::kGet, "/api/v1/resourcequotas", "resourcequotas", "list"},
      {M::kDelete, "/api/v1/namespaces/default/resourcequotas/nope", "resourcequotas", "delete"},
  };
}

// The issue's role table (not the server's code): what each built-in role may do.
bool RoleAllows(const std::string& role, const std::string& resource, const std::string& verb) {
  static const std::set<std::string> kRead = {"get", "list", "watch"};
  static const std::set<std::string> kWrite = {"get", "list", "watch", "create", "update", "delete"};
  static const std::set<std::string> kModelParts = {"models", "versions", "aliases", "artifacts"};
  if (role == "admin") return true;
  if (role == "viewer") {
    return (kModelParts.contains(resource) || resource == "deployments" || resource == "alerts") && kRead.contains(verb);
  }
  if (role == "predictor") {
    return (resource == "predictions" && verb == "predict") ||
           ((resource == "models" || resource == "versions") && (verb == "get" || verb == "list"));
  }
  if (role == "model-manager") return (kModelParts.contains(resource) || resource == "deployments") && kWrite.contains(verb);
  if (role == "deployer") {
    if (resource == "deployments") return true;
    if (kModelParts.contains(resource) && kRead.contains(verb)) return true;
    return resource == "aliases" && (verb == "update" || verb == "promote" || verb == "rollback");
  }
  return false;
}

const std::vector<std::string> kRoles = {"viewer", "predictor", "model-manager", "deployer", "admin"};

class SecurityEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = testing::FreshTestDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    server_ = std::make_unique<testing::TestServer>(dir, dir + "/data", std::vector<std::string>{"--auth", "true"});
    ASSERT_NE(server_->WaitUntilStarted(), 0) << server_->child().Stderr();
    admin_token_ = ReadFirstLine(dir + "/data/admin-token");
    ASSERT_FALSE(admin_token_.empty());
    EXPECT_THAT(server_->child().Stderr(), HasSubstr(admin_token_)) << "shown once at first start";
    admin_ = Client(admin_token_);
  }

  static std::string ReadFirstLine(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
  }

  std::unique_ptr<http::HttpClient> Client(const std::string& token) {
    return *http::HttpClient::Create(server_->url(), {.bearer_token = token});
  }

  // A new user bound cluster-wide to `role`, and its token.
  std::string TokenWithRole(const std::string& user, const std::string& role) {
    auto bound = admin_->Send(http::HttpMethod::kPut, "/api/v1/clusterrolebindings/" + user,
                              absl::StrCat(R"({"role":")", role, R"(","subjects":[{"kind":"user","name":")", user, R"("}]})"));
    EXPECT_EQ(bound->status, 200) << bound->body;
    return CreateToken(absl::StrCat(R"({"subject":")", user, R"("})"));
  }

  std::string CreateToken(const std::string& body) {
    auto created = admin_->Send(http::HttpMethod::kPost, "/api/v1/tokens", body);
    EXPECT_EQ(created->status, 201) << created->body;
    rapidjson::Document doc;
    doc.Parse(created->body.c_str());
    return doc.IsObject() && doc.HasMember("token") ? doc["token"].GetString() : "";
  }

  int AuditCount(const std::string& query) {
    auto r = admin_->Get("/api/v1/audit?limit=1000&" + query);
    EXPECT_EQ(r->status, 200) << r->body;
    rapidjson::Document doc;
    doc.Parse(r->body.c_str());
    return doc.IsObject() && doc.HasMember("events") ? static_cast<int>(doc["events"].Size()) : -1;
  }

  std::unique_ptr<testing::TestServer> server_;
  std::string admin_token_;
  std::unique_ptr<http::HttpClient> admin_;
};

TEST_F(SecurityEndToEndTest, EveryBuiltInRoleAgainstEveryRestRouteAndEveryDecisionIsAudited) {
  const int audited_before = AuditCount("");
  int denials = 0;
  int allowed_mutations = 0;
  for (const std::string& role : kRoles) {
    auto client = Client(TokenWithRole("as-" + role, role));
    for (const Call& call : EveryProtectedRoute()) {
      auto r = client->Send(call.method, call.path, call.body);
      ASSERT_TRUE(r.ok()) << r.status();
      const std::string what = absl::StrCat(role, " ", http::MethodName(call.method), " ", call.path, " -> ", r->status,
                                            " ", r->body);
      if (RoleAllows(role, call.resource, call.verb)) {
        EXPECT_NE(r->status, 401) << what;
        EXPECT_NE(r->status, 403) << what;
        if (call.verb != "get" && call.verb != "list" && call.verb != "predict") ++allowed_mutations;
      } else {
        EXPECT_EQ(r->status, 403) << what;
        EXPECT_THAT(r->body, HasSubstr(absl::StrCat(call.resource, "/", call.verb))) << what;
        ++denials;
      }
    }
  }
  // No token at all: 401 everywhere, with a challenge.
  auto anonymous = *http::HttpClient::Create(server_->url());
  for (const Call& call : EveryProtectedRoute()) {
    auto r = anonymous->Send(call.method, call.path, call.body);
    EXPECT_EQ(r->status, 401) << call.path;
    EXPECT_TRUE(r->Header("WWW-Authenticate").has_value());
    ++denials;
  }
  // Health and metrics stay open.
  EXPECT_EQ(anonymous->Get("/health/ready")->status, 200);
  EXPECT_EQ(anonymous->Get("/v2/health/live")->status, 200);
  EXPECT_EQ(anonymous->Get("/metrics")->status, 200);

  EXPECT_EQ(AuditCount("result=denied"), denials);
  // Allowed mutations: each role's binding and token (2 per role), then the matrix's own.
  EXPECT_EQ(AuditCount("") - audited_before, denials + allowed_mutations + 2 * static_cast<int>(kRoles.size()));
  // The audit log itself holds no secrets.
  auto audit = admin_->Get("/api/v1/audit?limit=1000");
  EXPECT_THAT(audit->body, ::testing::Not(HasSubstr(admin_token_.substr(17))));
}

TEST_F(SecurityEndToEndTest, EveryBuiltInRoleAgainstEveryGrpcMethod) {
  auto fixture = testing::LoadFixture("classifier-xgboost-json");
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  ASSERT_TRUE(testing::PushAndLoad(*admin_, *fixture, "clf").ok());
  auto stub = inference::GRPCInferenceService::NewStub(
      grpc::CreateChannel(server_->grpc_target(), grpc::InsecureChannelCredentials()));
  inference::ModelInferRequest infer;
  infer.set_model_name("clf");
  for (const serving::Tensor& t : fixture->inputs) {
    auto* input = infer.add_inputs();
    input->set_name(t.name());
    input->set_datatype(std::string(serving::DataTypeName(t.type())));
    for (int64_t dim : t.shape()) input->add_shape(dim);
    infer.add_raw_input_contents(std::string(t.bytes()));
  }
  auto call = [&](const std::string& token, const std::string& method) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    if (method == "ModelInfer") {
      inference::ModelInferResponse response;
      return stub->ModelInfer(&context, infer, &response);
    }
    if (method == "ModelStreamInfer") {  // refused as a whole stream, before any answer
      auto stream = stub->ModelStreamInfer(&context);
      stream->Write(infer);
      stream->WritesDone();
      inference::ModelStreamInferResponse answer;
      while (stream->Read(&answer)) {
        if (!answer.error_message().empty()) return grpc::Status(grpc::StatusCode::UNKNOWN, answer.error_message());
      }
      return stream->Finish();
    }
    if (method == "ModelMetadata") {
      inference::ModelMetadataRequest request;
      request.set_name("clf");
      inference::ModelMetadataResponse response;
      return stub->ModelMetadata(&context, request, &response);
    }
    if (method == "ModelReady") {
      inference::ModelReadyRequest request;
      request.set_name("clf");
      inference::ModelReadyResponse response;
      return stub->ModelReady(&context, request, &response);
    }
    inference::ServerLiveResponse response;
    return stub->ServerLive(&context, {}, &response);
  };
  const std::map<std::string, std::pair<std::string, std::string>> methods = {
      {"ModelInfer", {"predictions", "predict"}},
      {"ModelStreamInfer", {"predictions", "predict"}},
      {"ModelMetadata", {"models", "get"}},
      {"ModelReady", {"models", "get"}}};
  for (const std::string& role : kRoles) {
    const std::string token = TokenWithRole("grpc-" + role, role);
    for (const auto& [method, permission] : methods) {
      grpc::Status status = call(token, method);
      if (RoleAllows(role, permission.first, permission.second)) {
        EXPECT_TRUE(status.ok()) << role << " " << method << ": " << status.error_message();
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << role << " " << method;
        EXPECT_THAT(status.error_message(), HasSubstr(permission.first + "/" + permission.second));
      }
    }
  }
  for (const auto& [method, permission] : methods) {
    EXPECT_EQ(call("", method).error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
  }
  EXPECT_TRUE(call("", "ServerLive").ok()) << "health is open";
}

TEST_F(SecurityEndToEndTest, TokensExpireAndRevokeImmediately) {
  ASSERT_EQ(admin_->Send(http::HttpMethod::kPut, "/api/v1/clusterrolebindings/ci",
                         R"({"role":"viewer","subjects":[{"kind":"serviceaccount","name":"ci"}]})")->status, 200);
  auto short_lived = Client(CreateToken(R"({"subject":"ci","kind":"serviceaccount","expiresIn":"2s"})"));
  EXPECT_EQ(short_lived->Get("/api/v1/models")->status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  auto expired = short_lived->Get("/api/v1/models");
  EXPECT_EQ(expired->status, 401);
  EXPECT_THAT(expired->body, HasSubstr("expired"));

  const std::string token = CreateToken(R"({"subject":"ci","kind":"serviceaccount"})");
  auto client = Client(token);
  EXPECT_EQ(client->Get("/api/v1/models")->status, 200);
  const std::string id = token.substr(4, 12);
  EXPECT_EQ(admin_->Send(http::HttpMethod::kDelete, "/api/v1/tokens/" + id)->status, 204);
  auto revoked = client->Get("/api/v1/models");
  EXPECT_EQ(revoked->status, 401);
  EXPECT_THAT(revoked->body, HasSubstr("revoked"));

  // Who made a change is the token's subject, in the registry's own records too.
  ASSERT_EQ(admin_->Send(http::HttpMethod::kPost, "/api/v1/models", R"({"name":"owned"})")->status, 201);
  auto model = admin_->Get("/api/v1/models/owned");
  EXPECT_THAT(model->body, HasSubstr("user:admin"));
}

TEST_F(SecurityEndToEndTest, WhoMayBindRolesCannotGrantMoreThanTheyHold) {
  ASSERT_EQ(admin_->Send(http::HttpMethod::kPut, "/api/v1/roles/binder",
                         R"({"rules":[{"resources":["bindings"],"verbs":["update"]},{"resources":["models"],"verbs":["get","list"]}]})")
                ->status,
            200);
  ASSERT_EQ(admin_->Send(http::HttpMethod::kPut, "/api/v1/namespaces/team-a/rolebindings/dave",
                         R"({"role":"binder","subjects":[{"kind":"user","name":"dave"}]})")->status,
            200);
  auto dave = Client(CreateToken(R"({"subject":"dave"})"));
  auto escalate = dave->Send(http::HttpMethod::kPut, "/api/v1/namespaces/team-a/rolebindings/dave-admin",
                             R"({"role":"admin","subjects":[{"kind":"user","name":"dave"}]})");
  EXPECT_EQ(escalate->status, 403) << escalate->body;
  EXPECT_THAT(escalate->body, HasSubstr("cannot grant role admin"));
  ASSERT_EQ(admin_->Send(http::HttpMethod::kPut, "/api/v1/roles/lister", R"({"rules":[{"resources":["models"],"verbs":["list"]}]})")
                ->status,
            200);
  auto within = dave->Send(http::HttpMethod::kPut, "/api/v1/namespaces/team-a/rolebindings/erin-lists",
                           R"({"role":"lister","subjects":[{"kind":"user","name":"erin"}]})");
  EXPECT_EQ(within->status, 200) << within->body;
  EXPECT_EQ(dave->Send(http::HttpMethod::kPut, "/api/v1/namespaces/team-b/rolebindings/x",
                       R"({"role":"lister","subjects":[{"kind":"user","name":"erin"}]})")->status,
            403)
      << "not in a namespace where dave may bind";
}

TEST_F(SecurityEndToEndTest, GuessingTokensIsLockedOutPerAddressAndValidClientsKeepWorking) {
  auto valid = Client(TokenWithRole("steady", "viewer"));
  ASSERT_EQ(valid->Get("/api/v1/models")->status, 200);
  auto guesser = Client("mrd_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  int unauthorized = 0;
  int limited = 0;
  std::optional<std::string> retry_after;
  for (int i = 0; i < 30; ++i) {
    auto r = guesser->Get("/api/v1/models");
    if (r->status == 401) ++unauthorized;
    if (r->status == 429) {
      ++limited;
      if (auto h = r->Header("Retry-After")) retry_after = std::string(*h);
    }
    // A valid client from the same address is never held up.
    EXPECT_EQ(valid->Get("/api/v1/models")->status, 200);
  }
  EXPECT_EQ(unauthorized, 10);  // the default: 10 failures per address and minute
  EXPECT_EQ(limited, 20);
  ASSERT_TRUE(retry_after.has_value());
  int seconds = 0;
  EXPECT_TRUE(absl::SimpleAtoi(*retry_after, &seconds) && seconds > 0 && seconds <= 60) << *retry_after;
  // Only the attempts before the lock-out are audited one by one.
  EXPECT_EQ(AuditCount("result=denied"), 10);

  // Requests without a token are not guesses (no lock-out), but their audit records are bounded:
  // 60 per address and minute.
  auto anonymous = *http::HttpClient::Create(server_->url());
  for (int i = 0; i < 80; ++i) EXPECT_EQ(anonymous->Get("/api/v1/models")->status, 401);
  EXPECT_EQ(AuditCount("result=denied&subject=anonymous") - 10, 60);
  EXPECT_EQ(valid->Get("/api/v1/models")->status, 200);
}

}  // namespace
}  // namespace meridian
