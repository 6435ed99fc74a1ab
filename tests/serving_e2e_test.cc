// End-to-end: the real server serves every fixture model over every REST protocol (OIP v2 JSON,
// OIP v2 binary tensors, KServe V1, /predict) and answers what the framework itself computed;
// bad requests get clear errors; a corrupt model fails alone.

#include <atomic>
#include <cmath>
#include <filesystem>
#include <thread>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_client.h"
#include "protocol/instances_codec.h"
#include "rapidjson/document.h"
#include "tests/serving_fixtures.h"
#include "tests/test_server.h"
#include "testing/raw_connection.h"
#include "testing/redis_server.h"

namespace meridian {
namespace {

using ::testing::HasSubstr;
using testing::MetricValue;
using testing::ModelFixture;
using testing::TestServer;

const http::HeaderList kJson = {{"Content-Type", "application/json"}};

class ServingEndToEndTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& name) {
    dir_ = testing::FreshTestDir(name);
    server_ = std::make_unique<TestServer>(dir_, dir_ + "/data");
    ASSERT_NE(server_->WaitUntilStarted(), 0) << server_->child().Stderr();
    client_ = *http::HttpClient::Create(server_->url());
  }

  ModelFixture PushFixture(const std::string& name) {
    auto fixture = testing::LoadFixture(name);
    EXPECT_TRUE(fixture.ok()) << fixture.status();
    absl::Status pushed = testing::PushAndLoad(*client_, *fixture, name);
    EXPECT_TRUE(pushed.ok()) << pushed;
    return *fixture;
  }

  http::ClientResponse Post(const std::string& target, std::string body, const http::HeaderList& headers = kJson) {
    auto response = client_->Send(http::HttpMethod::kPost, target, std::move(body), headers);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : http::ClientResponse{};
  }

  std::string dir_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<http::HttpClient> client_;
};

void ExpectOutputsMatch(const ModelFixture& fixture, const std::vector<serving::Tensor>& actual,
                        const std::string& protocol) {
  ASSERT_EQ(actual.size(), fixture.outputs.size()) << fixture.name << " over " << protocol;
  for (const serving::Tensor& expected : fixture.outputs) {
    const serving::Tensor* got = nullptr;
    for (const serving::Tensor& t : actual) {
      if (t.name() == expected.name()) got = &t;
    }
    ASSERT_NE(got, nullptr) << fixture.name << " over " << protocol << " lacks output " << expected.name();
    EXPECT_EQ(testing::CompareTensors(expected, *got), "") << fixture.name << " over " << protocol;
  }
}

std::string BinaryRequest(const ModelFixture& fixture, size_t* json_length) {
  std::string json = R"({"parameters":{"binary_data_output":true},"inputs":[)";
  std::string data;
  for (size_t i = 0; i < fixture.inputs.size(); ++i) {
    const serving::Tensor& t = fixture.inputs[i];
    absl::StrAppend(&json, i ? "," : "", R"({"name":")", t.name(), R"(","datatype":")", serving::DataTypeName(t.type()),
                    R"(","shape":)", serving::ShapeText(t.shape()), R"(,"parameters":{"binary_data_size":)",
                    t.byte_size(), "}}");
    absl::StrAppend(&data, t.bytes());
  }
  absl::StrAppend(&json, "]}");
  *json_length = json.size();
  return json + data;
}

absl::StatusOr<std::vector<serving::Tensor>> ParseBinaryResponse(const http::ClientResponse& response) {
  auto header = response.Header("Inference-Header-Content-Length");
  if (!header) return absl::InvalidArgumentError("no Inference-Header-Content-Length in the response");
  size_t json_length = 0;
  if (!absl::SimpleAtoi(*header, &json_length)) return absl::InvalidArgumentError("bad header");
  rapidjson::Document doc;
  doc.Parse(response.body.data(), json_length);
  std::vector<serving::Tensor> outputs;
  size_t offset = json_length;
  for (const auto& o : doc["outputs"].GetArray()) {
    serving::Shape shape;
    for (const auto& d : o["shape"].GetArray()) shape.push_back(d.GetInt64());
    const size_t size = o["parameters"]["binary_data_size"].GetUint64();
    outputs.push_back(serving::Tensor::Owned(o["name"].GetString(), *serving::ParseDataType(o["datatype"].GetString()),
                                             shape, response.body.substr(offset, size)));
    offset += size;
  }
  if (offset != response.body.size()) return absl::InvalidArgumentError("binary sizes do not add up to the body");
  return outputs;
}

std::string Instances(const std::vector<serving::Tensor>& inputs) {
  rapidjson::StringBuffer buffer;
  protocol::JsonWriter writer(buffer);
  protocol::WritePredictions(inputs, writer);  // rows of the inputs are exactly V1 instances
  return buffer.GetString();
}

absl::StatusOr<std::vector<serving::Tensor>> ParsePredictions(const std::string& body, const ModelFixture& fixture) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  if (doc.HasParseError() || !doc.HasMember("predictions")) return absl::InvalidArgumentError(body);
  serving::ModelSignature outputs_as_inputs;
  for (const serving::Tensor& t : fixture.outputs) outputs_as_inputs.inputs.push_back({t.name(), t.type(), t.shape()});
  return protocol::DecodeInstances(doc["predictions"], outputs_as_inputs);
}

