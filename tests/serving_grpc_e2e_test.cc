// End-to-end over gRPC: a client generated from api/grpc_predict_v2.proto talks to the real
// server; every fixture answers what its framework computed, with raw and typed contents.

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "api/grpc_predict_v2.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_client.h"
#include "protocol/grpc_compression.h"
#include "rapidjson/document.h"
#include "tests/raw_http2_client.h"
#include "tests/serving_fixtures.h"
#include "tests/test_server.h"
#include "testing/raw_connection.h"

namespace meridian {
namespace {

using ::testing::HasSubstr;

class GrpcEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = testing::FreshTestDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    server_ = std::make_unique<testing::TestServer>(dir, dir + "/data");
    ASSERT_NE(server_->WaitUntilStarted(), 0) << server_->child().Stderr();
    client_ = *http::HttpClient::Create(server_->url());
    stub_ = inference::GRPCInferenceService::NewStub(
        grpc::CreateChannel(server_->grpc_target(), grpc::InsecureChannelCredentials()));
  }

  testing::ModelFixture Push(const std::string& name) {
    auto fixture = testing::LoadFixture(name);
    EXPECT_TRUE(fixture.ok()) << fixture.status();
    absl::Status pushed = testing::PushAndLoad(*client_, *fixture, name);
    EXPECT_TRUE(pushed.ok()) << pushed;
    return *fixture;
  }

  inference::ModelInferRequest RawRequest(const testing::ModelFixture& fixture) {
    inference::ModelInferRequest request;
    request.set_model_name(fixture.name);
    request.set_id("grpc-1");
    for (const serving::Tensor& t : fixture.inputs) {
      auto* input = request.add_inputs();
      input->set_name(t.name());
      input->set_datatype(std::string(serving::DataTypeName(t.type())));
      for (int64_t dim : t.shape()) input->add_shape(dim);
      request.add_raw_input_contents(std::string(t.bytes()));
    }
    return request;
  }

  // "patient-mlp": the ONNX MLP waiting up to a second for a batch of 16 to fill, on one
  // instance; returns a request for it.
  inference::ModelInferRequest PushPatientModel() {
    auto fixture = testing::LoadFixture("mlp-onnx");
    EXPECT_TRUE(fixture.ok()) << fixture.status();
    fixture->metadata_json = R"({"batching":{"maxBatchSize":16,"maxQueueDelay":"1s","instances":1}})";
    EXPECT_TRUE(testing::PushAndLoad(*client_, *fixture, "patient-mlp").ok());
    inference::ModelInferRequest request = RawRequest(*fixture);
    request.set_model_name("patient-mlp");
    return request;
  }

  // ModelReady's status, and in `ready` its answer.
  grpc::Status ModelReady(const std::string& name, const std::string& version, bool* ready) {
    grpc::ClientContext context;
    inference::ModelReadyRequest request;
    request.set_name(name);
    request.set_version(version);
    inference::ModelReadyResponse response;
    grpc::Status status = stub_->ModelReady(&context, request, &response);
    *ready = response.ready();
    return status;
  }

