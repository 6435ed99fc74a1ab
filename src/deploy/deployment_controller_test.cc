#include "deploy/deployment_controller.h"

#include <functional>
#include <set>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "deploy/model_deployment_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/in_memory_registry.h"

namespace meridian::deploy {
namespace {

using ::testing::HasSubstr;

// A Runtime that runs nothing: it records what the controller asks for, checks the order of
// traffic changes and stops, and returns loads and outcomes the test sets.
class FakeRuntime final : public Runtime {
 public:
  absl::StatusOr<ReplicaId> StartReplica(const ReplicaTemplate& replica) override {
    absl::MutexLock lock(&mutex_);
    if (failing_versions_.contains(replica.version)) return absl::InternalError("cannot load this version");
    const ReplicaId id = next_++;
    running_[id] = replica.version;
    return id;
  }
  void StopReplica(ReplicaId id) override {
    absl::MutexLock lock(&mutex_);
    // Traffic must have left it first.
    for (const TrafficPlan& plan : traffic_) {
      for (const auto* track : {&plan.stable, plan.canary ? &*plan.canary : nullptr, plan.shadow ? &*plan.shadow : nullptr}) {
        if (track == nullptr) continue;
        for (ReplicaId routed : track->replicas) {
          if (routed == id) ++stopped_while_routed_;
        }
      }
    }
    running_.erase(id);
  }
  void SetTraffic(const std::vector<TrafficPlan>& plans) override {
    absl::MutexLock lock(&mutex_);
    traffic_ = plans;
    for (const TrafficPlan& plan : plans) {
      if (plan.deployment != watched_) continue;
      const int stable = static_cast<int>(plan.stable.replicas.size());
      if (stable > 0) {
        min_stable_ = std::min(min_stable_, stable);
        max_stable_ = std::max(max_stable_, stable);
      }
    }
  }
  std::optional<ReplicaLoad> Load(ReplicaId id) override {
    absl::MutexLock lock(&mutex_);
    if (!running_.contains(id)) return std::nullopt;
    return load_(id);
  }
  serving::TrafficStats::Snapshot Outcomes(const std::string& deployment, const std::string& version) override {
    absl::MutexLock lock(&mutex_);
    return outcomes_[version];
  }

  void Watch(const std::string& deployment) {
    absl::MutexLock lock(&mutex_);
    watched_ = deployment;
    min_stable_ = 1 << 20;
    max_stable_ = 0;
  }
  std::pair<int, int> StableRange() {
    absl::MutexLock lock(&mutex_);
    return {min_stable_, max_stable_};
  }
  int stopped_while_routed() {
    absl::MutexLock lock(&mutex_);
    return stopped_while_routed_;
  }
  std::multiset<std::string> RunningVersions() {
    absl::MutexLock lock(&mutex_);
    std::multiset<std::string> out;
    for (const auto& [id, version] : running_) out.insert(version);
    return out;
  }
  void FailVersion(const std::string& version) {
    absl::MutexLock lock(&mutex_);
    failing_versions_.insert(version);
  }
  void AddOutcomes(const std::string& version, int64_t requests, int64_t errors) {
    absl::MutexLock lock(&mutex_);
    serving::TrafficStats::Snapshot& s = outcomes_[version];
    s.requests += requests;
    s.errors += errors;
    s.buckets[10] += requests;
  }
  void SetLoad(std::function<ReplicaLoad(ReplicaId)> load) {
    absl::MutexLock lock(&mutex_);
    load_ = std::move(load);
  }

