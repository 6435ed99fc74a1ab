#include "serving/version_resolver.h"

#include <atomic>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace meridian::serving {
namespace {

// Answers what `names` says ("model\nref" -> version; absent: kNotFound), or `failure` when set;
// counts the questions. A question can be held until `release` is notified.
class ScriptedSource final : public ModelSource {
 public:
  // Naming a version must never read an artifact.
  absl::StatusOr<ModelArtifact> Fetch(absl::string_view, absl::string_view) override {
    ADD_FAILURE() << "the resolver fetched an artifact";
    return absl::InternalError("the resolver must not fetch artifacts");
  }
  // {"0.1.0", what "latest" names}, or what SetVersions said.
  absl::StatusOr<std::vector<std::string>> Versions(absl::string_view model) override {
    {
      absl::MutexLock lock(&mu);
      if (auto it = versions.find(model); it != versions.end()) return it->second;
    }
    absl::StatusOr<std::string> newest = Resolve(model, "latest");
    if (!newest.ok()) return newest.status();
    return std::vector<std::string>{"0.1.0", *newest};
  }
  absl::StatusOr<std::string> Resolve(absl::string_view model, absl::string_view ref) override {
    ++asked;
    if (absl::Notification* wait = hold.load(); wait != nullptr) {
      if (!holding.HasBeenNotified()) holding.Notify();
      wait->WaitForNotification();
    }
    absl::MutexLock lock(&mu);
    if (!failure.ok()) return failure;
    auto it = names.find(absl::StrCat(model, "\n", ref));
    if (it == names.end()) return absl::NotFoundError(absl::StrCat("model '", model, "' has no ", ref));
    return it->second;
  }
  absl::StatusOr<std::vector<std::string>> Models() override { return std::vector<std::string>{}; }

  void Set(absl::string_view model, absl::string_view ref, absl::string_view version) {
    absl::MutexLock lock(&mu);
    names[absl::StrCat(model, "\n", ref)] = std::string(version);
  }
  void SetVersions(absl::string_view model, std::vector<std::string> oldest_first) {
    absl::MutexLock lock(&mu);
    versions[model] = std::move(oldest_first);
  }
  void Fail(absl::Status status) {
    absl::MutexLock lock(&mu);
    failure = std::move(status);
  }

  std::atomic<int> asked{0};
  std::atomic<absl::Notification*> hold{nullptr};
  absl::Notification holding;

 private:
  absl::Mutex mu;
  absl::flat_hash_map<std::string, std::string> names ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<std::string, std::vector<std::string>> versions ABSL_GUARDED_BY(mu);
  absl::Status failure ABSL_GUARDED_BY(mu);
};

// A resolver whose expired answers are asked again on a thread of its own, which finishes its
// work before the resolver goes.
class RefreshingResolver {
 public:
  RefreshingResolver(ScriptedSource* source, absl::Duration time_to_live)
      : resolver_({.source = source, .time_to_live = time_to_live, .refresher = &*refresher_}) {}
  ~RefreshingResolver() { refresher_.reset(); }
  VersionResolver* operator->() { return &resolver_; }

