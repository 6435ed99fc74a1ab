// End-to-end: deployments on a real server with real models and real requests: apply, update,
// rollback and bad specs; a rolling update under load that drops nothing; canary promotion and
// automatic rollback on an error-rate regression; shadow traffic; preemption by priority on the
// local node; autoscaling up and down under generated load; a restart that brings every
// deployment back; and the CLI (apply, get, describe, rollout status|history|undo, delete).

#include <atomic>
#include <fstream>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_client.h"
#include "rapidjson/document.h"
#include "tests/child_process.h"
#include "tests/serving_fixtures.h"
#include "tests/test_server.h"

namespace meridian {
namespace {

using ::testing::HasSubstr;
using testing::MetricValue;
using testing::ModelFixture;
using testing::TestServer;

const http::HeaderList kJson = {{"Content-Type", "application/json"}};

// mlp 1.0.0 (TorchScript) and 1.1.0 (ONNX) answer the same; 2.0.0 takes other inputs, so every
// request that reaches it fails: the injected regression.
constexpr char kStable[] = "1.0.0";
constexpr char kNext[] = "1.1.0";
constexpr char kBroken[] = "2.0.0";

std::string Spec(const std::string& name, const std::string& body, const std::string& ns = "default") {
  return absl::StrCat("apiVersion: meridian.ai/v1\nkind: ModelDeployment\nmetadata: {name: ", name,
                      ", namespace: ", ns, "}\nspec:\n", body);
}

class DeploymentEndToEndTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& name, std::vector<std::string> extra = {}) {
    dir_ = testing::FreshTestDir(name);
    Restart(std::move(extra));
  }

  void Restart(std::vector<std::string> extra = {}) {
    server_.reset();
    extra.insert(extra.end(), {"--deployment-resync", "200ms"});
    server_ = std::make_unique<TestServer>(dir_, dir_ + "/data", extra);
    ASSERT_NE(server_->WaitUntilStarted(), 0) << server_->child().Stderr();
    client_ = *http::HttpClient::Create(server_->url());
  }

  void PushVersions() {
    mlp_ = *testing::LoadFixture("mlp-torchscript");
    auto onnx = testing::LoadFixture("mlp-onnx");
    auto broken = testing::LoadFixture("two-in-two-out-torchscript");
    ASSERT_TRUE(testing::Push(*client_, mlp_, "mlp", kStable).ok());
    ASSERT_TRUE(testing::Push(*client_, *onnx, "mlp", kNext).ok());
    ASSERT_TRUE(testing::Push(*client_, *broken, "mlp", kBroken).ok());
  }

  http::ClientResponse Send(http::HttpMethod method, const std::string& target, const std::string& body = "",
                            const http::HeaderList& headers = kJson) {
    auto r = client_->Send(method, target, body, headers);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : http::ClientResponse{};
  }

  http::ClientResponse Apply(const std::string& name, const std::string& yaml, const std::string& ns = "default") {
    return Send(http::HttpMethod::kPut, absl::StrCat("/api/v1/namespaces/", ns, "/deployments/", name), yaml,
                {{"Content-Type", "application/yaml"}});
  }

  rapidjson::Document Get(const std::string& name, const std::string& ns = "default") {
    rapidjson::Document doc;
    auto r = Send(http::HttpMethod::kGet, absl::StrCat("/api/v1/namespaces/", ns, "/deployments/", name));
    doc.Parse(r.body.c_str());
    return doc;
  }

  static std::string Condition(const rapidjson::Document& d, const std::string& type, const char* field = "reason") {
    if (!d.IsObject() || !d.HasMember("status") || !d["status"].IsObject() || !d["status"].HasMember("conditions") ||
        !d["status"]["conditions"].IsArray()) {
      return "";
    }
    for (const auto& c : d["status"]["conditions"].GetArray()) {
      if (type == c["type"].GetString()) return c[field].GetString();
    }
    return "";
  }