  std::unique_ptr<testing::TestServer> server_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

// A shadow deployment gets a copy of each request, which views the request message's bytes and may
// still be queued when the call already has its answer: the copy holds those bytes itself (under
// ASan, a read of freed bytes ends the server here).
TEST_F(GrpcEndToEndTest, AShadowDeploymentComparesWholeCopiesOfGrpcRequests) {
  auto torchscript = testing::LoadFixture("mlp-torchscript");
  auto onnx = testing::LoadFixture("mlp-onnx");
  ASSERT_TRUE(torchscript.ok() && onnx.ok());
  // The shadow holds each copy for a batch, long after the primary has answered.
  onnx->metadata_json = R"({"batching":{"maxBatchSize":32,"maxQueueDelay":"300ms","instances":1}})";
  ASSERT_TRUE(testing::Push(*client_, *torchscript, "mlp", "1.0.0").ok());
  ASSERT_TRUE(testing::Push(*client_, *onnx, "mlp", "1.1.0").ok());
  auto applied = client_->Send(http::HttpMethod::kPut, "/api/v1/namespaces/default/deployments/mlp",
                               "apiVersion: meridian.ai/v1\nkind: ModelDeployment\n"
                               "metadata: {name: mlp, namespace: default}\n"
                               "spec:\n  model: mlp\n  version: 1.0.0\n  shadow: {version: 1.1.0, percent: 100}\n",
                               {{"Content-Type", "application/yaml"}});
  ASSERT_TRUE(applied.ok() && applied->status < 300) << (applied.ok() ? applied->body : applied.status().ToString());
  bool shadow_ready = false;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(30); !shadow_ready && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(100));
    auto got = client_->Send(http::HttpMethod::kGet, "/api/v1/namespaces/default/deployments/mlp");
    rapidjson::Document d;
    if (!got.ok() || d.Parse(got->body.c_str()).HasParseError() || !d.IsObject() || !d.HasMember("status")) continue;
    const rapidjson::Value& status = d["status"];
    shadow_ready = status.IsObject() && status.HasMember("shadow") && status["shadow"].HasMember("replicas") &&
                   status["shadow"]["replicas"].GetInt() == 1;
  }
  ASSERT_TRUE(shadow_ready);

  inference::ModelInferRequest request = RawRequest(*torchscript);
  request.set_model_name("mlp");
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    grpc::Status status = stub_->ModelInfer(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.model_version(), "1.0.0");
  }
  // TorchScript and ONNX exports of one model agree, on whole copies of the requests.
  const std::string same = R"(deployment_shadow_requests_total{deployment="mlp",result="same",version="1.1.0"})";
  double compared = 0;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10); compared < 20 && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(50));
    auto metrics = client_->Send(http::HttpMethod::kGet, "/metrics");
    if (metrics.ok()) compared = testing::MetricValue(metrics->body, same);
  }
  EXPECT_EQ(compared, 20);
  EXPECT_FALSE(server_->exited());
}

std::vector<serving::Tensor> Outputs(const inference::ModelInferResponse& response) {
  std::vector<serving::Tensor> outputs;
  for (int i = 0; i < response.outputs_size(); ++i) {
    const auto& o = response.outputs(i);
    outputs.push_back(serving::Tensor::Owned(o.name(), *serving::ParseDataType(o.datatype()),
                                             serving::Shape(o.shape().begin(), o.shape().end()),
                                             response.raw_output_contents(i)));
  }
  return outputs;
}

void ExpectMatches(const testing::ModelFixture& fixture, const inference::ModelInferResponse& response) {
  std::vector<serving::Tensor> outputs = Outputs(response);
  ASSERT_EQ(outputs.size(), fixture.outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_EQ(testing::CompareTensors(fixture.outputs[i], outputs[i]), "") << fixture.name;
  }
}

TEST_F(GrpcEndToEndTest, EveryFixtureAnswersLikeItsFramework) {
  for (const std::string& name : testing::AllFixtureNames()) {
    SCOPED_TRACE(name);
    const testing::ModelFixture fixture = Push(name);
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    grpc::Status status = stub_->ModelInfer(&context, RawRequest(fixture), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.model_name(), name);
    EXPECT_EQ(response.model_version(), "1.0.0");
    EXPECT_EQ(response.id(), "grpc-1");
    ExpectMatches(fixture, response);

    // The same with typed contents (all fixtures take FP32).
    inference::ModelInferRequest typed = RawRequest(fixture);
    typed.clear_raw_input_contents();
    for (int i = 0; i < typed.inputs_size(); ++i) {
      const serving::Tensor& t = fixture.inputs[i];
      ASSERT_EQ(t.type(), serving::DataType::kFp32);
      for (size_t e = 0; e < t.byte_size() / 4; ++e) {
        typed.mutable_inputs(i)->mutable_contents()->add_fp32_contents(t.At<float>(static_cast<int64_t>(e)));
      }
    }
    grpc::ClientContext typed_context;
    inference::ModelInferResponse typed_response;
    ASSERT_TRUE(stub_->ModelInfer(&typed_context, typed, &typed_response).ok());
    ExpectMatches(fixture, typed_response);
  }
}