 private:
  std::optional<ThreadPool> refresher_{ThreadPoolOptions{.threads = 1}};
  VersionResolver resolver_;
};

TEST(VersionResolverTest, RemembersAnswersForTheirTimeToLive) {
  ScriptedSource source;
  source.Set("m", "production", "1.0.0");
  VersionResolver resolver({.source = &source, .time_to_live = absl::Milliseconds(500)});
  EXPECT_FALSE(resolver.Remembered("m", "production").has_value()) << "nothing asked yet";
  for (int i = 0; i < 100; ++i) ASSERT_EQ(resolver.Resolve("m", "production").value(), "1.0.0");
  EXPECT_EQ(source.asked.load(), 1);
  EXPECT_EQ(resolver.Remembered("m", "production")->value(), "1.0.0");

  source.Set("m", "production", "2.0.0");
  EXPECT_EQ(resolver.Resolve("m", "production").value(), "1.0.0") << "within its time to live";
  absl::SleepFor(absl::Milliseconds(600));
  EXPECT_FALSE(resolver.Remembered("m", "production").has_value()) << "expired, and no refresher";
  EXPECT_EQ(resolver.Resolve("m", "production").value(), "2.0.0");
  EXPECT_EQ(source.asked.load(), 2);
}

TEST(VersionResolverTest, TheEmptyReferenceNamesTheNewestRelease) {
  ScriptedSource source;
  source.Set("m", "latest", "3.1.0");
  VersionResolver resolver({.source = &source});
  EXPECT_EQ(resolver.Resolve("m", "").value(), "3.1.0");
  EXPECT_EQ(resolver.Resolve("unknown", "").status().code(), absl::StatusCode::kNotFound);
  // Not a pre-release pushed after the newest release, as "latest" would not; but one when the
  // model has nothing else.
  source.SetVersions("rc", {"1.0.0", "1.1.0", "2.0.0-rc.1"});
  EXPECT_EQ(resolver.Resolve("rc", "").value(), "1.1.0");
  source.SetVersions("early", {"0.1.0-alpha", "0.1.0-beta"});
  EXPECT_EQ(resolver.Resolve("early", "").value(), "0.1.0-beta");
}

TEST(VersionResolverTest, NamesThatNameNothingAreRememberedButNeverServedPastTheirTimeToLive) {
  ScriptedSource source;
  RefreshingResolver resolver(&source, absl::Milliseconds(100));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(resolver->Resolve("typo", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(source.asked.load(), 1) << "a repeated wrong name costs one question";
  auto remembered = resolver->Remembered("typo", "");
  ASSERT_TRUE(remembered.has_value());
  EXPECT_EQ(remembered->status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(resolver->KnowsModel("typo"));

  absl::SleepFor(absl::Milliseconds(150));
  EXPECT_FALSE(resolver->Remembered("typo", "").has_value()) << "a model pushed since must be found";
}

TEST(VersionResolverTest, WithARefresherAnExpiredVersionKeepsServingWhileItIsAskedAgain) {
  ScriptedSource source;
  source.Set("m", "production", "1.0.0");
  RefreshingResolver resolver(&source, absl::Milliseconds(50));
  ASSERT_EQ(resolver->Resolve("m", "production").value(), "1.0.0");
  EXPECT_TRUE(resolver->KnowsModel("m"));
  source.Set("m", "production", "2.0.0");
  absl::SleepFor(absl::Milliseconds(80));
  absl::Notification hold;
  source.hold = &hold;
  // Expired: the old answer at once, one question in the background however many ask.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(resolver->Remembered("m", "production")->value(), "1.0.0");
  source.holding.WaitForNotification();
  hold.Notify();
  for (int i = 0; i < 200 && resolver->Remembered("m", "production")->value() != "2.0.0"; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(resolver->Remembered("m", "production")->value(), "2.0.0");
  EXPECT_EQ(source.asked.load(), 2);
}

TEST(VersionResolverTest, AStoreThatCannotAnswerIsNotRememberedAndTheLastAnswerKeepsServing) {
  ScriptedSource source;
  source.Set("m", "production", "1.0.0");
  RefreshingResolver resolver(&source, absl::Milliseconds(50));
  ASSERT_EQ(resolver->Resolve("m", "production").value(), "1.0.0");
  source.Fail(absl::UnavailableError("the metadata store is unreachable"));
  EXPECT_EQ(resolver->Resolve("other", "production").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(resolver->Remembered("other", "production").has_value());

  absl::SleepFor(absl::Milliseconds(80));
  const int before = source.asked.load();
  EXPECT_EQ(resolver->Remembered("m", "production")->value(), "1.0.0");
  for (int i = 0; i < 200 && source.asked.load() == before; ++i) absl::SleepFor(absl::Milliseconds(5));
  absl::SleepFor(absl::Milliseconds(20));
  // The failed refresh left the answer in place, and the next use asks again.
  EXPECT_EQ(resolver->Remembered("m", "production")->value(), "1.0.0");
  for (int i = 0; i < 200 && source.asked.load() < before + 2; ++i) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_GE(source.asked.load(), before + 2);
}

TEST(VersionResolverTest, ForgetDropsAModelsAnswersAndAnAnswerAskedBeforeIt) {
  ScriptedSource source;
  source.Set("m", "production", "1.0.0");
  source.Set("n", "production", "5.0.0");
  VersionResolver resolver({.source = &source, .time_to_live = absl::Hours(1)});
  ASSERT_EQ(resolver.Resolve("m", "production").value(), "1.0.0");
  ASSERT_EQ(resolver.Resolve("n", "production").value(), "5.0.0");
  source.Set("m", "production", "2.0.0");
  resolver.Forget("m");
  EXPECT_FALSE(resolver.Remembered("m", "production").has_value());
  EXPECT_EQ(resolver.Remembered("n", "production")->value(), "5.0.0") << "other models are kept";
  EXPECT_EQ(resolver.Resolve("m", "production").value(), "2.0.0");

  // A question in flight when the registry changes: its answer may be the old one, so it is not
  // remembered.
  resolver.Forget("m");
  absl::Notification hold;
  source.hold = &hold;
  std::thread asking([&] { EXPECT_EQ(resolver.Resolve("m", "production").value(), "2.0.0"); });
  source.holding.WaitForNotification();
  resolver.Forget("m");
  hold.Notify();
  asking.join();
  EXPECT_FALSE(resolver.Remembered("m", "production").has_value());
}

TEST(VersionResolverTest, ClientChosenReferencesCannotGrowItPastItsBound) {
  ScriptedSource source;
  VersionResolver resolver({.source = &source, .max_answers = 3});
  for (int i = 0; i < 3; ++i) (void)resolver.Resolve("m", absl::StrCat("alias", i));
  EXPECT_TRUE(resolver.Remembered("m", "alias0").has_value());
  (void)resolver.Resolve("m", "alias3");
  EXPECT_FALSE(resolver.Remembered("m", "alias0").has_value()) << "started over";
  EXPECT_TRUE(resolver.Remembered("m", "alias3").has_value());
}

}  // namespace
}  // namespace meridian::serving
