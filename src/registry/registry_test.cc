#include "registry/registry.h"


#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/in_memory_registry.h"

namespace meridian::registry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using store::VersionStatus;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(registry_->CreateModel({.name = "clf"}, "alice").ok()); }

  std::string Upload(const std::string& content) { return stores_.Upload(content); }

  absl::StatusOr<store::VersionRecord> Register(const std::string& version, const std::string& content = "w") {
    return registry_->RegisterVersion({.model = "clf", .version = version, .framework = "onnx",
                                       .artifact_digest = Upload(content)},
                                      "alice");
  }

  std::vector<std::string> Versions(VersionOrder order = VersionOrder::kAscending) {
    std::vector<std::string> out;
    auto versions = registry_->ListVersions("clf", order);
    if (!versions.ok()) return {versions.status().ToString()};
    for (const auto& v : *versions) out.push_back(v.version);
    return out;
  }

  testing::FakeClock clock_;
  testing::InMemoryRegistry stores_{"meridian-registry", {.clock = &clock_}};
  Registry* registry_ = &stores_.registry();
  store::SqliteStore* metadata_ = &stores_.store();
  store::BlobStore* blobs_ = &stores_.blobs();
};

TEST_F(RegistryTest, ValidatesModelFields) {
  for (const char* bad : {"", "UPPER", "-lead", "trail-", "has_underscore", "dots.not.allowed", "../x"}) {
    auto m = registry_->CreateModel({.name = bad}, "alice");
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(registry_->CreateModel({.name = std::string(64, 'a')}, "a").ok());
  EXPECT_TRUE(registry_->CreateModel({.name = std::string(63, 'a')}, "a").ok());
  EXPECT_FALSE(registry_->CreateModel({.name = "ok", .tags = {{"bad key!", "v"}}}, "a").ok());
  EXPECT_EQ(registry_->CreateModel({.name = "clf"}, "a").status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry_->GetModel("clf")->owner, "alice");
}

TEST_F(RegistryTest, ListsVersionsInSemVerOrder) {
  for (const char* v : {"1.10.0", "1.2.0", "1.2.0-rc.1", "0.9.0", "2.0.0-alpha"}) ASSERT_TRUE(Register(v).ok()) << v;
  EXPECT_THAT(Versions(), ElementsAre("0.9.0", "1.2.0-rc.1", "1.2.0", "1.10.0", "2.0.0-alpha"));
  EXPECT_THAT(Versions(VersionOrder::kDescending), ElementsAre("2.0.0-alpha", "1.10.0", "1.2.0", "1.2.0-rc.1", "0.9.0"));
  EXPECT_EQ(registry_->GetVersion("clf", "latest")->version, "1.10.0");  // pre-releases excluded
}

TEST_F(RegistryTest, VersionsAreImmutableAndBumped) {
  ASSERT_TRUE(Register("1.0.0").ok());
  auto again = Register("1.0.0", "other weights");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("immutable"));
  EXPECT_EQ(Register("1.0.0+build.2").status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Register("v1").status().code(), absl::StatusCode::kInvalidArgument);

  auto patch = registry_->RegisterVersion({.model = "clf", .framework = "onnx", .artifact_digest = Upload("p")}, "a");
  ASSERT_TRUE(patch.ok()) << patch.status();
  EXPECT_EQ(patch->version, "1.0.1");
  auto minor = registry_->RegisterVersion(
      {.model = "clf", .bump = SemVer::Part::kMinor, .framework = "onnx", .artifact_digest = Upload("m")}, "a");
  EXPECT_EQ(minor->version, "1.1.0");
  auto major = registry_->RegisterVersion(
      {.model = "clf", .bump = SemVer::Part::kMajor, .framework = "onnx", .artifact_digest = Upload("M")}, "a");
  EXPECT_EQ(major->version, "2.0.0");

  ASSERT_TRUE(registry_->CreateModel({.name = "fresh"}, "a").ok());
  EXPECT_EQ(registry_->RegisterVersion({.model = "fresh", .framework = "xgboost", .artifact_digest = Upload("f")}, "a")
                ->version,
            "1.0.0");
}

