#include "serving/model_repository.h"

#include <atomic>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/inference_metrics.h"
#include "prometheus/registry.h"
#include "serving/inference_service.h"

namespace meridian::serving {
namespace {

// Doubles its FP32 input; a file whose "path" is "broken" fails to load.
class FakeDoublingModel final : public LoadedModel {
 public:
  const ModelSignature& signature() const override { return signature_; }
  absl::StatusOr<std::vector<Tensor>> Execute(const std::vector<Tensor>& inputs,
                                              const std::vector<std::string>&) override {
    std::string out(inputs[0].bytes());
    for (size_t i = 0; i < out.size() / 4; ++i) {
      float v = inputs[0].At<float>(static_cast<int64_t>(i)) * 2;
      std::memcpy(out.data() + i * 4, &v, 4);
    }
    return std::vector<Tensor>{Tensor::Owned("y", DataType::kFp32, inputs[0].shape(), out)};
  }
  ModelSignature signature_{.inputs = {{"x", DataType::kFp32, {-1}}}, .outputs = {{"y", DataType::kFp32, {-1}}}};
};

class FakeBackend final : public Backend {
 public:
  std::string name() const override { return "fake"; }
  std::string framework_version() const override { return "0"; }
  absl::StatusOr<std::unique_ptr<LoadedModel>> Load(const ModelLoadOptions& options) override {
    ++loads;
    if (options.artifact_path == "broken") return absl::InvalidArgumentError("operator Frobnicate is not supported");
    return std::unique_ptr<LoadedModel>(std::make_unique<FakeDoublingModel>());
  }
  std::atomic<int> loads{0};
};

class FakeModelSource final : public ModelSource {
 public:
  absl::StatusOr<ModelArtifact> Fetch(absl::string_view model, absl::string_view ref) override {
    if (model != "doubler") return absl::NotFoundError("no such model");
    return ModelArtifact{.model = "doubler", .version = std::string(ref), .framework = "fake",
                         .path = (ref == "2.0.0" && broken_v2) || ref == broken_version ? "broken" : "ok",
                         .metadata_json = metadata_json};
  }
  absl::StatusOr<std::vector<std::string>> Versions(absl::string_view model) override {
    ++versions_asked;
    if (model != "doubler") {
      if (absl::Notification* wait = hold_unknown.load(); wait != nullptr) wait->WaitForNotification();
      return absl::NotFoundError(absl::StrCat("model '", model, "' does not exist"));
    }
    return versions;
  }
  absl::StatusOr<std::string> Resolve(absl::string_view model, absl::string_view ref) override {
    ++resolved;
    resolved_on = std::this_thread::get_id();
    if (model != "doubler") return absl::NotFoundError("no such model");
    if (ref == "production") return production;
    if (ref == "latest") return versions.back();
    if (std::find(versions.begin(), versions.end(), ref) != versions.end()) return std::string(ref);
    return absl::NotFoundError(absl::StrCat("no version or alias ", ref));
  }
  absl::StatusOr<std::vector<std::string>> Models() override { return std::vector<std::string>{"doubler"}; }
  std::vector<std::string> versions = {"1.0.0", "1.1.0", "2.0.0"};
  std::string production = "1.0.0";
  std::atomic<int> resolved{0};
  std::atomic<int> versions_asked{0};
  std::atomic<std::thread::id> resolved_on;
  // Questions about models other than "doubler" wait for it when set.
  std::atomic<absl::Notification*> hold_unknown{nullptr};
  bool broken_v2 = false;
  std::string broken_version;  // another version whose file does not load
  std::string metadata_json;   // every version's
};

// A request for the fake models: one FP32 element of "x", zero.
InferenceRequest OneElementRequest(const std::string& model, const std::string& version = "") {
  InferenceRequest request{.model = model, .version = version};
  request.inputs.push_back(Tensor::Owned("x", DataType::kFp32, {1}, std::string(4, '\0')));
  return request;
}

// Sends the request and returns its answer once it comes.
absl::StatusOr<InferenceResponse> InferAndWait(InferenceService& service, InferenceRequest request) {
  absl::Notification done;
  absl::StatusOr<InferenceResponse> response;
  service.Infer(std::move(request), [&](absl::StatusOr<InferenceResponse> r) {
    response = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return response;
}

class ModelRepositoryTest : public ::testing::Test {
 protected:
  ModelRepositoryTest() {
    backends_.Register(std::make_unique<FakeBackend>());
    repository_ = std::make_unique<ModelRepository>(ModelRepositoryOptions{.source = &source_, .backends = &backends_});
  }
  FakeModelSource source_;
  BackendRegistry backends_;
  std::unique_ptr<ModelRepository> repository_;
};

TEST_F(ModelRepositoryTest, LoadsLatestByDefaultAndUnloads) {
  EXPECT_EQ(repository_->Find("doubler", "").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(repository_->Load("doubler", {}).ok());
  auto found = repository_->Find("doubler", "");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ((*found)->version(), "2.0.0");
  EXPECT_EQ(repository_->Find("doubler", "1.0.0").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(repository_->Unload("doubler").ok());
  EXPECT_EQ(repository_->Find("doubler", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(repository_->Unload("doubler").code(), absl::StatusCode::kNotFound);
}

TEST_F(ModelRepositoryTest, TheIndexWithUnloadedListsTheSourcesModelsNotLoaded) {
  auto index = repository_->IndexWithUnloaded();
  ASSERT_TRUE(index.ok());
  ASSERT_EQ(index->size(), 1u);
  EXPECT_EQ((*index)[0].model, "doubler");
  EXPECT_EQ((*index)[0].version, "");
  EXPECT_EQ((*index)[0].state, ModelState::kUnavailable);
  ASSERT_TRUE(repository_->Load("doubler", {}).ok());
  index = repository_->IndexWithUnloaded();
  ASSERT_EQ(index->size(), 1u);
  EXPECT_EQ((*index)[0].version, "2.0.0");
  EXPECT_EQ((*index)[0].state, ModelState::kReady);
}

TEST(ModelRepositoryAliasTest, AnAliasLoadsAndFindsTheVersionItNamesAndFollowsItWhenItMoves) {
  FakeModelSource source;
  BackendRegistry backends;
  backends.Register(std::make_unique<FakeBackend>());
  ModelRepository repository(
      {.source = &source, .backends = &backends, .alias_time_to_live = absl::Milliseconds(100)});
  ASSERT_TRUE(repository.EnsureLoaded("doubler", "production").ok());
  auto index = repository.Index();
  ASSERT_EQ(index.size(), 1u);
  EXPECT_EQ(index[0].version, "1.0.0") << "loaded under the alias' name";
  auto found = repository.Find("doubler", "production");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ((*found)->version(), "1.0.0");
  // Requests naming the alias do not ask the source each time.
  const int asked = source.resolved;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(repository.Find("doubler", "production").ok());
  EXPECT_EQ(source.resolved, asked);

  source.production = "2.0.0";  // the alias moves: its requests follow once the answer expires
  absl::SleepFor(absl::Milliseconds(150));
  EXPECT_EQ(repository.Find("doubler", "production").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(repository.EnsureLoaded("doubler", "production").ok());
  found = repository.Find("doubler", "production");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ((*found)->version(), "2.0.0");
  EXPECT_EQ(repository.Find("doubler", "latest").value()->version(), "2.0.0");
  EXPECT_EQ(repository.Find("doubler", "1.0.0").value()->version(), "1.0.0");

  // References that name nothing leave nothing behind.
  EXPECT_EQ(repository.EnsureLoaded("doubler", "staging").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(repository.EnsureLoaded("doubler", "9.9.9").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(repository.EnsureLoaded("nope", "1.0.0").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(repository.Index().size(), 2u);
}

TEST_F(ModelRepositoryTest, VersionPoliciesSelectAndRetire) {
  ASSERT_TRUE(repository_->Load("doubler", {.policy = *ParseVersionPolicy(R"({"all":{}})")}).ok());
  EXPECT_EQ(repository_->Index().size(), 3u);
  // Specific versions may be named by alias; each version is loaded once, under its own name.
  ASSERT_TRUE(repository_->Load("doubler", {.policy = *ParseVersionPolicy(
                                                R"({"specific":{"versions":["production","1.0.0","latest"]}})")})
                  .ok());
  auto index = repository_->Index();
  ASSERT_EQ(index.size(), 2u);
  EXPECT_EQ(index[0].version, "1.0.0");
  EXPECT_EQ(index[1].version, "2.0.0");
  EXPECT_EQ(repository_->Load("doubler", {.policy = *ParseVersionPolicy(R"({"specific":{"versions":["staging"]}})")})
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(repository_->Index().size(), 2u) << "a refused policy changes nothing";
  ASSERT_TRUE(repository_->Load("doubler", {.policy = *ParseVersionPolicy(R"({"latest":{"num_versions":2}})")}).ok());
  EXPECT_EQ(repository_->Index().size(), 2u);
  EXPECT_FALSE(repository_->Find("doubler", "1.0.0").ok());
  ASSERT_TRUE(repository_->Load("doubler", {.policy = *ParseVersionPolicy(R"({"specific":{"versions":["1.0.0"]}})")}).ok());
  EXPECT_TRUE(repository_->Find("doubler", "1.0.0").ok());
  EXPECT_EQ(repository_->Index().size(), 1u);
  EXPECT_EQ(repository_->Load("doubler", {.policy = *ParseVersionPolicy(R"({"specific":{"versions":["9.9.9"]}})")}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(ParseVersionPolicy(R"({"newest":{}})").ok());
  EXPECT_FALSE(ParseVersionPolicy(R"({"latest":{"num_versions":0}})").ok());
}

TEST_F(ModelRepositoryTest, AFailedVersionIsUnavailableWithItsReasonAndOthersServe) {
  source_.broken_v2 = true;
  absl::Status status = repository_->Load("doubler", {.policy = *ParseVersionPolicy(R"({"all":{}})")});
  EXPECT_NE(status.message().find("Frobnicate"), std::string::npos) << status;
  auto v2 = repository_->Find("doubler", "2.0.0");
  EXPECT_EQ(v2.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(v2.status().message().find("Frobnicate"), std::string::npos);
  auto newest_ready = repository_->Find("doubler", "");
  ASSERT_TRUE(newest_ready.ok());
  EXPECT_EQ((*newest_ready)->version(), "1.1.0");
  EXPECT_EQ(repository_->Load("nope", {}).code(), absl::StatusCode::kNotFound);
}

TEST_F(ModelRepositoryTest, InferenceServiceValidatesExecutesAndRecords) {
  ASSERT_TRUE(repository_->Load("doubler", {}).ok());
  prometheus::Registry registry;
  metrics::InferenceMetrics metrics(registry);
  InferenceService service(repository_.get(), &metrics);

  float values[2] = {1.5f, -2.0f};
  InferenceRequest request{.id = "r1", .model = "doubler"};
  request.inputs.push_back(Tensor::Owned("x", DataType::kFp32, {2}, std::string(reinterpret_cast<char*>(values), 8)));
  absl::StatusOr<InferenceResponse> response = InferAndWait(service, request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->id, "r1");
  EXPECT_EQ(response->version, "2.0.0");
  EXPECT_FLOAT_EQ(response->outputs[0].At<float>(0), 3.0f);
  EXPECT_FLOAT_EQ(response->outputs[0].At<float>(1), -4.0f);

  InferenceRequest bad{.model = "doubler"};
  bad.inputs.push_back(Tensor::Owned("x", DataType::kInt32, {1}, std::string(4, '\0')));
  absl::Status bad_status;
  service.Infer(std::move(bad), [&](absl::StatusOr<InferenceResponse> r) { bad_status = r.status(); });
  EXPECT_EQ(bad_status.code(), absl::StatusCode::kInvalidArgument);

  bool counted = false;
  for (const auto& family : registry.Collect()) {
    if (family.name != "inference_requests_total") continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "outcome" && label.value == "invalid_argument") counted = metric.counter.value == 1;
      }
    }
  }
  EXPECT_TRUE(counted);
}

// A response cache across the network that is slow: each lookup waits until released.
class FakeSlowRemoteCache final : public ResponseCache {
 public:
  std::string name() const override { return "slow"; }
  std::optional<std::string> Get(const std::string&) override {
    release.WaitForNotification();
    return std::nullopt;
  }
  void Put(const std::string&, std::string, absl::Duration) override { ++stored; }
  void Invalidate(absl::string_view, absl::string_view) override {}
  absl::Notification release;
  std::atomic<int> stored{0};
};

TEST_F(ModelRepositoryTest, ARemoteResponseCacheIsNeverWaitedForOnTheRequestsThread) {
  source_.metadata_json = R"({"responseCache":{"enabled":true}})";
  ASSERT_TRUE(repository_->Load("doubler", {}).ok());
  prometheus::Registry registry;
  metrics::InferenceMetrics metrics(registry);
  FakeSlowRemoteCache cache;
  auto cache_pool = std::make_unique<ThreadPool>(ThreadPoolOptions{.threads = 1});
  InferenceService service(InferenceServiceOptions{
      .repository = repository_.get(), .metrics = &metrics, .cache = &cache, .cache_pool = cache_pool.get()});

  float values[1] = {1.5f};
  InferenceRequest request{.model = "doubler"};
  request.inputs.push_back(Tensor::Owned("x", DataType::kFp32, {1}, std::string(reinterpret_cast<char*>(values), 4)));
  absl::Notification returned, answered;
  absl::StatusOr<InferenceResponse> response;
  std::thread io_thread([&] {
    service.Infer(std::move(request), [&](absl::StatusOr<InferenceResponse> r) {
      response = std::move(r);
      answered.Notify();
    });
    returned.Notify();
  });
  // The caller went back to its other connections while the cache still holds the lookup.
  EXPECT_TRUE(returned.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_FALSE(answered.HasBeenNotified());
  cache.release.Notify();
  io_thread.join();
  answered.WaitForNotification();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_FLOAT_EQ(response->outputs[0].At<float>(0), 3.0f);
  cache_pool.reset();  // finishes the store, which is queued there too
  EXPECT_EQ(cache.stored.load(), 1);
}

// Lazy loading through the InferenceService: the lookups that find out what a request names run
// on the loader, never on the thread that received the request, and are not repeated needlessly.
class LazyLoadingTest : public ::testing::Test {
 protected:
  LazyLoadingTest() {
    auto backend = std::make_unique<FakeBackend>();
    backend_ = backend.get();
    backends_.Register(std::move(backend));
    repository_ = std::make_unique<ModelRepository>(ModelRepositoryOptions{
        .source = &source_, .backends = &backends_, .alias_time_to_live = absl::Hours(1), .lookups = &*loader_});
    service_ = std::make_unique<InferenceService>(InferenceServiceOptions{
        .repository = repository_.get(), .metrics = &metrics_, .loader = &*loader_, .max_unfamiliar_lookups = 2});
  }
  ~LazyLoadingTest() override { loader_.reset(); }  // finishes its tasks while the service is alive

  absl::StatusOr<InferenceResponse> Infer(const std::string& model, const std::string& version) {
    return InferAndWait(*service_, OneElementRequest(model, version));
  }

  FakeModelSource source_;
  BackendRegistry backends_;
  FakeBackend* backend_ = nullptr;
  prometheus::Registry registry_;
  metrics::InferenceMetrics metrics_{registry_};
  std::unique_ptr<ModelRepository> repository_;
  std::unique_ptr<InferenceService> service_;
  // Declared last: destroyed first (by the destructor above), finishing its tasks.
  std::optional<ThreadPool> loader_{ThreadPoolOptions{.threads = 1, .max_queue = 64}};
};

TEST_F(LazyLoadingTest, AClientRepeatingAModelNameThatDoesNotExistCostsOneLookup) {
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<InferenceResponse> response = Infer("nope", "");
    ASSERT_EQ(response.status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(response.status().message(), "model 'nope' does not exist") << "the registry's own answer";
  }
  EXPECT_EQ(source_.versions_asked.load(), 1);
  // Answered on the request's own thread, without a trip through the loader.
  std::thread::id answered_on;
  absl::Notification answered;
  service_->Infer(OneElementRequest("nope", ""), [&](absl::StatusOr<InferenceResponse>) {
    answered_on = std::this_thread::get_id();
    answered.Notify();
  });
  answered.WaitForNotification();
  EXPECT_EQ(answered_on, std::this_thread::get_id());
  // The same for a version that does not exist.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Infer("doubler", "9.9.9").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(source_.resolved.load(), 1);
}

TEST_F(LazyLoadingTest, AnAliasIsLookedUpByTheLoaderNeverByTheRequestsThread) {
  absl::StatusOr<InferenceResponse> response = Infer("doubler", "production");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->version, "1.0.0");
  EXPECT_EQ(source_.resolved.load(), 1);
  EXPECT_NE(source_.resolved_on.load(), std::this_thread::get_id());
  // Remembered from then on: no more questions, and the version is found on this thread.
  for (int i = 0; i < 10; ++i) ASSERT_EQ(Infer("doubler", "production")->version, "1.0.0");
  EXPECT_EQ(source_.resolved.load(), 1);
  // The registry says the alias moved: the next request follows it.
  source_.production = "1.1.0";
  repository_->ForgetReferences("doubler");
  EXPECT_EQ(Infer("doubler", "production")->version, "1.1.0");
}

// Without loading on first request, the alias is still resolved off the request's thread.
TEST_F(ModelRepositoryTest, WithoutLazyLoadingAnAliasIsStillLookedUpOffTheRequestsThread) {
  ASSERT_TRUE(repository_->Load("doubler", {.policy = VersionPolicy{.kind = VersionPolicy::Kind::kAll}}).ok());
  prometheus::Registry registry;
  metrics::InferenceMetrics metrics(registry);
  auto lookups = std::make_unique<ThreadPool>(ThreadPoolOptions{.threads = 1});
  InferenceService service(
      InferenceServiceOptions{.repository = repository_.get(), .metrics = &metrics, .lookups = lookups.get()});
  auto infer = [&](const std::string& version) { return InferAndWait(service, OneElementRequest("doubler", version)); };
  absl::StatusOr<InferenceResponse> response = infer("production");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->version, "1.0.0");
  EXPECT_EQ(source_.resolved.load(), 1);
  EXPECT_NE(source_.resolved_on.load(), std::this_thread::get_id());
  EXPECT_EQ(infer("production")->version, "1.0.0");  // remembered: found at once
  EXPECT_EQ(source_.resolved.load(), 1);
  EXPECT_EQ(infer("staging").status().code(), absl::StatusCode::kNotFound);  // asked off the thread too
  EXPECT_NE(source_.resolved_on.load(), std::this_thread::get_id());
  // Metadata and readiness find versions the same way.
  source_.production = "1.1.0";
  repository_->ForgetReferences("doubler");
  absl::Notification found;
  service.FindOrLoad("doubler", "production", [&](absl::StatusOr<std::shared_ptr<ServedModel>> served) {
    EXPECT_TRUE(served.ok()) << served.status();
    if (served.ok()) {
      EXPECT_EQ((*served)->version(), "1.1.0");
    }
    found.Notify();
  });
  found.WaitForNotification();
  EXPECT_NE(source_.resolved_on.load(), std::this_thread::get_id());
  lookups.reset();
}

TEST_F(ModelRepositoryTest, WithoutLazyLoadingAliasLookupsInProgressAreBounded) {
  ASSERT_TRUE(repository_->Load("doubler", {}).ok());
  prometheus::Registry registry;
  metrics::InferenceMetrics metrics(registry);
  auto lookups = std::make_unique<ThreadPool>(ThreadPoolOptions{.threads = 1});
  absl::Notification release;
  lookups->TrySubmit([&] { release.WaitForNotification(); });  // the lookup thread is busy
  InferenceService service(InferenceServiceOptions{
      .repository = repository_.get(), .metrics = &metrics, .lookups = lookups.get(), .max_unfamiliar_lookups = 1});
  absl::Notification first_answered;
  absl::StatusOr<InferenceResponse> first;
  service.Infer(OneElementRequest("doubler", "production"), [&](absl::StatusOr<InferenceResponse> r) {
    first = std::move(r);
    first_answered.Notify();
  });
  // The second waits for nothing: 503 at once, while the first is queued.
  absl::StatusOr<InferenceResponse> second = InferAndWait(service, OneElementRequest("doubler", "staging"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  EXPECT_NE(second.status().message().find("retry later"), std::string::npos);
  EXPECT_FALSE(first_answered.HasBeenNotified());
  release.Notify();
  first_answered.WaitForNotification();
  // 2.0.0 alone is loaded; "production" names 1.0.0, not loaded and not loaded on request here.
  EXPECT_EQ(first.status().code(), absl::StatusCode::kNotFound) << first.status();
  lookups.reset();
}

TEST_F(LazyLoadingTest, AVersionThatFailedIsNotLoadedByEveryRequestAndANewerOneIs) {
  source_.broken_v2 = true;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<InferenceResponse> response = Infer("doubler", "");
    ASSERT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
    EXPECT_THAT(std::string(response.status().message()), ::testing::HasSubstr("Frobnicate"));
  }
  EXPECT_EQ(backend_->loads.load(), 1) << "one failed load, not one per request";
  EXPECT_EQ(Infer("doubler", "2.0.0").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(backend_->loads.load(), 1);

  // A newer version is pushed (the registry announces it): unversioned requests load and reach it.
  source_.versions.push_back("2.1.0");
  repository_->ForgetReferences("doubler");
  absl::StatusOr<InferenceResponse> response = Infer("doubler", "");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->version, "2.1.0");

  // The broken version's metadata is fixed: its next request tries it again.
  source_.broken_v2 = false;
  repository_->ForgetReferences("doubler");
  response = Infer("doubler", "2.0.0");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->version, "2.0.0");
}

// Requests without a version follow the newest release: a pushed version is loaded in the
// background while the loaded one keeps answering, and keeps answering if the new one fails.
TEST_F(LazyLoadingTest, RequestsWithoutAVersionMoveToANewVersionWithoutWaitingForIt) {
  ASSERT_EQ(Infer("doubler", "")->version, "2.0.0");
  auto wait_for_version = [&](const std::string& wanted) {
    std::string answered;
    for (int i = 0; i < 400 && answered != wanted; ++i) {
      absl::StatusOr<InferenceResponse> response = Infer("doubler", "");
      EXPECT_TRUE(response.ok()) << response.status() << " (no request fails meanwhile)";
      if (!response.ok()) return std::string();
      answered = response->version;
      if (answered != wanted) absl::SleepFor(absl::Milliseconds(5));
    }
    return answered;
  };

  source_.versions.push_back("2.1.0");
  repository_->ForgetReferences("doubler");  // the registry announces the push
  EXPECT_EQ(Infer("doubler", "")->version, "2.0.0") << "answered at once by the loaded version";
  EXPECT_EQ(wait_for_version("2.1.0"), "2.1.0");

  // A new version that cannot load: the loaded one keeps answering, and it is tried once.
  const int loads = backend_->loads.load();
  source_.broken_version = "2.2.0";
  source_.versions.push_back("2.2.0");
  repository_->ForgetReferences("doubler");
  for (int i = 0; i < 50; ++i) {
    absl::StatusOr<InferenceResponse> response = Infer("doubler", "");
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->version, "2.1.0");
    absl::SleepFor(absl::Milliseconds(2));
  }
  EXPECT_EQ(backend_->loads.load(), loads + 1);

  // A pre-release is not where requests without a version go.
  source_.broken_version.clear();
  source_.versions = {"1.0.0", "1.1.0", "2.0.0", "2.1.0", "3.0.0-rc.1"};
  repository_->ForgetReferences("doubler");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Infer("doubler", "")->version, "2.1.0");
  EXPECT_EQ(Infer("doubler", "3.0.0-rc.1")->version, "3.0.0-rc.1") << "when asked for, it is served";
  EXPECT_EQ(Infer("doubler", "")->version, "2.1.0");
}

// The same when the newer version is pushed through another server on the same store (no
// announcement): requests reach it once what the newest is has been asked again.
TEST(LazyLoadingAcrossServersTest, ANewerVersionPushedElsewhereIsLoadedWhereTheNewestFailed) {
  FakeModelSource source;
  source.broken_v2 = true;
  BackendRegistry backends;
  backends.Register(std::make_unique<FakeBackend>());
  prometheus::Registry registry;
  metrics::InferenceMetrics metrics(registry);
  std::optional<ThreadPool> loader(ThreadPoolOptions{.threads = 1});
  ModelRepository repository({.source = &source, .backends = &backends,
                              .alias_time_to_live = absl::Milliseconds(50), .lookups = &*loader});
  InferenceService service({.repository = &repository, .metrics = &metrics, .loader = &*loader});
  absl::Cleanup stop_loader = [&] { loader.reset(); };  // before the service and repository go
  auto infer = [&] { return InferAndWait(service, OneElementRequest("doubler")); };
  EXPECT_EQ(infer().status().code(), absl::StatusCode::kUnavailable);
  source.versions.push_back("2.1.0");
  absl::StatusOr<InferenceResponse> response;
  for (int i = 0; i < 200; ++i) {
    response = infer();
    if (response.ok()) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->version, "2.1.0");
}

TEST_F(LazyLoadingTest, MadeUpModelNamesGetABoundedShareOfTheLoader) {
  ASSERT_TRUE(Infer("doubler", "").ok());  // a model the server knows
  ASSERT_TRUE(repository_->Unload("doubler").ok());
  absl::Notification release;
  source_.hold_unknown = &release;
  std::atomic<int> answered{0};
  std::vector<absl::Status> made_up(3);
  for (int i = 0; i < 3; ++i) {
    service_->Infer(OneElementRequest(absl::StrCat("made-up-", i), ""), [&, i](absl::StatusOr<InferenceResponse> r) {
      made_up[i] = r.status();
      ++answered;
    });
  }
  // Two lookups wait on the source; the third is refused at once.
  EXPECT_EQ(answered.load(), 1);
  EXPECT_EQ(made_up[2].code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(made_up[2].message()), ::testing::HasSubstr("lookups of models this server does not know"));
  // A model the server knows still gets its load queued.
  absl::Notification known_done;
  absl::StatusOr<InferenceResponse> known;
  service_->Infer(OneElementRequest("doubler", ""), [&](absl::StatusOr<InferenceResponse> r) {
    known = std::move(r);
    known_done.Notify();
  });
  release.Notify();
  known_done.WaitForNotification();
  EXPECT_TRUE(known.ok()) << known.status();
  for (int i = 0; i < 500 && answered.load() < 3; ++i) absl::SleepFor(absl::Milliseconds(2));
  EXPECT_EQ(made_up[0].code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(made_up[1].code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace meridian::serving

namespace meridian::serving {
namespace {

// Holds `megabytes` of touched memory per loaded model, so that the measured RSS growth is real.
// `library_megabytes` more are taken once, by the first Prepare (which Load calls when nobody did),
// as a framework loaded on demand takes its libraries' memory. A load takes `load_time` after
// taking its memory.
class FakeMemoryHungryBackend final : public Backend {
 public:
  explicit FakeMemoryHungryBackend(size_t megabytes, size_t library_megabytes = 0, absl::Status prepared = {},
                                   absl::Duration load_time = absl::ZeroDuration())
      : bytes_(megabytes << 20),
        library_bytes_(library_megabytes << 20),
        prepared_(std::move(prepared)),
        load_time_(load_time) {}
  std::string name() const override { return "hungry"; }
  std::string framework_version() const override { return "0"; }
  absl::Status Prepare() override {
    if (library_.empty()) library_.assign(library_bytes_, 1);
    return prepared_;
  }
  absl::StatusOr<std::unique_ptr<LoadedModel>> Load(const ModelLoadOptions&) override {
    if (absl::Status ready = Prepare(); !ready.ok()) return ready;
    auto model = std::make_unique<Model>();
    model->ballast.assign(bytes_, 1);
    absl::SleepFor(load_time_);
    return std::unique_ptr<LoadedModel>(std::move(model));
  }

 private:
  struct Model final : LoadedModel {
    const ModelSignature& signature() const override { return signature_; }
    absl::StatusOr<std::vector<Tensor>> Execute(const std::vector<Tensor>& inputs, const std::vector<std::string>&) override {
      return std::vector<Tensor>{Tensor::Owned("y", DataType::kFp32, inputs[0].shape(), std::string(inputs[0].bytes()))};
    }
    ModelSignature signature_{.inputs = {{"x", DataType::kFp32, {-1}}}, .outputs = {{"y", DataType::kFp32, {-1}}}};
    std::vector<char> ballast;
  };
  size_t bytes_;
  size_t library_bytes_;
  absl::Status prepared_;
  absl::Duration load_time_;
  std::vector<char> library_;
};

class FakeManyModelsSource final : public ModelSource {
 public:
  absl::StatusOr<ModelArtifact> Fetch(absl::string_view model, absl::string_view ref) override {
    return ModelArtifact{.model = std::string(model), .version = std::string(ref), .framework = "hungry", .path = "x"};
  }
  absl::StatusOr<std::vector<std::string>> Versions(absl::string_view model) override {
    return std::vector<std::string>{"1.0.0"};
  }
  absl::StatusOr<std::string> Resolve(absl::string_view, absl::string_view ref) override { return std::string(ref); }
  absl::StatusOr<std::vector<std::string>> Models() override { return std::vector<std::string>{}; }
};

class ResidencyTest : public ::testing::Test {
 protected:
  ResidencyTest() {
    backends_.Register(std::make_unique<FakeMemoryHungryBackend>(32));
    repository_ = std::make_unique<ModelRepository>(ModelRepositoryOptions{
        .source = &source_, .backends = &backends_, .memory_budget_bytes = 80ull << 20,
        .alias_time_to_live = absl::Hours(1)});
  }
  FakeManyModelsSource source_;
  BackendRegistry backends_;
  std::unique_ptr<ModelRepository> repository_;
};

TEST_F(ResidencyTest, MeasuresMemoryAndEvictsTheLeastRecentlyUsedIdleVersion) {
  ASSERT_TRUE(repository_->EnsureLoaded("a", "").ok());
  ASSERT_TRUE(repository_->EnsureLoaded("b", "").ok());
  const auto a = repository_->Find("a", "");
  ASSERT_TRUE(a.ok());
  EXPECT_GE((*a)->memory_bytes(), 30ull << 20);  // measured, not declared
  EXPECT_LE((*a)->memory_bytes(), 40ull << 20);
  // "a" is used more recently than "b"; "c" does not fit beside both: "b" goes.
  ASSERT_TRUE(repository_->EnsureLoaded("c", "").ok());
  EXPECT_TRUE(repository_->Find("a", "").ok());
  EXPECT_EQ(repository_->Find("b", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(repository_->Find("c", "").ok());
}

TEST(ResidencyMeasurementTest, AFrameworkLoadedWithTheFirstModelIsNotCountedAsThatModelsMemory) {
  FakeManyModelsSource source;
  BackendRegistry backends;
  backends.Register(std::make_unique<FakeMemoryHungryBackend>(8, /*library_megabytes=*/64));
  ModelRepository repository(ModelRepositoryOptions{.source = &source, .backends = &backends});
  ASSERT_TRUE(repository.EnsureLoaded("a", "").ok());
  const auto a = repository.Find("a", "");
  ASSERT_TRUE(a.ok());
  EXPECT_GE((*a)->memory_bytes(), 7ull << 20);
  EXPECT_LE((*a)->memory_bytes(), 16ull << 20);  // not the 64 MiB the framework took
}

TEST(ResidencyMeasurementTest, ALoadIsNotChargedTheMemoryOfADeploymentReplicaLoadedMeanwhile) {
  FakeManyModelsSource source;
  BackendRegistry backends;
  backends.Register(std::make_unique<FakeMemoryHungryBackend>(24, 0, absl::OkStatus(), absl::Milliseconds(300)));
  ModelRepository repository(ModelRepositoryOptions{.source = &source, .backends = &backends});
  absl::StatusOr<std::shared_ptr<ServedModel>> replica;
  std::thread deployment([&] {
    absl::SleepFor(absl::Milliseconds(100));  // while "a" is loading
    replica = repository.LoadReplica("b", "1.0.0", {});
  });
  ASSERT_TRUE(repository.EnsureLoaded("a", "").ok());
  deployment.join();
  ASSERT_TRUE(replica.ok()) << replica.status();
  const auto a = repository.Find("a", "");
  ASSERT_TRUE(a.ok());
  for (uint64_t measured : {(*a)->memory_bytes(), (*replica)->memory_bytes()}) {
    EXPECT_GE(measured, 22ull << 20);
    EXPECT_LE(measured, 36ull << 20);  // not both loads' 48 MiB
  }
}

TEST(ResidencyMeasurementTest, AFrameworkThatCannotBeReadiedFailsTheLoadWithItsReason) {
  FakeManyModelsSource source;
  BackendRegistry backends;
  backends.Register(std::make_unique<FakeMemoryHungryBackend>(1, 0, absl::UnavailableError("no module here")));
  ModelRepository repository(ModelRepositoryOptions{.source = &source, .backends = &backends});
  const absl::Status loaded = repository.EnsureLoaded("a", "");
  EXPECT_EQ(loaded.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(loaded.message().find("no module here"), std::string::npos) << loaded;
}

TEST_F(ResidencyTest, AVersionInUseIsNeverEvicted) {
  ASSERT_TRUE(repository_->EnsureLoaded("a", "").ok());
  ASSERT_TRUE(repository_->EnsureLoaded("b", "").ok());
  auto held_a = repository_->Find("a", "");  // a request holds both
  auto held_b = repository_->Find("b", "");
  ASSERT_TRUE(held_a.ok() && held_b.ok());
  absl::Status status = repository_->EnsureLoaded("c", "");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;  // 503: the server is full
  EXPECT_NE(status.message().find("memory budget"), std::string::npos);
  EXPECT_TRUE(repository_->Find("a", "").ok());
  EXPECT_TRUE(repository_->Find("b", "").ok());
  // Requests for "c" do not load it again while nothing could make room...
  EXPECT_FALSE(repository_->LoadWouldHelp("c", ""));
  EXPECT_EQ(repository_->EnsureLoaded("c", "").code(), absl::StatusCode::kUnavailable);
  held_b = absl::NotFoundError("released");
  // ...and do once something could.
  EXPECT_TRUE(repository_->LoadWouldHelp("c", ""));
  EXPECT_TRUE(repository_->EnsureLoaded("c", "").ok());  // now "b" is idle and goes
  EXPECT_TRUE(repository_->Find("a", "").ok());
}

// Budget 80 MiB, 32 MiB per model: deployment replicas count against it while they live.
TEST_F(ResidencyTest, DeploymentReplicasCountAgainstTheBudgetAndMakeRoom) {
  ASSERT_TRUE(repository_->EnsureLoaded("a", "").ok());
  ASSERT_TRUE(repository_->EnsureLoaded("b", "").ok());
  ASSERT_TRUE(repository_->Find("a", "").ok());  // "a" used more recently than "b"
  // A replica makes room for itself: the least recently used idle version goes.
  absl::StatusOr<std::shared_ptr<ServedModel>> replica = repository_->LoadReplica("r", "1.0.0", {});
  ASSERT_TRUE(replica.ok()) << replica.status();
  EXPECT_EQ(repository_->Find("b", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(repository_->Find("a", "").ok());
  EXPECT_GE(repository_->memory_in_use(), 60ull << 20);
  // Held by the replica and a request for "a", the budget has no room for "c"...
  {
    auto held_a = repository_->Find("a", "");
    const absl::Status status = repository_->EnsureLoaded("c", "");
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
    EXPECT_NE(status.message().find("by deployment replicas"), std::string::npos) << status;
  }
  // ...until the replica is gone (and "a" is idle again).
  replica = absl::NotFoundError("stopped");
  EXPECT_TRUE(repository_->LoadWouldHelp("c", ""));
  EXPECT_TRUE(repository_->EnsureLoaded("c", "").ok());
  // A replica the scheduler placed loads even beyond the budget, when nothing idle can go.
  auto held_a = repository_->Find("a", "");
  auto held_c = repository_->Find("c", "");
  auto over = repository_->LoadReplica("r", "1.0.0", {});
  EXPECT_TRUE(over.ok()) << over.status();
}

TEST(ModelRepositoryIndexTest, TheIndexIsInNameAndVersionOrder) {
  FakeManyModelsSource source;
  BackendRegistry backends;
  backends.Register(std::make_unique<FakeMemoryHungryBackend>(1));
  ModelRepository repository({.source = &source, .backends = &backends});
  for (const char* model : {"zeta", "alpha", "mid"}) ASSERT_TRUE(repository.EnsureLoaded(model, "10.0.0").ok());
  ASSERT_TRUE(repository.EnsureLoaded("alpha", "9.0.0").ok());
  auto index = repository.IndexWithUnloaded();
  ASSERT_TRUE(index.ok());
  std::vector<std::string> order;
  for (const ModelVersionStatus& status : *index) order.push_back(status.model + "@" + status.version);
  EXPECT_THAT(order, ::testing::ElementsAre("alpha@9.0.0", "alpha@10.0.0", "mid@10.0.0", "zeta@10.0.0"));
}

}  // namespace
}  // namespace meridian::serving