TEST_F(ServingEndToEndTest, EveryFixtureAnswersLikeItsFrameworkOverEveryRestProtocol) {
  StartServer("serving_all_protocols");
  for (const std::string& name : testing::AllFixtureNames()) {
    SCOPED_TRACE(name);
    const ModelFixture fixture = PushFixture(name);

    // OIP v2, JSON tensors, with and without the version in the path; the id comes back.
    for (const std::string& path : {absl::StrCat("/v2/models/", name, "/infer"),
                                    absl::StrCat("/v2/models/", name, "/versions/1.0.0/infer")}) {
      auto json = Post(path, absl::StrCat(R"({"id":"req-7","inputs":)", fixture.inputs_json, "}"));
      ASSERT_EQ(json.status, 200) << json.body;
      EXPECT_THAT(json.body, HasSubstr(R"("id":"req-7")"));
      auto outputs = testing::ParseJsonOutputs(json.body);
      ASSERT_TRUE(outputs.ok()) << outputs.status();
      ExpectOutputsMatch(fixture, *outputs, "OIP v2 JSON");
    }

    // OIP v2, binary tensors both ways.
    size_t json_length = 0;
    std::string body = BinaryRequest(fixture, &json_length);
    auto binary = Post(absl::StrCat("/v2/models/", name, "/infer"), body,
                       {{"Content-Type", "application/octet-stream"},
                        {"Inference-Header-Content-Length", std::to_string(json_length)}});
    ASSERT_EQ(binary.status, 200) << binary.body;
    auto binary_outputs = ParseBinaryResponse(binary);
    ASSERT_TRUE(binary_outputs.ok()) << binary_outputs.status();
    ExpectOutputsMatch(fixture, *binary_outputs, "OIP v2 binary");

    // KServe V1 and /predict (row format).
    const std::string instances = Instances(fixture.inputs);
    auto v1 = Post(absl::StrCat("/v1/models/", name, ":predict"), absl::StrCat(R"({"instances":)", instances, "}"));
    ASSERT_EQ(v1.status, 200) << v1.body;
    auto v1_outputs = ParsePredictions(v1.body, fixture);
    ASSERT_TRUE(v1_outputs.ok()) << v1_outputs.status();
    ExpectOutputsMatch(fixture, *v1_outputs, "KServe V1");

    auto predict = Post("/predict", absl::StrCat(R"({"model":")", name, R"(","instances":)", instances, "}"));
    ASSERT_EQ(predict.status, 200) << predict.body;
    EXPECT_THAT(predict.body, HasSubstr(R"("version":"1.0.0")"));
    auto predict_outputs = ParsePredictions(predict.body, fixture);
    ASSERT_TRUE(predict_outputs.ok()) << predict_outputs.status();
    ExpectOutputsMatch(fixture, *predict_outputs, "/predict");

    auto ready = client_->Get(absl::StrCat("/v2/models/", name, "/ready"));
    EXPECT_EQ(ready->status, 200);
    auto v1_status = client_->Get(absl::StrCat("/v1/models/", name));
    EXPECT_THAT(v1_status->body, HasSubstr(R"("ready":true)"));
  }

  // Metrics: the end-to-end histogram under the name the alert rule uses, per model and version.
  auto metrics = client_->Get("/metrics");
  EXPECT_THAT(metrics->body, HasSubstr(R"(inference_duration_seconds_bucket{model="mlp-onnx",version="1.0.0",le="0.1"})"));
  EXPECT_THAT(metrics->body, HasSubstr(R"(inference_requests_total{model="mlp-onnx",outcome="success",version="1.0.0"} 5)"));
  EXPECT_THAT(metrics->body, HasSubstr(R"(inference_count_total{model="mlp-onnx",version="1.0.0"} 15)"));
}

TEST_F(ServingEndToEndTest, MetadataIndexAndUnload) {
  StartServer("serving_metadata");
  PushFixture("two-in-two-out-onnx");
  auto metadata = client_->Get("/v2/models/two-in-two-out-onnx");
  ASSERT_EQ(metadata->status, 200);
  EXPECT_EQ(metadata->body,
            R"({"name":"two-in-two-out-onnx","versions":["1.0.0"],"platform":"onnx_opencv",)"
            R"("inputs":[{"name":"a","datatype":"FP32","shape":[-1,4]},{"name":"b","datatype":"FP32","shape":[-1,4]}],)"
            R"("outputs":[{"name":"sum","datatype":"FP32","shape":[-1,4]},{"name":"product","datatype":"FP32","shape":[-1,4]}]})");
  EXPECT_EQ(client_->Get("/v2/models/two-in-two-out-onnx/versions/1.0.0")->status, 200);
  auto server = client_->Get("/v2");
  EXPECT_THAT(server->body, HasSubstr(R"("extensions":["binary_tensor_data","model_repository")"));
  auto index = Post("/v2/repository/index", "");
  EXPECT_EQ(index.body, R"([{"name":"two-in-two-out-onnx","version":"1.0.0","state":"READY"}])");

  ASSERT_EQ(Post("/v2/repository/models/two-in-two-out-onnx/unload", "").status, 200);
  // The index lists the registry's models that are not loaded too; {"ready": true} leaves them out.
  EXPECT_EQ(Post("/v2/repository/index", "").body,
            R"([{"name":"two-in-two-out-onnx","state":"UNAVAILABLE","reason":"not loaded"}])");
  EXPECT_EQ(Post("/v2/repository/index", R"({"ready":true})").body, "[]");
  auto bad_index = Post("/v2/repository/index", "[1]");
  EXPECT_EQ(bad_index.status, 400);
  EXPECT_THAT(bad_index.body, HasSubstr("must be a JSON object"));
  EXPECT_EQ(Post("/v2/repository/index", R"({"ready":"yes"})").status, 400);
  EXPECT_EQ(Post("/v2/repository/models/two-in-two-out-onnx/unload", "").status, 404);
  // Reload with an explicit policy.
  auto reload = Post("/v2/repository/models/two-in-two-out-onnx/load",
                     R"({"parameters":{"version_policy":{"specific":{"versions":["1.0.0"]}}}})");
  EXPECT_EQ(reload.status, 200) << reload.body;
  auto bad_policy = Post("/v2/repository/models/two-in-two-out-onnx/load", R"({"parameters":{"version_policy":{"newest":{}}}})");
  EXPECT_EQ(bad_policy.status, 400);
  EXPECT_THAT(bad_policy.body, HasSubstr("version_policy must be"));
  EXPECT_EQ(Post("/v2/repository/models/no-such-model/load", "").status, 404);
}