 private:
  absl::Mutex mutex_;
  ReplicaId next_ = 1;
  std::map<ReplicaId, std::string> running_;
  std::set<std::string> failing_versions_;
  std::vector<TrafficPlan> traffic_;
  std::map<std::string, serving::TrafficStats::Snapshot> outcomes_;
  std::function<ReplicaLoad(ReplicaId)> load_ = [](ReplicaId) { return ReplicaLoad{}; };
  std::string watched_;
  int min_stable_ = 1 << 20;
  int max_stable_ = 0;
  int stopped_while_routed_ = 0;
};

class DeploymentControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_->CreateModel({.name = "mlp"}, "test").ok());
    for (const char* version : {"1.0.0", "1.1.0", "2.0.0"}) {
      ASSERT_TRUE(registry_->RegisterVersion({.model = "mlp", .version = version, .framework = "onnx",
                                              .artifact_digest = stores_.Upload(version)},
                                             "test")
                      .ok());
    }
    controller_ = std::move(*DeploymentController::Create(
        {.store = &stores_.store(),
         .registry = registry_,
         .runtime = &runtime_,
         .node = {.name = "box", .cpu_milli = 4000, .memory_bytes = 8ll << 30},
         .resync = absl::Milliseconds(20),
         .retry_failed_start = absl::Milliseconds(50)}));
  }

  void Apply(const std::string& spec_body) {
    auto spec = ParseModelDeployment(absl::StrCat("apiVersion: meridian.ai/v1\nkind: ModelDeployment\n"
                                                  "metadata: {name: mlp}\nspec:\n  model: mlp\n", spec_body));
    ASSERT_TRUE(spec.ok()) << spec.status();
    ASSERT_TRUE(controller_->Apply(*spec, "test").ok());
  }

  std::string Json() { return *controller_->GetJson("default", "mlp"); }

  bool WaitFor(const std::function<bool()>& done, absl::Duration limit = absl::Seconds(10)) {
    const absl::Time deadline = absl::Now() + limit;
    while (absl::Now() < deadline) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  bool Running(std::multiset<std::string> versions) {
    return WaitFor([&] { return runtime_.RunningVersions() == versions; });
  }

  FakeRuntime runtime_;
  testing::InMemoryRegistry stores_{"meridian-controller"};
  registry::Registry* registry_ = &stores_.registry();
  std::unique_ptr<DeploymentController> controller_;
};

TEST_F(DeploymentControllerTest, RollingUpdateWithSurgeNeverDropsBelowDesired) {
  Apply("  version: 1.0.0\n  replicas: 3\n  strategy: {maxUnavailable: 0, maxSurge: 1}\n");
  ASSERT_TRUE(Running({"1.0.0", "1.0.0", "1.0.0"}));
  runtime_.Watch("mlp");
  Apply("  version: 1.1.0\n  replicas: 3\n  strategy: {maxUnavailable: 0, maxSurge: 1}\n");
  ASSERT_TRUE(Running({"1.1.0", "1.1.0", "1.1.0"}));
  EXPECT_EQ(runtime_.StableRange(), std::make_pair(3, 4));
  EXPECT_EQ(runtime_.stopped_while_routed(), 0);
  EXPECT_TRUE(WaitFor([&] { return absl::StrContains(Json(), "NewRevisionAvailable"); }));
}

TEST_F(DeploymentControllerTest, RollingUpdateInPlaceNeverExceedsDesired) {
  Apply("  version: 1.0.0\n  replicas: 3\n  strategy: {maxUnavailable: 1, maxSurge: 0}\n");
  ASSERT_TRUE(Running({"1.0.0", "1.0.0", "1.0.0"}));
  runtime_.Watch("mlp");
  Apply("  version: 1.1.0\n  replicas: 3\n  strategy: {maxUnavailable: 1, maxSurge: 0}\n");
  ASSERT_TRUE(Running({"1.1.0", "1.1.0", "1.1.0"}));
  EXPECT_EQ(runtime_.StableRange(), std::make_pair(2, 3));
  EXPECT_EQ(runtime_.stopped_while_routed(), 0);
}

TEST_F(DeploymentControllerTest, AVersionThatFailsToStartLeavesTheOldOneServing) {
  Apply("  version: 1.0.0\n  replicas: 2\n");
  ASSERT_TRUE(Running({"1.0.0", "1.0.0"}));
  runtime_.FailVersion("2.0.0");
  Apply("  version: 2.0.0\n  replicas: 2\n");
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Json(), "ReplicaFailed"); }));
  EXPECT_THAT(Json(), HasSubstr("cannot load this version"));
  absl::SleepFor(absl::Milliseconds(200));  // retries keep failing; nothing is taken away
  EXPECT_EQ(runtime_.RunningVersions(), (std::multiset<std::string>{"1.0.0", "1.0.0"}));
}