TEST_F(RegistryTest, RegistrationChecksItsInputsAndLeavesNothingOnError) {
  const std::string digest = Upload("w");
  auto bad = [&](RegisterVersionRequest r) { return registry_->RegisterVersion(r, "a").status(); };
  EXPECT_THAT(std::string(bad({.model = "clf", .version = "1.0.0", .framework = "tensorflow", .artifact_digest = digest}).message()),
              HasSubstr("torchscript, onnx or xgboost"));
  EXPECT_THAT(std::string(bad({.model = "clf", .version = "1.0.0", .framework = "onnx", .artifact_digest = digest,
                               .metadata_json = "{not json"}).message()),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(std::string(bad({.model = "clf", .version = "1.0.0", .framework = "onnx", .artifact_digest = digest,
                               .metadata_json = "[1,2]"}).message()),
              HasSubstr("JSON object"));
  EXPECT_THAT(std::string(bad({.model = "clf", .version = "1.0.0", .framework = "onnx", .artifact_digest = digest,
                               .metadata_json = "{\"x\":\"" + std::string(70000, 'a') + "\"}"}).message()),
              HasSubstr("limit"));
  EXPECT_EQ(bad({.model = "clf", .version = "1.0.0", .framework = "onnx",
                 .artifact_digest = "sha256:" + std::string(64, 'b')}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(bad({.model = "ghost", .version = "1.0.0", .framework = "onnx", .artifact_digest = digest}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Versions().empty());
}

TEST_F(RegistryTest, TheMetadataCheckRefusesRegistrationsAndEditsAndChangesNothing) {
  // A stand-in for the platform's serving-settings check: refuses metadata with "bad" in it.
  auto checked = std::move(*Registry::Create(
      {.metadata = metadata_,
       .blobs = blobs_,
       .clock = &clock_,
       .check_metadata = [](absl::string_view, absl::string_view json) {
         return absl::StrContains(json, "bad") ? absl::InvalidArgumentError("metadata batching: bad") : absl::OkStatus();
       }}));
  auto refused = checked->RegisterVersion(
      {.model = "clf", .version = "1.0.0", .framework = "onnx", .artifact_digest = Upload("w"), .metadata_json = R"({"bad":1})"},
      "a");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "metadata batching: bad");
  EXPECT_TRUE(Versions().empty());

  ASSERT_TRUE(checked->RegisterVersion({.model = "clf", .version = "1.0.0", .framework = "onnx",
                                        .artifact_digest = Upload("w"), .metadata_json = R"({"good":1})"},
                                       "a")
                  .ok());
  auto edit = checked->UpdateVersion("clf", "1.0.0", {.metadata_json = R"({"bad":2})"});
  EXPECT_EQ(edit.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(checked->GetVersion("clf", "1.0.0")->metadata_json, R"({"good":1})");
}

TEST_F(RegistryTest, AliasesMoveRollBackAndKeepHistory) {
  ASSERT_TRUE(Register("1.0.0", "a").ok());
  ASSERT_TRUE(Register("1.1.0", "b").ok());
  ASSERT_TRUE(Register("1.2.0", "c").ok());

  EXPECT_EQ(registry_->SetAlias("clf", "latest", "1.0.0", "bob", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->SetAlias("clf", "production", "9.9.9", "bob", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->Rollback("clf", "production", "bob", "").status().code(), absl::StatusCode::kNotFound);

  ASSERT_TRUE(registry_->SetAlias("clf", "production", "1.1.0", "bob", "launch").ok());
  EXPECT_EQ(registry_->Rollback("clf", "production", "bob", "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(registry_->SetAlias("clf", "production", "latest", "carol", "upgrade").ok());
  EXPECT_EQ(registry_->GetVersion("clf", "production")->version, "1.2.0");

  clock_.Advance(absl::Minutes(1));
  auto rolled = registry_->Rollback("clf", "production", "dave", "");
  ASSERT_TRUE(rolled.ok()) << rolled.status();
  EXPECT_EQ(rolled->version, "1.1.0");
  EXPECT_EQ(registry_->GetVersion("clf", "production")->version, "1.1.0");

  auto history = registry_->AliasHistory("clf", "production");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[2].previous_version, "1.2.0");
  EXPECT_EQ((*history)[2].version, "1.1.0");
  EXPECT_EQ((*history)[2].actor, "dave");
  EXPECT_EQ((*history)[2].reason, "rollback from 1.2.0");

  // A version an alias points at cannot be deleted; 1.0.0 can, and its artifact goes with it.
  EXPECT_EQ(registry_->DeleteVersion("clf", "1.1.0").code(), absl::StatusCode::kFailedPrecondition);
  const std::string digest = registry_->GetVersion("clf", "1.0.0")->artifact_digest;
  ASSERT_TRUE(registry_->DeleteVersion("clf", "1.0.0").ok());
  EXPECT_EQ(blobs_->Stat(digest).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RegistryTest, SharedArtifactSurvivesDeletingOneOfItsVersions) {
  ASSERT_TRUE(Register("1.0.0", "same").ok());
  ASSERT_TRUE(Register("1.0.1", "same").ok());
  const std::string digest = registry_->GetVersion("clf", "1.0.0")->artifact_digest;
  ASSERT_TRUE(registry_->DeleteVersion("clf", "1.0.0").ok());
  EXPECT_TRUE(blobs_->Stat(digest).ok());
}

TEST_F(RegistryTest, UnusedArtifactsAreCollectedAfterTheirGracePeriod) {
  ASSERT_TRUE(Register("1.0.0", "used").ok());
  const std::string orphan = Upload("uploaded but never registered");
  // The blob files carry real modification times; the fake clock decides what is old.
  clock_.Set(absl::Now());
  auto young = registry_->CollectUnusedArtifacts(absl::Hours(1));
  ASSERT_TRUE(young.ok()) << young.status();
  EXPECT_EQ(*young, 0);
  clock_.Advance(absl::Hours(2));
  auto collected = registry_->CollectUnusedArtifacts(absl::Hours(1));
  ASSERT_TRUE(collected.ok());
  EXPECT_EQ(*collected, 1);
  EXPECT_EQ(blobs_->Stat(orphan).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(blobs_->Stat(registry_->GetVersion("clf", "1.0.0")->artifact_digest).ok());
}

TEST_F(RegistryTest, ArchivedVersionsAreNotLatestNorAliasTargets) {
  ASSERT_TRUE(Register("1.0.0").ok());
  ASSERT_TRUE(Register("2.0.0").ok());
  ASSERT_TRUE(registry_->UpdateVersion("clf", "2.0.0", {.status = VersionStatus::kArchived}).ok());
  EXPECT_EQ(registry_->GetVersion("clf", "latest")->version, "1.0.0");
  EXPECT_EQ(registry_->SetAlias("clf", "production", "2.0.0", "b", "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->UpdateVersion("clf", "2.0.0", {.status = VersionStatus::kPending}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto updated = registry_->UpdateVersion("clf", "1.0.0", {.metadata_json = R"({"accuracy":0.97})", .tags = store::Tags{{"k", "v"}}});
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(registry_->GetVersion("clf", "1.0.0")->metadata_json, R"({"accuracy":0.97})");
}

// Servers forget what a model's references named when they are told; they must be told of every
// write that changes one, and of nothing else.
TEST(RegistryChangeTest, EveryWriteThatMovesAReferenceIsAnnounced) {
  std::vector<std::string> told;
  testing::InMemoryRegistry stores("meridian-registry-changes",
                                   {.on_references_changed = [&](absl::string_view model) {
                                     told.emplace_back(model);
                                   }});
  Registry& registry = stores.registry();
  ASSERT_TRUE(registry.CreateModel({.name = "clf"}, "alice").ok());
  auto reg = [&](const std::string& version) {
    return registry.RegisterVersion({.model = "clf", .version = version, .framework = "onnx",
                                     .artifact_digest = stores.Upload(version)},
                                    "alice");
  };
  auto told_since = [&, seen = size_t{0}]() mutable {
    const size_t count = told.size() - seen;
    seen = told.size();
    return count;
  };
  told_since();
  ASSERT_TRUE(reg("1.0.0").ok());
  EXPECT_EQ(told_since(), 1u);
  ASSERT_TRUE(reg("1.1.0").ok());
  ASSERT_TRUE(registry.SetAlias("clf", "production", "1.0.0", "bob", "").ok());
  ASSERT_TRUE(registry.SetAlias("clf", "production", "1.1.0", "bob", "").ok());
  ASSERT_TRUE(registry.Rollback("clf", "production", "bob", "").ok());
  EXPECT_EQ(told_since(), 4u);
  ASSERT_TRUE(registry.UpdateVersion("clf", "1.1.0", {.status = store::VersionStatus::kArchived}).ok());
  EXPECT_EQ(told_since(), 1u);
  ASSERT_TRUE(registry.DeleteAlias("clf", "production", "bob", "").ok());
  ASSERT_TRUE(registry.DeleteVersion("clf", "1.1.0").ok());
  ASSERT_TRUE(registry.DeleteVersion("clf", "1.0.0").ok());
  absl::Status deleted = registry.DeleteModel("clf");
  ASSERT_TRUE(deleted.ok()) << deleted;
  EXPECT_EQ(told_since(), 4u);
  EXPECT_THAT(told, ::testing::Each("clf"));

  // Reads and refused writes change nothing and announce nothing.
  ASSERT_TRUE(registry.CreateModel({.name = "other"}, "alice").ok());
  (void)registry.GetVersion("other", "latest");
  (void)registry.ListVersions("other", VersionOrder::kAscending);
  EXPECT_FALSE(registry.SetAlias("other", "production", "9.9.9", "bob", "").ok());
  EXPECT_FALSE(registry.RegisterVersion({.model = "other", .version = "1.0", .framework = "onnx",
                                         .artifact_digest = stores.Upload("x")}, "alice").ok());
  EXPECT_FALSE(registry.DeleteVersion("other", "1.0.0").ok());
  EXPECT_EQ(told_since(), 0u);
}

TEST_F(RegistryTest, UnknownReferencesAreClear) {
  EXPECT_EQ(registry_->GetVersion("clf", "latest").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetVersion("clf", "canary").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetVersion("clf", "Not_A_Ref!").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->GetVersion("ghost", "canary").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace meridian::registry