TEST_F(ServingEndToEndTest, BadRequestsGetClearErrors) {
  StartServer("serving_bad_requests");
  PushFixture("mlp-onnx");
  const std::string infer = "/v2/models/mlp-onnx/infer";
  auto expect_error = [&](const std::string& body, int status, const std::string& message,
                          const http::HeaderList& headers = kJson, const std::string& target = "") {
    auto response = Post(target.empty() ? infer : target, body, headers);
    EXPECT_EQ(response.status, status) << body << " -> " << response.body;
    EXPECT_THAT(response.body, HasSubstr(message)) << body;
  };
  std::string zeros = "0";
  for (int i = 1; i < 784; ++i) zeros += ",0";
  expect_error(R"({"inputs":[{"name":"input__0","datatype":"FP32","shape":[1,783],"data":[0]}]})", 400, "has 1 data elements");
  expect_error(absl::StrCat(R"({"inputs":[{"name":"input__0","datatype":"FP32","shape":[1,784],"data":[)", zeros, "]}]}"),
               200, "output__0");
  expect_error(absl::StrCat(R"({"inputs":[{"name":"input__0","datatype":"FP64","shape":[1,784],"data":[)", zeros, "]}]}"),
               400, "datatype FP64 but the model expects FP32");
  expect_error(R"({"inputs":[{"name":"input__0","datatype":"FP32","shape":[2,2],"data":[1,2,3,4]}]})", 400,
               "expects [-1,784]");
  expect_error(R"({"inputs":[{"name":"pixels","datatype":"FP32","shape":[1],"data":[1]}]})", 400, "unknown input 'pixels'");
  expect_error(R"({"inputs":[{"name":"input__0","datatype":"FP32","shape":[1,784],"data":["x"]}]})", 400, "not a number");
  expect_error(absl::StrCat(R"({"inputs":[{"name":"input__0","datatype":"FP32","shape":[1,784],"data":[)", zeros,
                            R"(]}],"outputs":[{"name":"probabilities"}]})"),
               400, "unknown output 'probabilities'");
  expect_error("{not json", 400, "not valid JSON");
  const std::string binary_header =
      R"({"inputs":[{"name":"input__0","datatype":"FP32","shape":[1,784],"parameters":{"binary_data_size":3136}}]})";
  expect_error(binary_header + std::string(100, '\0'), 400, "binary_data_size 3136 runs past the end",
               {{"Inference-Header-Content-Length", std::to_string(binary_header.size())}});
  expect_error(R"({"inputs":[]})", 400, "Inference-Header-Content-Length is 5000",
               {{"Inference-Header-Content-Length", "5000"}});
  const std::string one_input = R"({"inputs":[{"name":"input__0","datatype":"FP32","shape":[1],"data":[1]}]})";
  expect_error(one_input, 404, R"(model \"nope\" not found)", kJson, "/v2/models/nope/infer");
  expect_error(one_input, 404, R"(version 9.9.9 of model \"mlp-onnx\" not found)", kJson,
               "/v2/models/mlp-onnx/versions/9.9.9/infer");
  expect_error(R"({"instances":[[1,2]]})", 400, "expects [-1,784]", kJson, "/v1/models/mlp-onnx:predict");
  expect_error(R"({"instances":[[1,2]]})", 404, "", kJson, "/v1/models/mlp-onnx:explain");
  expect_error(R"({"instances":[[1,2]]})", 400, "name the model", kJson, "/predict");
  expect_error(R"({"model":"mlp-onnx"})", 400, "'instances'", kJson, "/predict");
  // Deep nesting is refused before anything recurses on it (it used to overflow the stack).
  const std::string deep(1 << 20, '[');
  expect_error(deep, 400, "JSON nests deeper than 64 levels");
  expect_error(deep, 400, "JSON nests deeper than 64 levels", kJson, "/v1/models/mlp-onnx:predict");
  expect_error(deep, 400, "JSON nests deeper than 64 levels", kJson, "/api/v1/models");
  // A body over the configured limit is refused before it is read.
  expect_error(std::string(65 << 20, ' '), 413, "");
  // The server is still fine.
  EXPECT_EQ(client_->Get("/v2/models/mlp-onnx/ready")->status, 200);
}

// A TorchScript file does not say its inputs and outputs: a version pushed without them in its
// metadata could never load, so the push is refused, saying what to add.
TEST_F(ServingEndToEndTest, ATorchScriptVersionWithoutItsSignatureIsRefusedAtPush) {
  StartServer("serving_torchscript_signature");
  auto fixture = testing::LoadFixture("mlp-torchscript");
  ASSERT_TRUE(fixture.ok());
  testing::ModelFixture undeclared = *fixture;
  undeclared.metadata_json = R"({"owner":"research"})";
  absl::Status pushed = testing::Push(*client_, undeclared, "mlp", "1.0.0");
  EXPECT_THAT(std::string(pushed.message()), HasSubstr("register: 400"));
  EXPECT_THAT(std::string(pushed.message()), HasSubstr("declare them in the version metadata"));
  EXPECT_EQ(client_->Get("/api/v1/models/mlp/versions/1.0.0")->status, 404) << "nothing registered";
  ASSERT_TRUE(testing::Push(*client_, *fixture, "mlp", "1.0.0").ok());
  // Nor can its metadata be replaced by one without them.
  auto edit = client_->Send(http::HttpMethod::kPatch, "/api/v1/models/mlp/versions/1.0.0", R"({"metadata":{}})", kJson);
  EXPECT_EQ(edit->status, 400) << edit->body;
  EXPECT_THAT(edit->body, HasSubstr("declare them in the version metadata"));
  edit = client_->Send(http::HttpMethod::kPatch, "/api/v1/models/mlp/versions/1.0.0",
                       absl::StrCat(R"({"metadata":)", fixture->metadata_json, "}"), kJson);
  EXPECT_EQ(edit->status, 200) << edit->body;
}

