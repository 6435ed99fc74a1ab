#include "deploy/model_deployment_parser.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::deploy {
namespace {

using ::testing::HasSubstr;

constexpr char kFull[] = R"yaml(
apiVersion: meridian.ai/v1
kind: ModelDeployment
metadata:
  name: image-classifier
  namespace: vision
  labels: {team: vision}
spec:
  model: image-classifier
  version: production
  replicas: {min: 1, max: 4}
  resources:
    requests: {cpu: 500m, memory: 256Mi, nvidia.com/gpu: 0.5}
    limits: {cpu: "1", memory: 1Gi}
  priorityClassName: ai-high-priority
  autoscaling:
    metrics: [{type: concurrency, target: 4}, {type: cpu, target: 70}]
    scaleDown: {stabilizationWindow: 30s, policies: [{type: Pods, value: 1, period: 10s}]}
    interval: 5s
  batching: {maxBatchSize: 16, maxQueueDelay: 500us}
  responseCache: {enabled: true, ttl: 60s}
  placement:
    nodeSelector: {kubernetes.io/os: linux}
    tolerations: [{key: gpu, operator: Exists, effect: NoSchedule}]
    affinity:
      nodeAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a, b]}]}]
  strategy: {maxUnavailable: 0, maxSurge: 1}
  canary:
    version: ^1.2
    steps: [{weight: 10, duration: 30s}, {weight: 50, duration: 1m}]
    analysis: {maxErrorRate: 0.02, maxLatencyRatio: 1.5, minRequests: 50}
  shadow: {version: 2.0.0-rc.1, percent: 5}
status: {anything: ignored}
)yaml";

TEST(ModelDeploymentParserTest, ReadsEveryField) {
  auto spec = ParseModelDeployment(kFull);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->key(), "vision/image-classifier");
  EXPECT_EQ(spec->version, "production");
  EXPECT_EQ(spec->min_replicas, 1);
  EXPECT_EQ(spec->max_replicas, 4);
  EXPECT_EQ(spec->requests.cpu_milli, 500);
  EXPECT_EQ(spec->requests.memory_bytes, 256 << 20);
  EXPECT_EQ(spec->requests.gpu_milli, 500);
  EXPECT_EQ(spec->limits.memory_bytes, 1 << 30);
  EXPECT_EQ(spec->priority_class, "ai-high-priority");
  ASSERT_EQ(spec->autoscaling.metrics.size(), 2u);
  EXPECT_EQ(spec->autoscaling.metrics[1].type, "cpu");
  EXPECT_EQ(spec->autoscaling.scale_down.stabilization_window, absl::Seconds(30));
  EXPECT_EQ(spec->autoscaling.interval, absl::Seconds(5));
  EXPECT_THAT(spec->batching_json, HasSubstr("\"maxBatchSize\":16"));
  EXPECT_EQ(spec->node_selector.at("kubernetes.io/os"), "linux");
  ASSERT_EQ(spec->tolerations.size(), 1u);
  EXPECT_FALSE(spec->tolerations[0].any_effect);
  ASSERT_EQ(spec->required_node_affinity.size(), 1u);
  EXPECT_EQ(spec->required_node_affinity[0].match_expressions[0].values.size(), 2u);
  ASSERT_TRUE(spec->canary.has_value());
  EXPECT_EQ(spec->canary->version, "^1.2");
  ASSERT_EQ(spec->canary->steps.size(), 2u);
  EXPECT_EQ(spec->canary->steps[1].duration, absl::Minutes(1));
  EXPECT_EQ(spec->canary->analysis.min_requests, 50);
  ASSERT_TRUE(spec->shadow.has_value());
  EXPECT_EQ(spec->shadow->percent, 5);
}

TEST(ModelDeploymentParserTest, CanonicalJsonParsesBackToTheSameJson) {
  auto spec = ParseModelDeployment(kFull);
  ASSERT_TRUE(spec.ok());
  const std::string json = ModelDeploymentToJson(*spec);
  auto again = ParseModelDeployment(json);
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << json;
  EXPECT_EQ(ModelDeploymentToJson(*again), json);
}