// An idle connection is closed by the server (--grpc-idle-timeout); gRPC's client opens a new one
// for its next call, unnoticed by the caller.
TEST(GrpcIdleTimeoutTest, AClientsNextCallAfterTheIdleTimeoutIsAnswered) {
  const std::string dir = testing::FreshTestDir("grpc_idle_timeout");
  testing::TestServer server(dir, dir + "/data", {"--grpc-idle-timeout", "200ms"});
  ASSERT_NE(server.WaitUntilStarted(), 0) << server.child().Stderr();
  auto channel = grpc::CreateChannel(server.grpc_target(), grpc::InsecureChannelCredentials());
  auto stub = inference::GRPCInferenceService::NewStub(channel);
  for (int call = 0; call < 3; ++call) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    inference::ServerLiveResponse live;
    const grpc::Status status = stub->ServerLive(&context, {}, &live);
    ASSERT_TRUE(status.ok()) << "call " << call << ": " << status.error_message();
    EXPECT_TRUE(live.live());
    std::this_thread::sleep_for(std::chrono::milliseconds(600));  // three idle timeouts
  }
}

TEST(GrpcConnectionLimitTest, AClientPastTheLimitGetsUnavailableAndIsAnsweredOnceThereIsRoom) {
  const std::string dir = testing::FreshTestDir("grpc_connection_limit");
  testing::TestServer server(dir, dir + "/data", {"--max-connections", "1"});
  const uint16_t port = server.WaitUntilStarted();
  ASSERT_NE(port, 0) << server.child().Stderr();
  // Another client holds the one place: a keep-alive HTTP connection, answered once.
  auto held = std::make_unique<testing::RawConnection>(port);
  ASSERT_TRUE(held->Send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_THAT(held->ReadUntil("\r\n\r\n"), HasSubstr("200 OK"));

  auto stub = inference::GRPCInferenceService::NewStub(
      grpc::CreateChannel(server.grpc_target(), grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    inference::ServerLiveResponse live;
    const grpc::Status refused = stub->ServerLive(&context, {}, &live);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  }

  held.reset();  // the place is free again
  // The channel reconnects after its backoff (a second); a call that waits for it is answered.
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  inference::ServerLiveResponse live;
  const grpc::Status answered = stub->ServerLive(&context, {}, &live);
  EXPECT_TRUE(answered.ok()) << answered.error_message();
  EXPECT_TRUE(live.live());
}

TEST_F(GrpcEndToEndTest, HealthMetadataAndErrors) {
  const testing::ModelFixture fixture = Push("mlp-onnx");
  {
    grpc::ClientContext context;
    inference::ServerLiveResponse live;
    ASSERT_TRUE(stub_->ServerLive(&context, {}, &live).ok());
    EXPECT_TRUE(live.live());
  }
  {
    grpc::ClientContext context;
    inference::ServerReadyResponse ready;
    ASSERT_TRUE(stub_->ServerReady(&context, {}, &ready).ok());
    EXPECT_TRUE(ready.ready());
  }
  {
    grpc::ClientContext context;
    inference::ServerMetadataResponse metadata;
    ASSERT_TRUE(stub_->ServerMetadata(&context, {}, &metadata).ok());
    EXPECT_EQ(metadata.name(), "meridian");
    EXPECT_THAT(std::vector<std::string>(metadata.extensions().begin(), metadata.extensions().end()),
                ::testing::Contains("binary_tensor_data"));
  }
  bool ready = false;
  ASSERT_TRUE(ModelReady("mlp-onnx", "1.0.0", &ready).ok());
  EXPECT_TRUE(ready);
  {
    // Not loaded but registered: asking for its metadata loads it, as a request would.
    ASSERT_EQ(client_->Send(http::HttpMethod::kPost, "/v2/repository/models/mlp-onnx/unload", "", {})->status, 200);
    grpc::ClientContext context;
    inference::ModelMetadataRequest request;
    request.set_name("mlp-onnx");
    inference::ModelMetadataResponse metadata;
    ASSERT_TRUE(stub_->ModelMetadata(&context, request, &metadata).ok());
    EXPECT_EQ(metadata.platform(), "onnx_opencv");
    ASSERT_EQ(metadata.inputs_size(), 1);
    EXPECT_EQ(metadata.inputs(0).name(), "input__0");
    EXPECT_THAT(std::vector<int64_t>(metadata.inputs(0).shape().begin(), metadata.inputs(0).shape().end()),
                ::testing::ElementsAre(-1, 784));
  }
  // So does asking whether it is ready (clients ask before their first request).
  ASSERT_EQ(client_->Send(http::HttpMethod::kPost, "/v2/repository/models/mlp-onnx/unload", "", {})->status, 200);
  ready = false;
  ASSERT_TRUE(ModelReady("mlp-onnx", "", &ready).ok());
  EXPECT_TRUE(ready);
  EXPECT_EQ(ModelReady("nope", "", &ready).error_code(), grpc::StatusCode::NOT_FOUND);
  {
    grpc::ClientContext context;
    inference::ModelMetadataRequest request;
    request.set_name("nope");
    inference::ModelMetadataResponse metadata;
    EXPECT_EQ(stub_->ModelMetadata(&context, request, &metadata).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    inference::ModelInferRequest request = RawRequest(fixture);
    request.set_model_name("nope");
    inference::ModelInferResponse response;
    grpc::Status status = stub_->ModelInfer(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(status.error_message(), HasSubstr(R"(model "nope" not found)"));
  }
  {
    grpc::ClientContext context;
    inference::ModelInferRequest request = RawRequest(fixture);
    request.mutable_inputs(0)->set_shape(1, 783);
    inference::ModelInferResponse response;
    grpc::Status status = stub_->ModelInfer(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext context;
    inference::ModelInferRequest request = RawRequest(fixture);
    request.mutable_inputs(0)->set_datatype("FP64");
    request.set_raw_input_contents(0, std::string(3 * 784 * 8, '\0'));
    inference::ModelInferResponse response;
    grpc::Status status = stub_->ModelInfer(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("expects FP32"));
  }
}

TEST_F(GrpcEndToEndTest, ACancelledCallIsNotExecuted) {
  // A lone request waits a whole second for a batch to fill; the client gives up after 200 ms.
  inference::ModelInferRequest request = PushPatientModel();
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    inference::ModelInferResponse response;
    EXPECT_EQ(stub_->ModelInfer(&context, request, &response).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the batch delay
  auto exec_count = [&] {  // the series appears with the first execution
    return std::max(0.0, testing::MetricValue(client_->Get("/metrics")->body,
                                              R"(inference_exec_count_total{model="patient-mlp",version="1.0.0"})"));
  };
  EXPECT_EQ(exec_count(), 0) << "the cancelled call ran";
  grpc::ClientContext context;
  inference::ModelInferResponse response;
  EXPECT_TRUE(stub_->ModelInfer(&context, request, &response).ok());
  EXPECT_EQ(exec_count(), 1);
}

TEST_F(GrpcEndToEndTest, AStreamCarriesManyRequestsAndAnswersEachOneEvenWhenSomeFail) {
  const testing::ModelFixture fixture = Push("mlp-onnx");
  grpc::ClientContext context;
  auto stream = stub_->ModelStreamInfer(&context);
  for (int i = 0; i < 10; ++i) {
    inference::ModelInferRequest request = RawRequest(fixture);
    request.set_id("s-" + std::to_string(i));
    if (i == 3) request.set_model_name("nope");
    if (i == 6) request.mutable_inputs(0)->set_shape(1, 783);
    ASSERT_TRUE(stream->Write(request));
  }
  ASSERT_TRUE(stream->WritesDone());
  std::map<std::string, inference::ModelStreamInferResponse> answers;
  inference::ModelStreamInferResponse answer;
  while (stream->Read(&answer)) answers[answer.infer_response().id()] = answer;
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(answers.size(), 10u);
  EXPECT_THAT(answers["s-3"].error_message(), HasSubstr(R"(model "nope" not found)"));
  EXPECT_EQ(answers["s-3"].infer_response().model_name(), "nope");
  EXPECT_THAT(answers["s-6"].error_message(), HasSubstr("783"));
  for (int i : {0, 1, 2, 4, 5, 7, 8, 9}) {
    const auto& ok = answers["s-" + std::to_string(i)];
    EXPECT_EQ(ok.error_message(), "") << i;
    EXPECT_EQ(ok.infer_response().model_name(), "mlp-onnx");
    ExpectMatches(fixture, ok.infer_response());
  }
}

// The way bench/grpc/pipelined_stream_client drives a stream: many requests in flight on it at
// once. They fill whole batches, which run as soon as they are full (the model's queue delay is
// far longer than the test), and every answer carries its own request's id and result. (The
// fixture's requests have 3 rows each: 10 make a batch of 30.)
TEST_F(GrpcEndToEndTest, RequestsPipelinedOnOneStreamFillWholeBatchesAndEachGetsItsOwnAnswer) {
  auto fixture = testing::LoadFixture("mlp-onnx");
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  ASSERT_EQ(fixture->inputs[0].shape()[0], 3);
  fixture->metadata_json = R"({"batching":{"maxBatchSize":30,"maxQueueDelay":"30s","instances":2}})";
  ASSERT_TRUE(testing::PushAndLoad(*client_, *fixture, "pipelined-mlp").ok());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));  // fail, not hang
  auto stream = stub_->ModelStreamInfer(&context);
  constexpr int kRequests = 60;
  for (int i = 0; i < kRequests; ++i) {
    inference::ModelInferRequest request = RawRequest(*fixture);
    request.set_model_name("pipelined-mlp");
    request.set_id("p-" + std::to_string(i));
    ASSERT_TRUE(stream->Write(request));
  }
  std::set<std::string> ids;
  inference::ModelStreamInferResponse answer;
  while (ids.size() < kRequests && stream->Read(&answer)) {
    EXPECT_EQ(answer.error_message(), "");
    ExpectMatches(*fixture, answer.infer_response());
    ids.insert(answer.infer_response().id());
  }
  EXPECT_TRUE(stream->WritesDone());
  EXPECT_FALSE(stream->Read(&answer)) << "an answer more than the requests";
  const grpc::Status finished = stream->Finish();
  EXPECT_TRUE(finished.ok()) << finished.error_code() << " " << finished.error_message();
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRequests));
  for (int i = 0; i < kRequests; ++i) EXPECT_TRUE(ids.contains("p-" + std::to_string(i))) << i;
  const std::string metrics = client_->Get("/metrics")->body;
  EXPECT_EQ(testing::MetricValue(metrics, R"(inference_exec_count_total{model="pipelined-mlp",version="1.0.0"})"), 6);
  EXPECT_EQ(testing::MetricValue(metrics, R"(inference_batch_size_sum{model="pipelined-mlp",version="1.0.0"})"),
            3 * kRequests);
}

TEST_F(GrpcEndToEndTest, AStreamThatSendsFarAheadOfReadingIsHeldBackAndLosesNothing) {
  const testing::ModelFixture fixture = Push("mlp-onnx");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));  // fail, not hang
  auto stream = stub_->ModelStreamInfer(&context);
  constexpr int kRequests = 600;  // several times what a stream reads ahead of its answers
  std::thread writer([&] {
    for (int i = 0; i < kRequests; ++i) {
      inference::ModelInferRequest request = RawRequest(fixture);
      request.set_id(std::to_string(i));
      if (!stream->Write(request)) return;
    }
    stream->WritesDone();
  });
  // Nothing is read for a while: the server stops reading at its limit until answers drain.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::set<std::string> ids;
  inference::ModelStreamInferResponse answer;
  while (stream->Read(&answer)) {
    EXPECT_EQ(answer.error_message(), "");
    ids.insert(answer.infer_response().id());
  }
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRequests));
}