TEST_F(ServingEndToEndTest, CorruptModelFilesFailAloneWithAClearError) {
  StartServer("serving_corrupt_models");
  PushFixture("classifier-xgboost-json");
  const std::string garbage_path = dir_ + "/garbage.bin";
  {
    std::ofstream out(garbage_path, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 7919) & 0xff));
  }
  for (const auto& [framework, expected] : std::vector<std::pair<std::string, std::string>>{
           {"onnx", "ONNX"}, {"torchscript", "TorchScript"}, {"xgboost", "XGBoost"}}) {
    testing::ModelFixture corrupt{.name = "corrupt-" + framework, .framework = framework,
                                  .artifact_path = garbage_path, .metadata_json = "{}"};
    if (framework == "torchscript") {
      corrupt.metadata_json =
          R"({"inputs":[{"name":"x","datatype":"FP32","shape":[-1]}],"outputs":[{"name":"y","datatype":"FP32","shape":[-1]}]})";
    }
    absl::Status pushed = testing::PushAndLoad(*client_, corrupt, corrupt.name);
    EXPECT_THAT(std::string(pushed.message()), HasSubstr("load: 400")) << framework;
    EXPECT_THAT(std::string(pushed.message()), HasSubstr(expected)) << framework;
    auto index = Post("/v2/repository/index", "");
    EXPECT_THAT(index.body, HasSubstr(absl::StrCat(R"({"name":"corrupt-)", framework, R"(","version":"1.0.0","state":"UNAVAILABLE","reason":")")));
    auto ready = client_->Get(absl::StrCat("/v2/models/corrupt-", framework, "/ready"));
    EXPECT_EQ(ready->status, 503);
    // Inference on a version that is not ready: 503 with the reason and when to retry.
    auto infer = Post(absl::StrCat("/v2/models/corrupt-", framework, "/versions/1.0.0/infer"),
                      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]})");
    EXPECT_EQ(infer.status, 503) << infer.body;
    EXPECT_THAT(infer.body, HasSubstr("UNAVAILABLE"));
    EXPECT_TRUE(infer.Header("Retry-After").has_value());
  }
  // The good model still answers.
  auto fixture = testing::LoadFixture("classifier-xgboost-json");
  auto ok = Post("/v2/models/classifier-xgboost-json/infer", absl::StrCat(R"({"inputs":)", fixture->inputs_json, "}"));
  EXPECT_EQ(ok.status, 200) << ok.body;
}