  // Waits until `done` holds for the deployment (polling its status), at most `limit`. `done`
  // sees only documents whose status is an object, and the wait ends early if the server died.
  bool WaitFor(const std::string& name, const std::function<bool(const rapidjson::Document&)>& done,
               absl::Duration limit = absl::Seconds(30), const std::string& ns = "default") {
    const absl::Time deadline = absl::Now() + limit;
    while (absl::Now() < deadline) {
      const rapidjson::Document d = Get(name, ns);
      if (d.IsObject() && d.HasMember("status") && d["status"].IsObject() && done(d)) return true;
      if (server_->exited()) {
        ADD_FAILURE() << "the server exited while waiting for deployment " << name;
        return false;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  bool WaitRolledOut(const std::string& name, const std::string& version, const std::string& ns = "default") {
    return WaitFor(
        name,
        [&](const rapidjson::Document& d) {
          return Condition(d, "Progressing") == "NewRevisionAvailable" && Condition(d, "Available", "status") == "True" &&
                 std::string(d["status"]["version"].GetString()) == version;
        },
        absl::Seconds(30), ns);
  }

  // One inference through the deployment; returns the version that answered, or "" on failure
  // (with the status in `code`).
  std::string Infer(http::HttpClient& client, const std::string& deployment, int* code = nullptr) {
    auto r = client.Send(http::HttpMethod::kPost, absl::StrCat("/v2/models/", deployment, "/infer"),
                         absl::StrCat(R"({"inputs":)", mlp_.inputs_json, "}"), kJson);
    if (code) *code = r.ok() ? r->status : -1;
    if (!r.ok() || r->status != 200) return "";
    rapidjson::Document doc;
    doc.Parse(r->body.c_str());
    return doc["model_version"].GetString();
  }
  std::string Infer(const std::string& deployment, int* code = nullptr) { return Infer(*client_, deployment, code); }

  std::string Metrics() { return Send(http::HttpMethod::kGet, "/metrics").body; }

  std::string dir_;
  ModelFixture mlp_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(DeploymentEndToEndTest, ApplyUpdateRollbackDeleteAndBadSpecs) {
  StartServer("deployment-apply");
  PushVersions();

  // A bad spec lists every mistake and stores nothing.
  auto bad = Apply("web", Spec("web", "  version: \"^1.2.3.4\"\n  replicas: {min: 3, max: 2}\n  colour: blue\n"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("spec.model: is required"));
  EXPECT_THAT(bad.body, HasSubstr("spec.version"));
  EXPECT_THAT(bad.body, HasSubstr("spec.replicas.max"));
  EXPECT_THAT(bad.body, HasSubstr("spec.colour: unknown field"));
  EXPECT_EQ(Send(http::HttpMethod::kGet, "/api/v1/namespaces/default/deployments/web").status, 404);
  EXPECT_EQ(Apply("other", Spec("web", "  model: mlp\n")).status, 400);  // name differs from the URL
  auto priority = Apply("web", Spec("web", "  model: mlp\n  priorityClassName: urgent\n"));
  EXPECT_EQ(priority.status, 400);
  EXPECT_THAT(priority.body, HasSubstr("spec.priorityClassName"));
  EXPECT_EQ(Send(http::HttpMethod::kPut, "/api/v1/namespaces/default/deployments/web", "{", kJson).status, 400);
  EXPECT_EQ(Send(http::HttpMethod::kPut, "/api/v1/namespaces/default/deployments/web", "x",
                 {{"Content-Type", "image/png"}}).status, 415);

  const std::string v1 = Spec("web", absl::StrCat("  model: mlp\n  version: ", kStable, "\n"));
  auto created = Apply("web", v1);
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_THAT(created.body, HasSubstr(R"("result":"created","revision":1)"));
  auto again = Apply("web", v1);
  EXPECT_EQ(again.status, 200);
  EXPECT_THAT(again.body, HasSubstr(R"("result":"unchanged","revision":1)"));
  ASSERT_TRUE(WaitRolledOut("web", kStable)) << Get("web")["status"].GetObject().MemberCount();
  EXPECT_EQ(Infer("web"), kStable);
  // Model metadata answers for the deployment's name too.
  EXPECT_EQ(Send(http::HttpMethod::kGet, "/v2/models/web").status, 200);

  auto updated = Apply("web", Spec("web", absl::StrCat("  model: mlp\n  version: ", kNext, "\n")));
  EXPECT_THAT(updated.body, HasSubstr(R"("result":"configured","revision":2)"));
  ASSERT_TRUE(WaitRolledOut("web", kNext));
  EXPECT_EQ(Infer("web"), kNext);

  auto undone = Send(http::HttpMethod::kPost, "/api/v1/namespaces/default/deployments/web:rollback", "{}");
  EXPECT_EQ(undone.status, 200) << undone.body;
  EXPECT_THAT(undone.body, HasSubstr("rollback to revision 1"));
  ASSERT_TRUE(WaitRolledOut("web", kStable));
  EXPECT_EQ(Infer("web"), kStable);
  auto to_two = Send(http::HttpMethod::kPost, "/api/v1/namespaces/default/deployments/web:rollback", R"({"revision":2})");
  EXPECT_THAT(to_two.body, HasSubstr("rollback to revision 2"));
  ASSERT_TRUE(WaitRolledOut("web", kNext));
  EXPECT_EQ(Send(http::HttpMethod::kPost, "/api/v1/namespaces/default/deployments/web:rollback", R"({"revision":9})")
                .status,
            404);
  EXPECT_EQ(Send(http::HttpMethod::kPost, "/api/v1/namespaces/default/deployments/web:rollback", R"({"revision":"x"})")
                .status,
            400);

  auto history = Send(http::HttpMethod::kGet, "/api/v1/namespaces/default/deployments/web/revisions");
  rapidjson::Document h;
  h.Parse(history.body.c_str());
  ASSERT_EQ(h["revisions"].Size(), 4u) << history.body;
  EXPECT_STREQ(h["revisions"][2]["reason"].GetString(), "rollback to revision 1");

  // A version that does not exist: the running one keeps serving and the status says why.
  Apply("web", Spec("web", "  model: mlp\n  version: 9.9.9\n"));
  EXPECT_TRUE(WaitFor("web", [](const rapidjson::Document& d) { return Condition(d, "Progressing") == "VersionNotFound"; }));
  EXPECT_EQ(Infer("web"), kNext);

  // A version a deployment serves cannot be deleted from the registry.
  auto in_use = Send(http::HttpMethod::kDelete, "/api/v1/models/mlp/versions/1.1.0");
  EXPECT_GE(in_use.status, 400);
  EXPECT_THAT(in_use.body, HasSubstr("deployment/default/web"));

  EXPECT_EQ(Send(http::HttpMethod::kDelete, "/api/v1/namespaces/default/deployments/web").status, 200);
  EXPECT_EQ(Send(http::HttpMethod::kGet, "/api/v1/namespaces/default/deployments/web").status, 404);
  EXPECT_EQ(Send(http::HttpMethod::kDelete, "/api/v1/namespaces/default/deployments/web").status, 404);
  int code = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline && code != 404) Infer("web", &code);
  EXPECT_EQ(code, 404);
  // Released with the deployment.
  int deleted = 500;
  for (int attempt = 0; attempt < 50 && deleted >= 300; ++attempt) {
    deleted = Send(http::HttpMethod::kDelete, "/api/v1/models/mlp/versions/1.1.0").status;
    if (deleted >= 300) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_LT(deleted, 300);
}

TEST_F(DeploymentEndToEndTest, RollingUpdateUnderLoadFailsNoRequest) {
  StartServer("deployment-rolling");
  PushVersions();
  ASSERT_EQ(Send(http::HttpMethod::kPut, "/api/v1/models/mlp/aliases/production",
                 absl::StrCat(R"({"version":")", kStable, "\"}")).status, 200);
  Apply("mlp", Spec("mlp", "  model: mlp\n  version: production\n  replicas: 2\n"
                           "  strategy: {maxUnavailable: 0, maxSurge: 1}\n"));
  ASSERT_TRUE(WaitRolledOut("mlp", kStable));
  // The repository index shows the model its deployment serves as ready, not as unloaded.
  EXPECT_THAT(Send(http::HttpMethod::kPost, "/v2/repository/index", "").body,
              HasSubstr(absl::StrCat(R"({"name":"mlp","version":")", kStable, R"(","state":"READY"})")));

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, answered_by_next{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 3; ++t) {
    load.emplace_back([&] {
      auto client = *http::HttpClient::Create(server_->url());
      while (!stop) {
        int code = 0;
        const std::string version = Infer(*client, "mlp", &code);
        if (version.empty()) {
          ++failed;
          ADD_FAILURE() << "request failed during the rolling update with status " << code;
        } else {
          ++ok;
          if (version == kNext) ++answered_by_next;
        }
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  // The alias moves; every deployment following it rolls.
  ASSERT_EQ(Send(http::HttpMethod::kPut, "/api/v1/models/mlp/aliases/production",
                 absl::StrCat(R"({"version":")", kNext, "\"}")).status, 200);
  EXPECT_TRUE(WaitRolledOut("mlp", kNext));
  absl::SleepFor(absl::Milliseconds(300));
  stop = true;
  for (auto& t : load) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 50);
  EXPECT_GT(answered_by_next.load(), 0);
  auto d = Get("mlp");
  EXPECT_EQ(d["status"]["replicas"]["ready"].GetInt(), 2);
  EXPECT_EQ(d["status"]["replicas"]["updated"].GetInt(), 2);
}

TEST_F(DeploymentEndToEndTest, CanaryRollsBackOnErrorsAndIsPromotedWhenHealthy) {
  StartServer("deployment-canary");
  PushVersions();
  Apply("mlp", Spec("mlp", absl::StrCat("  model: mlp\n  version: ", kStable,
                                        "\n  canary:\n    version: ", kBroken,
                                        "\n    steps: [{weight: 50, duration: 60s}]\n"
                                        "    analysis: {maxErrorRate: 0.05, minRequests: 10}\n")));
  ASSERT_TRUE(WaitFor("mlp", [](const rapidjson::Document& d) { return Condition(d, "Canary") == "Progressing"; }));
  // Half the requests reach the broken canary until the analysis pulls it.
  bool rolled_back = false;
  for (int i = 0; i < 400 && !rolled_back; ++i) {
    Infer("mlp");
    if (i % 10 == 9) rolled_back = Condition(Get("mlp"), "Canary") == "RolledBack";
  }
  ASSERT_TRUE(rolled_back || WaitFor("mlp", [](const rapidjson::Document& d) {
    return Condition(d, "Canary") == "RolledBack";
  }));
  auto d = Get("mlp");
  EXPECT_THAT(Condition(d, "Canary", "message"), HasSubstr("error rate"));
  EXPECT_STREQ(d["status"]["canary"]["phase"].GetString(), "RolledBack");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Infer("mlp"), kStable);
  EXPECT_GT(MetricValue(Metrics(), R"(deployment_requests_total{deployment="mlp",result="error",track="canary",version="2.0.0"})"), 0);

  // A healthy canary goes through its steps and becomes the deployment's version.
  Apply("mlp", Spec("mlp", absl::StrCat("  model: mlp\n  version: ", kStable,
                                        "\n  canary:\n    version: ", kNext,
                                        "\n    steps: [{weight: 30, duration: 1s}, {weight: 60, duration: 1s}]\n"
                                        "    analysis: {maxErrorRate: 0.05, minRequests: 5}\n")));
  bool promoted = false;
  int canary_answers = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!promoted && absl::Now() < deadline) {
    const std::string version = Infer("mlp");
    ASSERT_FALSE(version.empty());
    if (version == kNext) ++canary_answers;
    promoted = Condition(Get("mlp"), "Canary") == "Promoted";
  }
  ASSERT_TRUE(promoted);
  EXPECT_GT(canary_answers, 0);
  ASSERT_TRUE(WaitRolledOut("mlp", kNext));
  d = Get("mlp");
  EXPECT_STREQ(d["spec"]["version"].GetString(), kNext);
  EXPECT_FALSE(d["spec"].HasMember("canary"));
  auto history = Send(http::HttpMethod::kGet, "/api/v1/namespaces/default/deployments/mlp/revisions");
  EXPECT_THAT(history.body, HasSubstr("canary 1.1.0 promoted after 2 step(s)"));
  EXPECT_EQ(Infer("mlp"), kNext);
}

TEST_F(DeploymentEndToEndTest, ShadowGetsCopiesAndNeverAnswers) {
  StartServer("deployment-shadow");
  PushVersions();
  Apply("mlp", Spec("mlp", absl::StrCat("  model: mlp\n  version: ", kStable, "\n  shadow: {version: ", kNext,
                                        ", percent: 100}\n")));
  ASSERT_TRUE(WaitFor("mlp", [](const rapidjson::Document& d) {
    return d.HasMember("status") && d["status"].HasMember("shadow") && d["status"]["shadow"]["replicas"].GetInt() == 1;
  }));
  for (int i = 0; i < 20; ++i) ASSERT_EQ(Infer("mlp"), kStable);
  const std::string same = R"(deployment_shadow_requests_total{deployment="mlp",result="same",version="1.1.0"})";
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (MetricValue(Metrics(), same) < 20 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  // TorchScript and ONNX exports of one model agree.
  EXPECT_EQ(MetricValue(Metrics(), same), 20);
  EXPECT_GT(MetricValue(Metrics(), R"(deployment_shadow_duration_seconds_count{deployment="mlp",version="1.1.0"})"), 0);

  // A failing shadow is counted and never reaches the client.
  Apply("mlp", Spec("mlp", absl::StrCat("  model: mlp\n  version: ", kStable, "\n  shadow: {version: ", kBroken,
                                        ", percent: 100}\n")));
  ASSERT_TRUE(WaitFor("mlp", [](const rapidjson::Document& d) {
    return d["status"].HasMember("shadow") && std::string(d["status"]["shadow"]["version"].GetString()) == "2.0.0" &&
           d["status"]["shadow"]["replicas"].GetInt() == 1;
  }));
  absl::SleepFor(absl::Milliseconds(300));
  for (int i = 0; i < 10; ++i) ASSERT_EQ(Infer("mlp"), kStable);
  EXPECT_GE(MetricValue(Metrics(), R"(deployment_shadow_requests_total{deployment="mlp",result="error",version="2.0.0"})"),
            9);
}

TEST_F(DeploymentEndToEndTest, HigherPriorityPreemptsLowerOnThisNode) {
  StartServer("deployment-priority", {"--node-cpus", "2", "--node-gpus", "0"});
  PushVersions();
  Apply("low", Spec("low", absl::StrCat("  model: mlp\n  version: ", kStable,
                                        "\n  priorityClassName: ai-low-priority\n"
                                        "  resources: {requests: {cpu: 1500m, memory: 64Mi}}\n")));
  ASSERT_TRUE(WaitRolledOut("low", kStable));
  EXPECT_EQ(Infer("low"), kStable);

  // A GPU request cannot be placed on a machine without GPUs, whatever its priority.
  Apply("gpu", Spec("gpu", "  model: mlp\n  priorityClassName: ai-high-priority\n"
                           "  resources: {requests: {nvidia.com/gpu: 1}}\n", "vision"), "vision");
  ASSERT_TRUE(WaitFor("gpu", [](const rapidjson::Document& d) { return Condition(d, "Scheduled") == "Unschedulable"; },
                      absl::Seconds(10), "vision"));
  EXPECT_THAT(Condition(Get("gpu", "vision"), "Scheduled", "message"), HasSubstr("Insufficient nvidia.com/gpu"));
  EXPECT_EQ(Infer("low"), kStable);

  Apply("high", Spec("high", absl::StrCat("  model: mlp\n  version: ", kNext,
                                          "\n  priorityClassName: ai-high-priority\n"
                                          "  resources: {requests: {cpu: \"1\", memory: 64Mi}}\n")));
  ASSERT_TRUE(WaitRolledOut("high", kNext));
  ASSERT_TRUE(WaitFor("low", [](const rapidjson::Document& d) { return Condition(d, "Scheduled") == "Preempted"; }));
  auto low = Get("low");
  EXPECT_THAT(Condition(low, "Scheduled", "message"), HasSubstr("preempted by higher-priority deployment default/high"));
  EXPECT_EQ(Condition(low, "Available", "status"), "False");
  EXPECT_EQ(low["status"]["replicas"]["ready"].GetInt(), 0);
  int code = 0;
  EXPECT_EQ(Infer("low", &code), "");
  EXPECT_EQ(code, 503);
  EXPECT_EQ(Infer("high"), kNext);

  // When the higher-priority deployment goes, the lower one comes back.
  EXPECT_EQ(Send(http::HttpMethod::kDelete, "/api/v1/namespaces/default/deployments/high").status, 200);
  ASSERT_TRUE(WaitRolledOut("low", kStable));
  EXPECT_EQ(Infer("low"), kStable);
}

TEST_F(DeploymentEndToEndTest, NamespaceQuotasLimitReplicas) {
  StartServer("deployment-quota");
  PushVersions();
  auto bad = Send(http::HttpMethod::kPut, "/api/v1/namespaces/team-a/resourcequotas/compute",
                  "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: compute, namespace: team-a}\n"
                  "spec: {hard: {requests.cpu: lots, pods: 3}}\n",
                  {{"Content-Type", "application/yaml"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("spec.hard.requests.cpu"));
  EXPECT_THAT(bad.body, HasSubstr("spec.hard.pods: unknown resource"));
  // As `curl -d` sends it (form content type).
  auto quota = Send(http::HttpMethod::kPut, "/api/v1/namespaces/team-a/resourcequotas/compute",
                    "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: compute, namespace: team-a}\n"
                    "spec: {hard: {requests.cpu: \"1\", requests.memory: 1Gi}}\n",
                    {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(quota.status, 200) << quota.body;

  Apply("web", Spec("web", absl::StrCat("  model: mlp\n  version: ", kStable, "\n  replicas: 3\n"
                                        "  resources: {requests: {cpu: 400m, memory: 64Mi}}\n"), "team-a"),
        "team-a");
  // Waits of up to a minute: the replicas' first TorchScript load also loads libtorch (2-3 s under
  // the sanitizers), and ctest runs this beside the autoscaling test's load. They end as soon as
  // the condition holds.
  ASSERT_TRUE(WaitFor("web", [](const rapidjson::Document& d) { return Condition(d, "Scheduled") == "QuotaExceeded"; },
                      absl::Seconds(60), "team-a"));
  auto web = Get("web", "team-a");
  EXPECT_THAT(Condition(web, "Scheduled", "message"), HasSubstr("exceeded quota in namespace team-a"));
  EXPECT_TRUE(WaitFor("web", [](const rapidjson::Document& d) { return d["status"]["replicas"]["ready"].GetInt() == 2; },
                      absl::Seconds(60), "team-a"));
  EXPECT_EQ(Infer("web"), kStable);  // the admitted replicas serve
  auto status = Send(http::HttpMethod::kGet, "/api/v1/namespaces/team-a/resourcequotas/compute");
  EXPECT_THAT(status.body, HasSubstr(R"("used":{"requests.cpu":"800m","requests.memory":"128Mi"})"));

  // Raising the quota admits the third replica.
  Send(http::HttpMethod::kPut, "/api/v1/namespaces/team-a/resourcequotas/compute",
       R"({"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"compute","namespace":"team-a"},)"
       R"("spec":{"hard":{"requests.cpu":"2"}}})");
  EXPECT_TRUE(WaitRolledOut("web", kStable, "team-a"));
  EXPECT_EQ(Get("web", "team-a")["status"]["replicas"]["ready"].GetInt(), 3);
  EXPECT_EQ(Send(http::HttpMethod::kDelete, "/api/v1/namespaces/team-a/resourcequotas/compute").status, 200);
  EXPECT_EQ(Send(http::HttpMethod::kGet, "/api/v1/namespaces/team-a/resourcequotas/compute").status, 404);
}

TEST_F(DeploymentEndToEndTest, AutoscalesUpUnderLoadAndBackDown) {
  StartServer("deployment-autoscale");
  PushVersions();
  Apply("mlp", Spec("mlp", absl::StrCat("  model: mlp\n  version: ", kStable,
                                        "\n  replicas: {min: 1, max: 3}\n"
                                        "  autoscaling:\n"
                                        "    metrics: [{type: concurrency, target: 0.05}]\n"
                                        "    interval: 500ms\n"
                                        "    scaleDown: {stabilizationWindow: 1s}\n")));
  ASSERT_TRUE(WaitRolledOut("mlp", kStable));
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&] {
      auto client = *http::HttpClient::Create(server_->url());
      while (!stop) {
        if (Infer(*client, "mlp").empty()) ++failed;
      }
    });
  }
  const bool scaled_up = WaitFor("mlp", [](const rapidjson::Document& d) {
    return d["status"]["replicas"]["ready"].GetInt() == 3;
  });
  stop = true;
  for (auto& t : load) t.join();
  ASSERT_TRUE(scaled_up) << Get("mlp")["status"]["autoscaling"]["reason"].GetString();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_TRUE(WaitFor("mlp", [](const rapidjson::Document& d) { return d["status"]["replicas"]["ready"].GetInt() == 1; }));
  EXPECT_EQ(Infer("mlp"), kStable);
}

TEST_F(DeploymentEndToEndTest, RestartBringsEveryDeploymentBack) {
  StartServer("deployment-restart");
  PushVersions();
  Apply("mlp", Spec("mlp", absl::StrCat("  model: mlp\n  version: ", kStable, "\n  replicas: 2\n")));
  Apply("scorer", Spec("scorer", absl::StrCat("  model: mlp\n  version: ", kNext, "\n"), "team-b"), "team-b");
  ASSERT_TRUE(WaitRolledOut("mlp", kStable));
  ASSERT_TRUE(WaitRolledOut("scorer", kNext, "team-b"));
  Apply("mlp", Spec("mlp", absl::StrCat("  model: mlp\n  version: ", kNext, "\n  replicas: 2\n")));
  ASSERT_TRUE(WaitRolledOut("mlp", kNext));

  server_->child().Signal(SIGTERM);
  ASSERT_TRUE(server_->child().Wait(std::chrono::seconds(30)).has_value());
  Restart();
  ASSERT_TRUE(WaitRolledOut("mlp", kNext));
  ASSERT_TRUE(WaitRolledOut("scorer", kNext, "team-b"));
  EXPECT_EQ(Infer("mlp"), kNext);
  EXPECT_EQ(Infer("scorer"), kNext);
  auto d = Get("mlp");
  EXPECT_EQ(d["metadata"]["revision"].GetInt(), 2);
  EXPECT_EQ(d["status"]["replicas"]["ready"].GetInt(), 2);
  auto all = Send(http::HttpMethod::kGet, "/api/v1/deployments");
  EXPECT_THAT(all.body, HasSubstr(R"("namespace":"team-b")"));
}

TEST_F(DeploymentEndToEndTest, CommandLine) {
  StartServer("deployment-cli");
  PushVersions();
  const std::map<std::string, std::string> env = {{"MERIDIAN_SERVER", server_->url()}};
  const std::string file = dir_ + "/mlp.yaml";
  {
    std::ofstream out(file);
    out << Spec("mlp", absl::StrCat("  model: mlp\n  version: ", kStable, "\n"));
  }
  auto apply = testing::RunMeridian({"apply", "-f", file}, env);
  EXPECT_EQ(apply.exit_status, 0) << apply.err;
  EXPECT_EQ(apply.out, "modeldeployment/mlp created (revision 1)\n");
  auto status = testing::RunMeridian({"rollout", "status", "mlp", "--timeout", "30s"}, env);
  EXPECT_EQ(status.exit_status, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("successfully rolled out (revision 1, version 1.0.0)"));
  auto get = testing::RunMeridian({"get", "deployments"}, env);
  EXPECT_THAT(get.out, HasSubstr("NAMESPACE"));
  EXPECT_THAT(get.out, HasSubstr("mlp"));
  {
    std::ofstream out(file);
    out << Spec("mlp", absl::StrCat("  model: mlp\n  version: ", kNext, "\n"));
  }
  EXPECT_EQ(testing::RunMeridian({"apply", "-f", file}, env).out, "modeldeployment/mlp configured (revision 2)\n");
  EXPECT_EQ(testing::RunMeridian({"rollout", "status", "mlp"}, env).exit_status, 0);
  auto describe = testing::RunMeridian({"describe", "deployment", "mlp"}, env);
  EXPECT_THAT(describe.out, HasSubstr("NewRevisionAvailable"));
  EXPECT_THAT(describe.out, HasSubstr("100% stable 1.1.0"));
  auto history = testing::RunMeridian({"rollout", "history", "mlp"}, env);
  EXPECT_THAT(history.out, HasSubstr("REVISION"));
  EXPECT_THAT(history.out, HasSubstr("1.1.0"));
  auto undo = testing::RunMeridian({"rollout", "undo", "mlp"}, env);
  EXPECT_EQ(undo.exit_status, 0) << undo.err;
  EXPECT_THAT(undo.out, HasSubstr("rollback to revision 1 (now revision 3)"));
  EXPECT_EQ(testing::RunMeridian({"rollout", "status", "mlp"}, env).exit_status, 0);
  EXPECT_EQ(Infer("mlp"), kStable);

  // A bad file: every error, exit 2, nothing sent.
  {
    std::ofstream out(file);
    out << Spec("mlp", "  replicas: -1\n");
  }
  auto bad = testing::RunMeridian({"apply", "-f", file}, env);
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_THAT(bad.err, HasSubstr("spec.model: is required"));
  EXPECT_THAT(bad.err, HasSubstr("spec.replicas"));
  EXPECT_EQ(testing::RunMeridian({"describe", "deployment", "nope"}, env).exit_status, 1);

  {
    std::ofstream out(dir_ + "/quota.yaml");
    out << "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: compute, namespace: default}\n"
           "spec: {hard: {cpu: \"4\", memory: 8Gi}}\n";
  }
  auto quota = testing::RunMeridian({"apply", "-f", dir_ + "/quota.yaml"}, env);
  EXPECT_EQ(quota.exit_status, 0) << quota.err;
  EXPECT_EQ(quota.out, "resourcequota/compute configured\n");
  auto quotas = testing::RunMeridian({"get", "resourcequotas"}, env);
  EXPECT_THAT(quotas.out, HasSubstr("requests.memory"));
  EXPECT_THAT(quotas.out, HasSubstr("8Gi"));
  EXPECT_EQ(testing::RunMeridian({"delete", "resourcequota", "compute"}, env).exit_status, 0);

  auto del = testing::RunMeridian({"delete", "deployment", "mlp"}, env);
  EXPECT_EQ(del.exit_status, 0) << del.err;
  EXPECT_EQ(del.out, "modeldeployment/mlp deleted\n");
  EXPECT_EQ(testing::RunMeridian({"get", "deployments", "mlp"}, env).exit_status, 1);
}

}  // namespace
}  // namespace meridian