TEST(ModelDeploymentParserTest, DefaultsAreFilledIn) {
  auto spec = ParseModelDeployment(R"({"apiVersion": "meridian.ai/v1", "kind": "ModelDeployment",
                                       "metadata": {"name": "mlp"}, "spec": {"model": "mlp"}})",
                                   "team-a");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->namespace_name, "team-a");
  EXPECT_EQ(spec->version, "latest");
  EXPECT_EQ(spec->min_replicas, 1);
  EXPECT_EQ(spec->max_replicas, 1);
  EXPECT_EQ(spec->strategy.max_unavailable, 0);
  EXPECT_EQ(spec->strategy.max_surge, 1);
  EXPECT_FALSE(spec->canary.has_value());
}

TEST(ModelDeploymentParserTest, ListsEveryErrorWithItsPath) {
  auto spec = ParseModelDeployment(R"yaml(
apiVersion: v1
kind: Deployment
metadata: {name: Bad_Name}
spec:
  version: "^1.2.3.4"
  replicas: {min: 3, max: 2}
  resources: {requests: {cpu: lots, memory: 1GB, nvidia.com/gpu: 1.5}}
  canary: {weight: 150}
  strategy: {maxUnavailable: 0, maxSurge: 0}
  batching: {maxBatchSize: 0}
  colour: blue
)yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string m(spec.status().message());
  for (const char* path : {"apiVersion:", "kind:", "metadata.name:", "spec.model: is required", "spec.version:",
                           "spec.replicas.max:", "spec.resources.requests.cpu:", "spec.resources.requests.memory:",
                           "spec.resources.requests.nvidia.com/gpu:", "spec.canary.version: is required",
                           "spec.canary.weight:", "spec.strategy:", "spec.batching:", "spec.colour: unknown field"}) {
    EXPECT_THAT(m, HasSubstr(path));
  }
}

TEST(ModelDeploymentParserTest, RejectsMalformedDocuments) {
  for (const char* bad : {"", "[1, 2]", "{", "apiVersion: meridian.ai/v1\nkind: ModelDeployment\nspec: 3",
                          "just text"}) {
    auto spec = ParseModelDeployment(bad);
    EXPECT_FALSE(spec.ok()) << bad;
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ModelDeploymentParserTest, HostileDocumentsAreRefusedQuickly) {
  // A billion laughs through YAML aliases in a nested object.
  std::string laughs = "apiVersion: meridian.ai/v1\nkind: ModelDeployment\nmetadata: {name: mlp}\nspec:\n"
                       "  model: mlp\n  batching:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    laughs += absl::StrCat("    a", i, ": &a", i, " [");
    for (int j = 0; j < 10; ++j) laughs += absl::StrCat(j ? ", " : "", "*a", i - 1);
    laughs += "]\n";
  }
  auto spec = ParseModelDeployment(laughs);
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(), HasSubstr("spec.batching: is too large or too deeply nested"));

  // Nesting far deeper than any spec.
  const std::string deep = absl::StrCat("spec: ", std::string(100000, '['), std::string(100000, ']'));
  spec = ParseModelDeployment(deep);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ModelDeploymentParserTest, GpuUtilizationIsRefusedWithTheReason) {
  auto spec = ParseModelDeployment(R"yaml(
apiVersion: meridian.ai/v1
kind: ModelDeployment
metadata: {name: mlp}
spec: {model: mlp, replicas: {min: 1, max: 3}, autoscaling: {metrics: [{type: gpu, target: 70}]}}
)yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(), HasSubstr("spec.autoscaling.metrics[0].type: gpu utilization needs a GPU"));
}

TEST(ModelDeploymentParserTest, AutoscalingRangeNeedsMetrics) {
  auto spec = ParseModelDeployment(R"yaml(
apiVersion: meridian.ai/v1
kind: ModelDeployment
metadata: {name: mlp}
spec: {model: mlp, replicas: {min: 1, max: 3}}
)yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(), HasSubstr("spec.autoscaling.metrics"));
}

}  // namespace
}  // namespace meridian::deploy