TEST_F(GrpcEndToEndTest, ACancelledStreamsQueuedRequestsAreNotExecuted) {
  // Lone requests wait a whole second for a batch to fill; the client cancels after 200 ms.
  inference::ModelInferRequest request = PushPatientModel();
  {
    grpc::ClientContext context;
    auto stream = stub_->ModelStreamInfer(&context);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(stream->Write(request));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    context.TryCancel();
    inference::ModelStreamInferResponse answer;
    EXPECT_FALSE(stream->Read(&answer));
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the batch delay
  const std::string metrics = client_->Get("/metrics")->body;
  EXPECT_LE(testing::MetricValue(metrics, R"(inference_exec_count_total{model="patient-mlp",version="1.0.0"})"), 0)
      << "a request of the cancelled stream ran";
  // The server goes on serving streams.
  grpc::ClientContext context;
  auto stream = stub_->ModelStreamInfer(&context);
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->WritesDone());
  inference::ModelStreamInferResponse answer;
  ASSERT_TRUE(stream->Read(&answer));
  EXPECT_EQ(answer.error_message(), "");
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(GrpcEndToEndTest, ShutdownEndsAnIdleStreamWithUnavailableInsteadOfWaitingForIt) {
  const testing::ModelFixture fixture = Push("mlp-onnx");
  grpc::ClientContext context;
  auto stream = stub_->ModelStreamInfer(&context);
  ASSERT_TRUE(stream->Write(RawRequest(fixture)));
  inference::ModelStreamInferResponse answer;
  ASSERT_TRUE(stream->Read(&answer));
  EXPECT_EQ(answer.error_message(), "");
  // The client keeps its stream open and sends nothing; the drain timeout is 30 s.
  const auto start = std::chrono::steady_clock::now();
  server_->child().Signal(SIGTERM);
  EXPECT_FALSE(stream->Read(&answer));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("shutting down"));
  EXPECT_EQ(server_->child().Wait(std::chrono::seconds(10)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(GrpcEndToEndTest, AGrpcPortInUseIsAStartupError) {
  const std::string port = server_->grpc_target().substr(server_->grpc_target().rfind(':') + 1);
  const std::string dir = testing::FreshTestDir("grpc_port_in_use");
  auto second = testing::RunMeridian({"serve", "--port", "0", "--grpc-port", port, "--data-dir", dir + "/data"});
  EXPECT_NE(second.exit_status, 0);
  EXPECT_THAT(second.err, HasSubstr("cannot listen for gRPC on 127.0.0.1:" + port));
}

// What gRPC's own client never sends, sent over a bare HTTP/2 connection: each gets the answer the
// protocol names, with a message that says what to fix, and the server goes on serving.
class GrpcWireTest : public GrpcEndToEndTest {
 protected:
  uint16_t grpc_port() const {
    const std::string target = server_->grpc_target();
    return static_cast<uint16_t>(std::stoi(target.substr(target.rfind(':') + 1)));
  }

  testing::RawHttp2Answer Send(const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body) {
    absl::StatusOr<testing::RawHttp2Answer> answer = testing::RawHttp2Request(grpc_port(), headers, body);
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.ok() ? *answer : testing::RawHttp2Answer{};
  }

  // The call's grpc-status and grpc-message, from the trailers or a trailers-only answer.
  static std::pair<int, std::string> GrpcStatus(const testing::RawHttp2Answer& answer) {
    const auto& block = answer.trailers.count("grpc-status") ? answer.trailers : answer.headers;
    auto status = block.find("grpc-status");
    auto message = block.find("grpc-message");
    return {status == block.end() ? -1 : std::stoi(status->second), message == block.end() ? "" : message->second};
  }

  void ExpectStillServes(const testing::ModelFixture& fixture) {
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    grpc::Status status = stub_->ModelInfer(&context, RawRequest(fixture), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ExpectMatches(fixture, response);
  }
};

std::string Compress(const std::string& bytes, bool gzip) {
  return protocol::CompressGrpcMessage(gzip ? protocol::GrpcEncoding::kGzip : protocol::GrpcEncoding::kDeflate, bytes);
}

TEST_F(GrpcWireTest, RequestsThatAreNotGrpcCallsGetTheStatusTheProtocolNames) {
  const testing::ModelFixture fixture = Push("mlp-onnx");
  const std::string body = testing::GrpcFrame(RawRequest(fixture).SerializeAsString());

  testing::RawHttp2Answer get = Send(testing::GrpcHeaders("ModelInfer", {{":method", "GET"}}), "");
  EXPECT_EQ(get.headers[":status"], "405");
  testing::RawHttp2Answer json = Send(testing::GrpcHeaders("ModelInfer", {{"content-type", "application/json"}}), body);
  EXPECT_EQ(json.headers[":status"], "415");

  for (const std::string method : {"ModelExplode", "../ModelInfer"}) {
    auto [code, message] = GrpcStatus(Send(testing::GrpcHeaders(method), body));
    EXPECT_EQ(code, static_cast<int>(grpc::StatusCode::UNIMPLEMENTED)) << method;
    EXPECT_THAT(message, HasSubstr("unknown method")) << method;
  }
  auto [other_code, other_message] = GrpcStatus(Send(
      {{":method", "POST"}, {":scheme", "http"}, {":authority", "x"}, {":path", "/other.Service/ModelInfer"},
       {"content-type", "application/grpc"}},
      body));
  EXPECT_EQ(other_code, static_cast<int>(grpc::StatusCode::UNIMPLEMENTED));
  EXPECT_THAT(other_message, HasSubstr("/other.Service/ModelInfer"));

  // A valid call the same way is answered: the refusals above were about the requests.
  testing::RawHttp2Answer ok = Send(testing::GrpcHeaders("ModelInfer"), body);
  EXPECT_EQ(GrpcStatus(ok).first, 0) << GrpcStatus(ok).second;
  inference::ModelInferResponse response;
  ASSERT_GT(ok.body.size(), 5u);
  ASSERT_TRUE(response.ParseFromString(ok.body.substr(5)));
  ExpectMatches(fixture, response);
}

TEST_F(GrpcWireTest, MalformedMessagesAreClearErrorsAndTheServerGoesOn) {
  const testing::ModelFixture fixture = Push("mlp-onnx");
  const std::string message = RawRequest(fixture).SerializeAsString();
  struct Case {
    std::string name;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    grpc::StatusCode code;
    std::string says;
  };
  std::string huge_prefix(5, '\0');
  huge_prefix[1] = 0x7f;  // a message of 2 GiB announced; only its prefix is sent
  const std::vector<Case> cases = {
      {"not protobuf", testing::GrpcHeaders("ModelInfer"), testing::GrpcFrame("\xff\xff\xff garbage"),
       grpc::StatusCode::INVALID_ARGUMENT, "not a valid inference.ModelInferRequest"},
      {"cut inside a message", testing::GrpcHeaders("ModelInfer"), testing::GrpcFrame(message).substr(0, 100),
       grpc::StatusCode::INVALID_ARGUMENT, "ended inside a message"},
      {"two messages", testing::GrpcHeaders("ModelInfer"), testing::GrpcFrame(message) + testing::GrpcFrame(message),
       grpc::StatusCode::INVALID_ARGUMENT, "one request message"},
      {"no message", testing::GrpcHeaders("ModelInfer"), "", grpc::StatusCode::INVALID_ARGUMENT, "no request message"},
      {"larger than the limit", testing::GrpcHeaders("ModelInfer"), huge_prefix, grpc::StatusCode::RESOURCE_EXHAUSTED,
       "more than the server's limit"},
      {"unknown encoding", testing::GrpcHeaders("ModelInfer", {{"grpc-encoding", "br"}}),
       testing::GrpcFrame(message, true), grpc::StatusCode::UNIMPLEMENTED, "identity,deflate,gzip"},
      {"compressed without an encoding", testing::GrpcHeaders("ModelInfer"), testing::GrpcFrame(message, true),
       grpc::StatusCode::INVALID_ARGUMENT, "grpc-encoding is identity"},
      {"not gzip", testing::GrpcHeaders("ModelInfer", {{"grpc-encoding", "gzip"}}), testing::GrpcFrame(message, true),
       grpc::StatusCode::INVALID_ARGUMENT, "not valid gzip"},
      {"a gzip bomb", testing::GrpcHeaders("ModelInfer", {{"grpc-encoding", "gzip"}}),
       testing::GrpcFrame(Compress(std::string(65 << 20, '\0'), true), true), grpc::StatusCode::RESOURCE_EXHAUSTED,
       "inflates to more than"},
      {"malformed timeout", testing::GrpcHeaders("ModelInfer", {{"grpc-timeout", "soon"}}), testing::GrpcFrame(message),
       grpc::StatusCode::INVALID_ARGUMENT, "grpc-timeout"},
      {"malformed metadata request", testing::GrpcHeaders("ModelMetadata"), testing::GrpcFrame("\x0a\xff"),
       grpc::StatusCode::INVALID_ARGUMENT, "not a valid inference.ModelMetadataRequest"},
  };
  for (const Case& c : cases) {
    auto [code, said] = GrpcStatus(Send(c.headers, c.body));
    EXPECT_EQ(code, static_cast<int>(c.code)) << c.name << ": " << said;
    EXPECT_THAT(said, HasSubstr(c.says)) << c.name;
  }
  EXPECT_EQ(std::max(0.0, testing::MetricValue(client_->Get("/metrics")->body,
                                               R"(inference_exec_count_total{model="mlp-onnx",version="1.0.0"})")),
            0)
      << "a refused call ran";
  ExpectStillServes(fixture);
}

// A stream's messages packed back to back, as a pipelining client sends them: DATA frames of 16
// KiB carry one message's end, whole messages and the next one's start. More of them than a stream
// takes in flight (kMaxStreamRequestsInFlight): the server pauses and resumes reading between
// them. Each is answered once, with its own id, and none is lost or read twice.
TEST_F(GrpcWireTest, MessagesPackedIntoDataFramesAreEachAnsweredOnce) {
  const testing::ModelFixture fixture = Push("mlp-onnx");
  constexpr int kMessages = 300;
  std::string body;
  for (int i = 0; i < kMessages; ++i) {
    inference::ModelInferRequest request = RawRequest(fixture);
    request.set_id("m-" + std::to_string(i));
    body += testing::GrpcFrame(request.SerializeAsString());
  }
  absl::StatusOr<testing::RawHttp2Answer> answer =
      testing::RawHttp2Request(grpc_port(), testing::GrpcHeaders("ModelStreamInfer"), body, absl::Seconds(60));
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(GrpcStatus(*answer).first, 0) << GrpcStatus(*answer).second;
  std::map<std::string, int> answered;
  for (size_t at = 0; at + 5 <= answer->body.size();) {
    const auto* prefix = reinterpret_cast<const uint8_t*>(answer->body.data() + at);
    const size_t size = (size_t{prefix[1]} << 24) | (size_t{prefix[2]} << 16) | (size_t{prefix[3]} << 8) | prefix[4];
    inference::ModelStreamInferResponse streamed;
    ASSERT_TRUE(streamed.ParseFromString(answer->body.substr(at + 5, size)));
    EXPECT_EQ(streamed.error_message(), "");
    ExpectMatches(fixture, streamed.infer_response());
    ++answered[streamed.infer_response().id()];
    at += 5 + size;
  }
  EXPECT_EQ(answered.size(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(answered["m-" + std::to_string(i)], 1) << i;
}

TEST_F(GrpcWireTest, GzipAndDeflateRequestsAreAnswered) {
  const testing::ModelFixture fixture = Push("mlp-onnx");
  const std::string message = RawRequest(fixture).SerializeAsString();
  for (const bool gzip : {true, false}) {
    testing::RawHttp2Answer answer =
        Send(testing::GrpcHeaders("ModelInfer", {{"grpc-encoding", gzip ? "gzip" : "deflate"}}),
             testing::GrpcFrame(Compress(message, gzip), true));
    ASSERT_EQ(GrpcStatus(answer).first, 0) << GrpcStatus(answer).second;
    inference::ModelInferResponse response;
    ASSERT_TRUE(response.ParseFromString(answer.body.substr(5)));
    ExpectMatches(fixture, response);
  }
  // And from gRPC's own client, compressing every message.
  grpc::ChannelArguments arguments;
  arguments.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
  auto stub = inference::GRPCInferenceService::NewStub(
      grpc::CreateCustomChannel(server_->grpc_target(), grpc::InsecureChannelCredentials(), arguments));
  grpc::ClientContext context;
  inference::ModelInferResponse response;
  grpc::Status status = stub->ModelInfer(&context, RawRequest(fixture), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ExpectMatches(fixture, response);
}

TEST_F(GrpcWireTest, AConnectionThatDoesNotSpeakHttp2IsClosedAndOthersGoOn) {
  const testing::ModelFixture fixture = Push("mlp-onnx");
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(grpc_port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string http1 = "POST /inference.GRPCInferenceService/ModelInfer HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, http1.data(), http1.size(), MSG_NOSIGNAL), static_cast<ssize_t>(http1.size()));
  // The server closes it (after, at most, its own SETTINGS and a GOAWAY).
  bool closed = false;
  for (int i = 0; i < 50 && !closed; ++i) {
    pollfd readable{fd, POLLIN, 0};
    if (::poll(&readable, 1, 100) <= 0) continue;
    char buffer[4096];
    closed = ::recv(fd, buffer, sizeof(buffer), 0) <= 0;
  }
  ::close(fd);
  EXPECT_TRUE(closed);
  ExpectStillServes(fixture);
}

}  // namespace
}  // namespace meridian