TEST_F(DeploymentControllerTest, AliasMovesRollOut) {
  ASSERT_TRUE(registry_->SetAlias("mlp", "production", "1.0.0", "test", "").ok());
  Apply("  version: production\n");
  ASSERT_TRUE(Running({"1.0.0"}));
  ASSERT_TRUE(registry_->SetAlias("mlp", "production", "1.1.0", "test", "").ok());
  ASSERT_TRUE(Running({"1.1.0"}));
  // Ranges pick the highest READY release in them.
  Apply("  version: \"^1.0\"\n");
  ASSERT_TRUE(Running({"1.1.0"}));
  Apply("  version: \">=2.0.0\"\n");
  ASSERT_TRUE(Running({"2.0.0"}));
}

TEST_F(DeploymentControllerTest, CanaryIsRolledBackWhenItsErrorRateBreaksTheObjective) {
  Apply("  version: 1.0.0\n  canary:\n    version: 1.1.0\n    steps: [{weight: 20, duration: 1h}]\n"
        "    analysis: {maxErrorRate: 0.1, minRequests: 10}\n");
  ASSERT_TRUE(Running({"1.0.0", "1.1.0"}));
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Json(), R"("phase":"Progressing")"); }));
  runtime_.AddOutcomes("1.0.0", 100, 0);
  runtime_.AddOutcomes("1.1.0", 20, 5);
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Json(), "RolledBack"); }));
  EXPECT_THAT(Json(), HasSubstr("error rate 25.0% > 10.0% over 20 requests"));
  ASSERT_TRUE(Running({"1.0.0"}));
}

TEST_F(DeploymentControllerTest, CanaryThatHoldsIsPromotedAsANewRevision) {
  Apply("  version: 1.0.0\n  canary:\n    version: 1.1.0\n    steps: [{weight: 20, duration: 50ms}]\n"
        "    analysis: {minRequests: 10}\n");
  ASSERT_TRUE(Running({"1.0.0", "1.1.0"}));
  runtime_.AddOutcomes("1.1.0", 50, 0);
  ASSERT_TRUE(Running({"1.1.0"}));
  auto history = *controller_->HistoryJson("default", "mlp");
  EXPECT_THAT(history, HasSubstr("canary 1.1.0 promoted after 1 step(s)"));
  EXPECT_THAT(Json(), HasSubstr(R"("revision":2)"));
}

TEST_F(DeploymentControllerTest, AutoscalesOnConcurrency) {
  Apply("  version: 1.0.0\n  replicas: {min: 1, max: 4}\n"
        "  autoscaling: {metrics: [{type: concurrency, target: 1}], interval: 50ms,"
        " scaleDown: {stabilizationWindow: 0s}}\n");
  ASSERT_TRUE(Running({"1.0.0"}));
  // Every replica holds three requests on average: three times the target.
  const absl::Time start = absl::Now();
  runtime_.SetLoad([start](ReplicaId) { return ReplicaLoad{.request_time = 3 * (absl::Now() - start)}; });
  ASSERT_TRUE(WaitFor([&] { return runtime_.RunningVersions().size() >= 3; }));
  runtime_.SetLoad([](ReplicaId) { return ReplicaLoad{}; });
  ASSERT_TRUE(Running({"1.0.0"}));
}

TEST_F(DeploymentControllerTest, VersionsInUseCannotBeDeleted) {
  Apply("  version: 1.0.0\n");
  ASSERT_TRUE(Running({"1.0.0"}));
  ASSERT_TRUE(WaitFor([&] { return !registry_->DeleteVersion("mlp", "1.0.0").ok(); }));
  EXPECT_THAT(registry_->DeleteVersion("mlp", "1.0.0").message(), HasSubstr("deployment/default/mlp"));
  EXPECT_TRUE(registry_->DeleteVersion("mlp", "2.0.0").ok());
  ASSERT_TRUE(controller_->Delete("default", "mlp").ok());
  EXPECT_TRUE(WaitFor([&] { return registry_->DeleteVersion("mlp", "1.0.0").ok(); }));
}

}  // namespace
}  // namespace meridian::deploy