// Loading on first request: a version that cannot load answers why, is not loaded again by every
// request, and does not keep the model's next version from being served.
TEST_F(ServingEndToEndTest, AVersionThatCannotLoadDoesNotHideTheNextOne) {
  StartServer("serving_broken_then_fixed");
  const std::string garbage_path = dir_ + "/garbage.bin";
  {
    std::ofstream out(garbage_path, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 7919) & 0xff));
  }
  auto fixture = testing::LoadFixture("classifier-xgboost-json");
  ASSERT_TRUE(fixture.ok());
  testing::ModelFixture corrupt = *fixture;
  corrupt.artifact_path = garbage_path;
  ASSERT_TRUE(testing::Push(*client_, corrupt, "clf", "1.0.0").ok());
  const std::string body = absl::StrCat(R"({"inputs":)", fixture->inputs_json, "}");
  for (int i = 0; i < 3; ++i) {
    auto broken = Post("/v2/models/clf/infer", body);
    EXPECT_EQ(broken.status, 503) << broken.body;  // the server's problem, not the request's
    EXPECT_THAT(broken.body, HasSubstr("XGBoost")) << "says why";
  }
  EXPECT_THAT(server_->child().Stderr(), HasSubstr("model version failed to load"));
  const std::string log = server_->child().Stderr();
  size_t failures = 0;
  for (size_t at = log.find("model version failed to load"); at != std::string::npos;
       at = log.find("model version failed to load", at + 1)) {
    ++failures;
  }
  EXPECT_EQ(failures, 1u) << "loaded once, not once per request";
  auto ready = client_->Get("/v2/models/clf/ready");
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(ready->body, R"({"ready":false})");
  auto v1_status = client_->Get("/v1/models/clf");
  EXPECT_EQ(v1_status->body, R"({"name":"clf","ready":false})");

  ASSERT_TRUE(testing::Push(*client_, *fixture, "clf", "1.0.1").ok());
  auto answered = Post("/v2/models/clf/infer", body);
  EXPECT_EQ(answered.status, 200) << answered.body;
  EXPECT_THAT(answered.body, HasSubstr(R"("model_version":"1.0.1")"));

  // Requests without a version move to a version pushed later, which loads while 1.0.1 answers;
  // a later version that cannot load leaves them where they are.
  ASSERT_TRUE(testing::Push(*client_, *fixture, "clf", "1.0.2").ok());
  bool moved = false;
  for (int i = 0; i < 200 && !moved; ++i) {
    answered = Post("/v2/models/clf/infer", body);
    ASSERT_EQ(answered.status, 200) << answered.body;
    moved = answered.body.find(R"("model_version":"1.0.2")") != std::string::npos;
    if (!moved) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(moved);
  ASSERT_TRUE(testing::Push(*client_, corrupt, "clf", "1.0.3").ok());
  // Until its load has failed (in the background: how long that takes depends on the machine),
  // and after.
  const std::string failed = R"({"name":"clf","version":"1.0.3","state":"UNAVAILABLE","reason":)";
  int answered_after_failure = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (answered_after_failure < 5 && absl::Now() < give_up) {
    answered = Post("/v2/models/clf/infer", body);
    ASSERT_EQ(answered.status, 200) << answered.body;
    EXPECT_THAT(answered.body, HasSubstr(R"("model_version":"1.0.2")"));
    if (Post("/v2/repository/index", "").body.find(failed) != std::string::npos) ++answered_after_failure;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(answered_after_failure, 5) << "1.0.3 was never marked UNAVAILABLE";
}

TEST_F(ServingEndToEndTest, ConcurrentRequestsAreBatchedAndAnswerIndividually) {
  StartServer("serving_batching");
  auto fixture = testing::LoadFixture("mlp-onnx");
  ASSERT_TRUE(fixture.ok());
  fixture->metadata_json = R"({"batching":{"maxBatchSize":16,"maxQueueDelay":"20ms","instances":1}})";
  ASSERT_TRUE(testing::PushAndLoad(*client_, *fixture, "batched-mlp").ok());

  // 8 clients x 10 requests, each one row of the reference input; every answer must be its row.
  const serving::Tensor& input = fixture->inputs[0];
  const serving::Tensor& expected = fixture->outputs[0];
  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      auto client = *http::HttpClient::Create(server_->url());
      for (int i = 0; i < 10; ++i) {
        const int64_t row = (c + i) % 3;
        const size_t row_bytes = 784 * 4;
        std::string json = R"({"inputs":[{"name":"input__0","datatype":"FP32","shape":[1,784],"parameters":{"binary_data_size":3136}}]})";
        std::string body = json + std::string(input.bytes().substr(row * row_bytes, row_bytes));
        auto response = client->Send(http::HttpMethod::kPost, "/v2/models/batched-mlp/infer", body,
                                     {{"Inference-Header-Content-Length", std::to_string(json.size())}});
        if (!response.ok() || response->status != 200) {
          ++failures;
          continue;
        }
        auto outputs = testing::ParseJsonOutputs(response->body);
        if (!outputs.ok()) {
          ++failures;
          continue;
        }
        for (int k = 0; k < 10; ++k) {
          const float want = expected.At<float>(row * 10 + k);
          if (std::abs((*outputs)[0].At<float>(k) - want) > 1e-5f * std::max(1.0f, std::abs(want))) ++mismatches;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
  auto metrics = client_->Get("/metrics")->body;
  const double inferences = MetricValue(metrics, R"(inference_count_total{model="batched-mlp",version="1.0.0"})");
  const double executions =
      MetricValue(metrics, R"(inference_exec_count_total{model="batched-mlp",version="1.0.0"})");
  EXPECT_EQ(inferences, 80);
  EXPECT_LT(executions, 80) << "no request was batched";
  EXPECT_THAT(metrics, HasSubstr(R"(inference_batch_size_bucket{model="batched-mlp",version="1.0.0",le="16"})"));
}

TEST_F(ServingEndToEndTest, AQueuedRequestWhoseClientLeftIsNotExecuted) {
  StartServer("serving_client_gone");
  auto fixture = testing::LoadFixture("mlp-onnx");
  ASSERT_TRUE(fixture.ok());
  // A lone request waits a whole second for a batch to fill.
  fixture->metadata_json = R"({"batching":{"maxBatchSize":16,"maxQueueDelay":"1s","instances":1}})";
  ASSERT_TRUE(testing::PushAndLoad(*client_, *fixture, "patient-mlp").ok());
  const std::string body = absl::StrCat(R"({"inputs":)", fixture->inputs_json, "}");
  {
    testing::RawConnection conn(server_->port());
    ASSERT_TRUE(conn.Send(absl::StrCat("POST /v2/models/patient-mlp/infer HTTP/1.1\r\nHost: x\r\n"
                                       "Content-Type: application/json\r\nContent-Length: ",
                                       body.size(), "\r\n\r\n", body)));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // queued, waiting for its batch
  }  // the client hangs up
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the batch delay
  auto exec_count = [&] {  // the series appears with the first execution
    return std::max(0.0, MetricValue(client_->Get("/metrics")->body,
                                              R"(inference_exec_count_total{model="patient-mlp",version="1.0.0"})"));
  };
  EXPECT_EQ(exec_count(), 0) << "the abandoned request ran";
  // A client that waits still gets its answer.
  auto answered = Post("/v2/models/patient-mlp/infer", body);
  EXPECT_EQ(answered.status, 200) << answered.body;
  EXPECT_EQ(exec_count(), 1);
}

TEST_F(ServingEndToEndTest, ARegisteredModelLoadsOnItsFirstRequest) {
  StartServer("serving_lazy_load");
  const ModelFixture fixture = PushFixture("classifier-xgboost-json");
  ASSERT_EQ(Post("/v2/repository/models/classifier-xgboost-json/unload", "").status, 200);
  EXPECT_THAT(Post("/v2/repository/index", "").body, HasSubstr(R"("state":"UNAVAILABLE","reason":"not loaded")"));
  // Several requests arrive while it loads: one load, every request answered.
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      auto client = *http::HttpClient::Create(server_->url());
      auto response = client->Send(http::HttpMethod::kPost, "/v2/models/classifier-xgboost-json/infer",
                                   absl::StrCat(R"({"inputs":)", fixture.inputs_json, "}"), kJson);
      if (response.ok() && response->status == 200) ++ok;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 4);
  auto metrics = client_->Get("/metrics")->body;
  EXPECT_THAT(metrics, HasSubstr(R"(inference_cold_start_seconds_count{model="classifier-xgboost-json"} 4)"));
  EXPECT_THAT(metrics, HasSubstr(R"(model_memory_bytes{model="classifier-xgboost-json",version="1.0.0"})"));
  // The wait for the load is the cold start's, not time in the version's queue.
  const double cold_start = MetricValue(metrics, R"(inference_cold_start_seconds_sum{model="classifier-xgboost-json"})");
  const double queued =
      MetricValue(metrics, R"(inference_queue_duration_seconds_sum{model="classifier-xgboost-json",version="1.0.0"})");
  EXPECT_LT(queued, cold_start / 2) << "queued " << queued << " s of a cold start of " << cold_start << " s";
  // A model nobody registered is still a plain 404.
  auto unknown = Post("/v2/models/never-registered/infer", absl::StrCat(R"({"inputs":)", fixture.inputs_json, "}"));
  EXPECT_EQ(unknown.status, 404) << unknown.body;
}

// A 404 is remembered briefly (a client repeating a wrong name must not cost a registry query per
// request), but not past a push: the model answers the request right after it.
TEST_F(ServingEndToEndTest, AModelPushedRightAfterA404AnswersAtOnce) {
  StartServer("serving_push_after_404");
  auto fixture = testing::LoadFixture("classifier-xgboost-json");
  ASSERT_TRUE(fixture.ok());
  const std::string body = absl::StrCat(R"({"inputs":)", fixture->inputs_json, "}");
  for (int i = 0; i < 3; ++i) {
    auto missing = Post("/v2/models/late/infer", body);
    EXPECT_EQ(missing.status, 404) << missing.body;
    EXPECT_THAT(missing.body, HasSubstr("late"));
  }
  EXPECT_EQ(Post("/v2/models/late/versions/production/infer", body).status, 404);
  ASSERT_TRUE(testing::Push(*client_, *fixture, "late", "1.0.0").ok());
  auto answered = Post("/v2/models/late/infer", body);
  EXPECT_EQ(answered.status, 200) << answered.body;
  ASSERT_EQ(client_->Send(http::HttpMethod::kPut, "/api/v1/models/late/aliases/production", R"({"version":"1.0.0"})",
                          kJson)->status, 200);
  answered = Post("/v2/models/late/versions/production/infer", body);
  EXPECT_EQ(answered.status, 200) << answered.body;
}

// Metadata and KServe V1 requests need the version's signature: like inference, they load a
// registered version that is not loaded.
TEST_F(ServingEndToEndTest, ARegisteredModelLoadsForItsMetadataAndForInstances) {
  StartServer("serving_lazy_metadata");
  PushFixture("classifier-xgboost-json");
  const std::string unload = "/v2/repository/models/classifier-xgboost-json/unload";
  const std::string row = "[0.5,1.2,-0.3,0.8,0.1,-1.1,0.4,2.0]";

  ASSERT_EQ(Post(unload, "").status, 200);
  auto metadata = client_->Get("/v2/models/classifier-xgboost-json");
  ASSERT_EQ(metadata->status, 200) << metadata->body;
  EXPECT_THAT(metadata->body, HasSubstr(R"("inputs":[{"name":"input__0","datatype":"FP32","shape":[-1,8]}])"));
  EXPECT_EQ(client_->Get("/v2/models/classifier-xgboost-json/ready")->status, 200);

  ASSERT_EQ(Post(unload, "").status, 200);
  auto predicted = Post("/predict", absl::StrCat(R"({"model":"classifier-xgboost-json","instances":[)", row, "]}"));
  EXPECT_EQ(predicted.status, 200) << predicted.body;
  EXPECT_THAT(predicted.body, HasSubstr(R"("predictions":[[)"));

  ASSERT_EQ(Post(unload, "").status, 200);
  auto v1 = Post("/v1/models/classifier-xgboost-json:predict", absl::StrCat(R"({"instances":[)", row, "]}"));
  EXPECT_EQ(v1.status, 200) << v1.body;

  // Readiness too: clients ask it before their first request.
  ASSERT_EQ(Post(unload, "").status, 200);
  auto ready = client_->Get("/v2/models/classifier-xgboost-json/ready");
  EXPECT_EQ(ready->status, 200) << ready->body;
  ASSERT_EQ(Post(unload, "").status, 200);
  auto v1_status = client_->Get("/v1/models/classifier-xgboost-json");
  EXPECT_EQ(v1_status->status, 200);
  EXPECT_EQ(v1_status->body, R"({"name":"classifier-xgboost-json","ready":true})");
  EXPECT_EQ(client_->Get("/v2/models/never-registered/ready")->status, 404);
  EXPECT_EQ(client_->Get("/v1/models/never-registered")->status, 404);

  // Names nobody registered are still plain 404s, saying what is missing.
  auto unknown = client_->Get("/v2/models/never-registered");
  EXPECT_EQ(unknown->status, 404);
  EXPECT_THAT(unknown->body, HasSubstr("never-registered"));
  EXPECT_EQ(client_->Get("/v2/models/classifier-xgboost-json/versions/9.9.9")->status, 404);
  EXPECT_EQ(Post("/predict", absl::StrCat(R"({"model":"never-registered","instances":[)", row, "]}")).status, 404);
  // A version that is not a string is refused, not taken for "the latest".
  auto numeric = Post("/predict", absl::StrCat(R"({"model":"classifier-xgboost-json","version":1,"instances":[)", row, "]}"));
  EXPECT_EQ(numeric.status, 400);
  EXPECT_THAT(numeric.body, HasSubstr("'version' must be a string"));
}

// Without loading on first request, versions are loaded explicitly, and a request for an alias
// reaches the loaded version it names (looked up on the control threads), and follows its moves.
TEST_F(ServingEndToEndTest, WithoutLazyLoadingAnAliasReachesTheLoadedVersionItNames) {
  dir_ = testing::FreshTestDir("serving_alias_eager");
  server_ = std::make_unique<TestServer>(dir_, dir_ + "/data", std::vector<std::string>{"--lazy-load=false"});
  ASSERT_NE(server_->WaitUntilStarted(), 0) << server_->child().Stderr();
  client_ = *http::HttpClient::Create(server_->url());
  auto fixture = testing::LoadFixture("classifier-xgboost-json");
  ASSERT_TRUE(fixture.ok());
  ASSERT_TRUE(testing::Push(*client_, *fixture, "clf", "1.0.0").ok());
  ASSERT_TRUE(testing::Push(*client_, *fixture, "clf", "1.1.0").ok());
  const std::string body = absl::StrCat(R"({"inputs":)", fixture->inputs_json, "}");
  EXPECT_EQ(Post("/v2/models/clf/infer", body).status, 404);  // nothing loads by itself
  ASSERT_EQ(Post("/v2/repository/models/clf/load", R"({"parameters":{"version_policy":{"all":{}}}})").status, 200);
  for (const char* version : {"1.0.0", "1.1.0"}) {
    ASSERT_EQ(client_->Send(http::HttpMethod::kPut, "/api/v1/models/clf/aliases/production",
                            absl::StrCat(R"({"version":")", version, R"("})"), kJson)
                  ->status,
              200);
    auto answered = Post("/v2/models/clf/versions/production/infer", body);
    ASSERT_EQ(answered.status, 200) << answered.body;
    EXPECT_THAT(answered.body, HasSubstr(absl::StrCat(R"("model_version":")", version, R"(")")));
  }
  EXPECT_EQ(Post("/v2/models/clf/versions/staging/infer", body).status, 404);
}

// A request may name an alias (or "latest") as its version: it reaches the version the alias
// names now, loaded once under that version, and follows the alias when it moves.
TEST_F(ServingEndToEndTest, ARequestForAnAliasReachesTheVersionItNamesNow) {
  StartServer("serving_alias_requests");
  auto fixture = testing::LoadFixture("classifier-xgboost-json");
  ASSERT_TRUE(fixture.ok());
  ASSERT_TRUE(testing::Push(*client_, *fixture, "clf", "1.0.0").ok());
  ASSERT_TRUE(testing::Push(*client_, *fixture, "clf", "1.1.0").ok());
  auto put_alias = [&](const std::string& version) {
    auto response = client_->Send(http::HttpMethod::kPut, "/api/v1/models/clf/aliases/production",
                                  absl::StrCat(R"({"version":")", version, R"("})"), kJson);
    return response.ok() ? response->status : 0;
  };
  ASSERT_EQ(put_alias("1.0.0"), 200);
  const std::string body = absl::StrCat(R"({"inputs":)", fixture->inputs_json, "}");
  auto answered = Post("/v2/models/clf/versions/production/infer", body);
  ASSERT_EQ(answered.status, 200) << answered.body;
  EXPECT_THAT(answered.body, HasSubstr(R"("model_version":"1.0.0")"));
  EXPECT_THAT(Post("/v2/models/clf/versions/latest/infer", body).body, HasSubstr(R"("model_version":"1.1.0")"));

  // A move through this server's registry reaches the very next request (the registry tells the
  // serving side; other servers on the same store follow within a second).
  ASSERT_EQ(put_alias("1.1.0"), 200);
  answered = Post("/v2/models/clf/versions/production/infer", body);
  ASSERT_EQ(answered.status, 200) << answered.body;
  EXPECT_THAT(answered.body, HasSubstr(R"("model_version":"1.1.0")"));
  // So does a rollback, and a deleted alias.
  auto rolled_back = Post("/api/v1/models/clf/aliases/production/rollback", "{}");
  ASSERT_EQ(rolled_back.status, 200) << rolled_back.body;
  EXPECT_THAT(Post("/v2/models/clf/versions/production/infer", body).body, HasSubstr(R"("model_version":"1.0.0")"));
  ASSERT_EQ(client_->Send(http::HttpMethod::kDelete, "/api/v1/models/clf/aliases/production", "", {})->status, 204);
  EXPECT_EQ(Post("/v2/models/clf/versions/production/infer", body).status, 404);

  // Versions are loaded under their own names only; references that name nothing leave no trace.
  EXPECT_EQ(Post("/v2/models/clf/versions/1.0/infer", body).status, 400);
  EXPECT_EQ(Post("/v2/models/clf/versions/staging/infer", body).status, 404);
  EXPECT_EQ(Post("/v2/repository/index", "").body,
            R"([{"name":"clf","version":"1.0.0","state":"READY"},{"name":"clf","version":"1.1.0","state":"READY"}])");
}

// Repeats of one request: the first executes, then (once its answer is stored: a remote cache
// stores off the request's path) repeats are answered from the cache, each counted as a hit and
// as an answered request, none executed.
void ExpectCacheServesRepeats(http::HttpClient& client, const ModelFixture& fixture, const std::string& model) {
  const std::string body = absl::StrCat(R"({"inputs":)", fixture.inputs_json, "}");
  const std::string labels = absl::StrCat(R"({model=")", model, R"(",result=")");
  const std::string hits = absl::StrCat("response_cache_requests_total", labels, R"(hit",version="1.0.0"})");
  const std::string misses = absl::StrCat("response_cache_requests_total", labels, R"(miss",version="1.0.0"})");
  int sent = 0;
  auto send = [&] {
    ++sent;
    auto response = client.Send(http::HttpMethod::kPost, absl::StrCat("/v2/models/", model, "/infer"), body, kJson);
    ASSERT_EQ(response->status, 200) << response->body;
    auto outputs = testing::ParseJsonOutputs(response->body);
    ASSERT_TRUE(outputs.ok());
    EXPECT_EQ(testing::CompareTensors(fixture.outputs[0], (*outputs)[0]), "");
  };
  send();
  EXPECT_EQ(MetricValue(client.Get("/metrics")->body, misses), 1);
  auto hit_yet = [&] { return MetricValue(client.Get("/metrics")->body, hits) >= 1; };  // -1: no such series
  for (int i = 0; i < 100 && !hit_yet(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(i == 0 ? 0 : 10));
    send();
  }
  send();
  send();
  const std::string metrics = client.Get("/metrics")->body;
  const double missed = MetricValue(metrics, misses);
  EXPECT_LE(missed, 3) << "the answer took too long to be stored";
  EXPECT_GE(MetricValue(metrics, hits), 3);
  EXPECT_EQ(MetricValue(metrics, hits) + missed, sent);
  // Answers from the cache are answers: successes, timed from arrival; only misses executed.
  const std::string series = absl::StrCat(R"({model=")", model, R"(",version="1.0.0"})");
  EXPECT_EQ(MetricValue(metrics, absl::StrCat("inference_requests_total{model=\"", model,
                                              R"(",outcome="success",version="1.0.0"})")),
            sent);
  EXPECT_EQ(MetricValue(metrics, absl::StrCat("inference_duration_seconds_count", series)), sent);
  EXPECT_EQ(MetricValue(metrics, absl::StrCat("inference_exec_count_total", series)), missed);

  // A repeat whose priority or timeout is invalid is refused as it would be without the cache
  // (neither is part of the key).
  for (const char* parameters : {R"({"priority":99})", R"({"timeout":"soon"})"}) {
    const std::string bad = absl::StrCat(R"({"inputs":)", fixture.inputs_json, R"(,"parameters":)", parameters, "}");
    auto response = client.Send(http::HttpMethod::kPost, absl::StrCat("/v2/models/", model, "/infer"), bad, kJson);
    EXPECT_EQ(response->status, 400) << parameters << ": " << response->body;
  }
}

TEST_F(ServingEndToEndTest, TheLocalResponseCacheAnswersRepeats) {
  StartServer("serving_local_cache");
  auto fixture = testing::LoadFixture("classifier-xgboost-json");
  fixture->metadata_json = R"({"responseCache":{"enabled":true,"ttl":"60s"}})";
  ASSERT_TRUE(testing::PushAndLoad(*client_, *fixture, "cached").ok());
  ExpectCacheServesRepeats(*client_, *fixture, "cached");
}

TEST_F(ServingEndToEndTest, TheRedisResponseCacheDegradesWhenRedisGoesAway) {
  auto redis = testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  dir_ = testing::FreshTestDir("serving_redis_cache");
  server_ = std::make_unique<TestServer>(
      dir_, dir_ + "/data",
      std::vector<std::string>{"--cache-redis-url", absl::StrCat("redis://127.0.0.1:", (*redis)->port())});
  ASSERT_NE(server_->WaitUntilStarted(), 0) << server_->child().Stderr();
  client_ = *http::HttpClient::Create(server_->url());
  auto fixture = testing::LoadFixture("classifier-xgboost-json");
  fixture->metadata_json = R"({"responseCache":{"enabled":true,"ttl":"60s"}})";
  ASSERT_TRUE(testing::PushAndLoad(*client_, *fixture, "cached").ok());
  ExpectCacheServesRepeats(*client_, *fixture, "cached");
  EXPECT_THAT(client_->Get("/health")->body, HasSubstr(R"("responseCache":{"ready":true,"required":false})"));

  (*redis)->Stop();  // Redis goes away: answers keep coming, computed
  const std::string body = absl::StrCat(R"({"inputs":)", fixture->inputs_json, "}");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Post("/v2/models/cached/infer", body).status, 200);
  EXPECT_GE(MetricValue(client_->Get("/metrics")->body, R"(response_cache_errors_total{backend="redis"})"), 1);
  EXPECT_THAT(server_->child().Stderr(), HasSubstr("Redis is unavailable; going on without it"));
  // /health says so, and the server stays ready: requests are answered without the cache.
  EXPECT_THAT(client_->Get("/health")->body,
              HasSubstr(absl::StrCat(R"("responseCache":{"ready":false,"required":false,"reason":"Redis at 127.0.0.1:)",
                                     (*redis)->port(), " is unavailable (")));
  EXPECT_EQ(client_->Get("/health/ready")->status, 200);
}

TEST_F(ServingEndToEndTest, StartupModelsLoadBeforeTheServerIsReady) {
  dir_ = testing::FreshTestDir("serving_startup_models");
  {
    server_ = std::make_unique<TestServer>(dir_, dir_ + "/data");
    ASSERT_NE(server_->WaitUntilStarted(), 0);
    client_ = *http::HttpClient::Create(server_->url());
    PushFixture("mlp-torchscript");
    server_.reset();
  }
  server_ = std::make_unique<TestServer>(dir_, dir_ + "/data", std::vector<std::string>{"--load-models", "mlp-torchscript"});
  ASSERT_NE(server_->WaitUntilStarted(), 0);
  client_ = *http::HttpClient::Create(server_->url());
  for (int i = 0; i < 200 && client_->Get("/health/ready")->status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(client_->Get("/v2/models/mlp-torchscript/ready")->status, 200);
}

}  // namespace
}  // namespace meridian
