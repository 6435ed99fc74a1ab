#include "store/metadata_store_test_suite.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "store/deployment_store.h"
#include "store/security_store.h"

namespace meridian::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

ModelRecord Model(const std::string& name, Tags tags = {}) {
  return ModelRecord{.name = name, .namespace_name = "team-a", .description = "d", .tags = std::move(tags),
                     .owner = "alice", .created_at = kT0, .updated_at = kT0};
}

VersionRecord Version(const std::string& model, const std::string& version,
                      const std::string& digest = "sha256:aa") {
  return VersionRecord{.model = model, .version = version, .framework = "onnx",
                       .artifact_digest = digest, .artifact_size = 42,
                       .metadata_json = R"({"accuracy":0.95,"note":"ünïcode ✓"})",
                       .tags = {{"stage", "test"}},
                       .lineage = {"s3://bucket/run", "0.9.0", "run-7"},
                       .created_by = "alice", .created_at = kT0 + absl::Seconds(1),
                       .status = VersionStatus::kReady};
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST_P(MetadataStoreTest, ModelsRoundTrip) {
  ASSERT_TRUE(store_->CreateModel(Model("clf", {{"team", "vision"}})).ok());
  auto m = store_->GetModel("clf");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->namespace_name, "team-a");
  EXPECT_EQ(m->owner, "alice");
  EXPECT_EQ(m->tags.at("team"), "vision");
  EXPECT_EQ(m->created_at, kT0);

  EXPECT_EQ(store_->CreateModel(Model("clf")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetModel("nope").status().code(), absl::StatusCode::kNotFound);

  ModelRecord changed = *m;
  changed.description = "new";
  changed.tags = {{"team", "nlp"}};
  changed.updated_at = kT0 + absl::Hours(1);
  ASSERT_TRUE(store_->UpdateModel(changed).ok());
  EXPECT_EQ(store_->GetModel("clf")->description, "new");
  EXPECT_EQ(store_->GetModel("clf")->updated_at, kT0 + absl::Hours(1));
  EXPECT_EQ(store_->UpdateModel(Model("ghost")).code(), absl::StatusCode::kNotFound);
}

TEST_P(MetadataStoreTest, ListModelsPaginatesAndFilters) {
  for (const char* name : {"a-1", "a-2", "a-3", "b-1", "a-4"}) {
    ASSERT_TRUE(store_->CreateModel(Model(name, {{"team", name[0] == 'a' ? "x" : "y"}})).ok());
  }
  std::vector<std::string> seen;
  ListModelsOptions options{.name_prefix = "a-", .page_size = 2};
  for (int pages = 0; pages < 10; ++pages) {
    auto page = store_->ListModels(options);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& m : page->models) seen.push_back(m.name);
    if (page->next_page_token.empty()) break;
    options.page_token = page->next_page_token;
  }
  EXPECT_THAT(seen, ElementsAre("a-1", "a-2", "a-3", "a-4"));

  auto tagged = store_->ListModels({.tag = std::make_pair(std::string("team"), std::string("y"))});
  ASSERT_TRUE(tagged.ok()) << tagged.status();
  ASSERT_EQ(tagged->models.size(), 1u);
  EXPECT_EQ(tagged->models[0].name, "b-1");

  EXPECT_EQ(store_->ListModels({.page_token = "%%%"}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(MetadataStoreTest, NamesAreDataNotSql) {
  const std::string tricky = "x'); DROP TABLE models; --";
  ASSERT_TRUE(store_->CreateModel(Model(tricky)).ok());
  EXPECT_EQ(store_->GetModel(tricky)->name, tricky);
  EXPECT_TRUE(store_->ListModels({}).ok());
}

TEST_P(MetadataStoreTest, VersionsRoundTrip) {
  EXPECT_EQ(store_->CreateVersion(Version("clf", "1.0.0")).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->CreateModel(Model("clf")).ok());
  ASSERT_TRUE(store_->CreateVersion(Version("clf", "1.0.0")).ok());
  ASSERT_TRUE(store_->CreateVersion(Version("clf", "1.1.0-rc.1")).ok());
  auto dup = store_->CreateVersion(Version("clf", "1.0.0"));
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(Message(dup), HasSubstr("1.0.0"));

  auto v = store_->GetVersion("clf", "1.0.0");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->framework, "onnx");
  EXPECT_EQ(v->artifact_digest, "sha256:aa");
  EXPECT_EQ(v->artifact_size, 42u);
  EXPECT_EQ(v->metadata_json, R"({"accuracy":0.95,"note":"ünïcode ✓"})");
  EXPECT_EQ(v->tags.at("stage"), "test");
  EXPECT_EQ(v->lineage.parent_version, "0.9.0");
  EXPECT_EQ(v->lineage.run_id, "run-7");
  EXPECT_EQ(v->status, VersionStatus::kReady);
  EXPECT_EQ(v->created_at, kT0 + absl::Seconds(1));

  auto all = store_->ListVersions("clf");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(store_->ListVersions("ghost").status().code(), absl::StatusCode::kNotFound);

  VersionRecord archived = *v;
  archived.status = VersionStatus::kArchived;
  archived.metadata_json = "{}";
  ASSERT_TRUE(store_->UpdateVersion(archived).ok());
  EXPECT_EQ(store_->GetVersion("clf", "1.0.0")->status, VersionStatus::kArchived);
  EXPECT_EQ(store_->GetVersion("clf", "9.9.9").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(MetadataStoreTest, DeletingRespectsVersionsAliasesAndReferences) {
  ASSERT_TRUE(store_->CreateModel(Model("clf")).ok());
  ASSERT_TRUE(store_->CreateVersion(Version("clf", "1.0.0", "sha256:one")).ok());
  ASSERT_TRUE(store_->CreateVersion(Version("clf", "2.0.0", "sha256:one")).ok());
  EXPECT_EQ(*store_->CountArtifactUses("sha256:one"), 2);

  auto model_delete = store_->DeleteModel("clf");
  EXPECT_EQ(model_delete.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(model_delete), HasSubstr("2 version"));

  ASSERT_TRUE(store_->SetAlias({"clf", "production", "1.0.0", "bob", kT0}, "launch").ok());
  auto aliased = store_->DeleteVersion("clf", "1.0.0");
  EXPECT_EQ(aliased.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(aliased), HasSubstr("production"));

  ASSERT_TRUE(store_->AddVersionReference("clf", "2.0.0", "deployment/clf-prod").ok());
  auto referenced = store_->DeleteVersion("clf", "2.0.0");
  EXPECT_EQ(referenced.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(referenced), HasSubstr("deployment/clf-prod"));
  ASSERT_TRUE(store_->RemoveVersionReference("clf", "2.0.0", "deployment/clf-prod").ok());
  ASSERT_TRUE(store_->DeleteVersion("clf", "2.0.0").ok());
  EXPECT_EQ(*store_->CountArtifactUses("sha256:one"), 1);
  EXPECT_EQ(store_->DeleteVersion("clf", "2.0.0").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->AddVersionReference("clf", "7.0.0", "x").code(), absl::StatusCode::kNotFound);

  ASSERT_TRUE(store_->DeleteAlias("clf", "production", "bob", "retire", kT0).ok());
  ASSERT_TRUE(store_->DeleteVersion("clf", "1.0.0").ok());
  ASSERT_TRUE(store_->DeleteModel("clf").ok());
  EXPECT_EQ(store_->GetModel("clf").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteModel("clf").code(), absl::StatusCode::kNotFound);
}

TEST_P(MetadataStoreTest, AliasesRecordEveryMove) {
  ASSERT_TRUE(store_->CreateModel(Model("clf")).ok());
  ASSERT_TRUE(store_->CreateVersion(Version("clf", "1.0.0")).ok());
  ASSERT_TRUE(store_->CreateVersion(Version("clf", "1.1.0")).ok());

  EXPECT_EQ(store_->SetAlias({"clf", "production", "3.0.0", "bob", kT0}, "").code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->SetAlias({"clf", "production", "1.0.0", "bob", kT0}, "first").ok());
  ASSERT_TRUE(store_->SetAlias({"clf", "production", "1.1.0", "carol", kT0 + absl::Minutes(1)}, "upgrade").ok());
  ASSERT_TRUE(store_->SetAlias({"clf", "staging", "1.1.0", "carol", kT0}, "").ok());

  auto prod = store_->GetAlias("clf", "production");
  ASSERT_TRUE(prod.ok());
  EXPECT_EQ(prod->version, "1.1.0");
  EXPECT_EQ(prod->updated_by, "carol");
  EXPECT_EQ(store_->ListAliases("clf")->size(), 2u);
  EXPECT_EQ(store_->GetAlias("clf", "canary").status().code(), absl::StatusCode::kNotFound);

  ASSERT_TRUE(store_->DeleteAlias("clf", "production", "dave", "incident", kT0 + absl::Minutes(2)).ok());
  EXPECT_EQ(store_->DeleteAlias("clf", "production", "dave", "", kT0).code(), absl::StatusCode::kNotFound);

  auto history = store_->AliasHistory("clf", "production");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].previous_version, "");
  EXPECT_EQ((*history)[0].version, "1.0.0");
  EXPECT_EQ((*history)[0].reason, "first");
  EXPECT_EQ((*history)[1].previous_version, "1.0.0");
  EXPECT_EQ((*history)[1].version, "1.1.0");
  EXPECT_EQ((*history)[1].actor, "carol");
  EXPECT_EQ((*history)[2].previous_version, "1.1.0");
  EXPECT_EQ((*history)[2].version, "");
  EXPECT_EQ((*history)[2].time, kT0 + absl::Minutes(2));
  EXPECT_LT((*history)[0].id, (*history)[1].id);
}

// The security half: every store implements SecurityStore too.
SecurityStore& Security(const std::unique_ptr<MetadataStore>& store) {
  auto* security = dynamic_cast<SecurityStore*>(store.get());
  EXPECT_NE(security, nullptr);
  return *security;
}

TEST_P(MetadataStoreTest, TokensKeepTheirHashExpiryAndRevocation) {
  SecurityStore& s = Security(store_);
  TokenRecord a{.id = "aaaaaaaaaaaa", .secret_hash = "h1", .subject_kind = "user", .subject = "alice",
                .description = "laptop", .created_by = "admin", .created_at = kT0};
  TokenRecord b = a;
  b.id = "bbbbbbbbbbbb";
  b.subject_kind = "serviceaccount";
  b.subject = "ci";
  b.created_at = kT0 + absl::Seconds(1);
  b.expires_at = kT0 + absl::Hours(1);
  ASSERT_TRUE(s.CreateToken(a).ok());
  ASSERT_TRUE(s.CreateToken(b).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(s.CreateToken(a)));

  ASSERT_TRUE(s.RevokeToken("aaaaaaaaaaaa", kT0 + absl::Minutes(5)).ok());
  ASSERT_TRUE(s.RevokeToken("aaaaaaaaaaaa", kT0 + absl::Minutes(9)).ok());  // keeps the first time
  EXPECT_TRUE(absl::IsNotFound(s.RevokeToken("cccccccccccc", kT0)));

  auto tokens = s.ListTokens();
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].id, "aaaaaaaaaaaa");
  EXPECT_EQ((*tokens)[0].secret_hash, "h1");
  EXPECT_EQ((*tokens)[0].revoked_at, kT0 + absl::Minutes(5));
  EXPECT_EQ((*tokens)[0].expires_at, absl::InfiniteFuture());
  EXPECT_EQ((*tokens)[1].subject, "ci");
  EXPECT_EQ((*tokens)[1].subject_kind, "serviceaccount");
  EXPECT_EQ((*tokens)[1].expires_at, kT0 + absl::Hours(1));
  EXPECT_EQ((*tokens)[1].revoked_at, absl::InfiniteFuture());
}

TEST_P(MetadataStoreTest, RolesAndBindingsAreReplacedByNameAndGuardEachOther) {
  SecurityStore& s = Security(store_);
  ASSERT_TRUE(s.PutRole({"reader", R"([{"resources":["models"],"verbs":["get"]}])", kT0}).ok());
  ASSERT_TRUE(s.PutRole({"reader", R"([{"resources":["models"],"verbs":["get","list"]}])", kT0}).ok());
  ASSERT_TRUE(s.PutRoleBinding({"read", "team-a", "reader", R"([{"kind":"user","name":"bob"}])", kT0}).ok());
  ASSERT_TRUE(s.PutRoleBinding({"read", "", "reader", "[]", kT0}).ok());  // same name, cluster-wide
  auto roles = s.ListRoles();
  ASSERT_TRUE(roles.ok());
  ASSERT_EQ(roles->size(), 1u);
  EXPECT_THAT((*roles)[0].rules_json, HasSubstr("list"));
  auto bindings = s.ListRoleBindings();
  ASSERT_TRUE(bindings.ok());
  ASSERT_EQ(bindings->size(), 2u);
  EXPECT_EQ((*bindings)[0].namespace_name, "");
  EXPECT_EQ((*bindings)[1].namespace_name, "team-a");
  EXPECT_THAT((*bindings)[1].subjects_json, HasSubstr("bob"));

  absl::Status in_use = s.DeleteRole("reader");
  EXPECT_TRUE(absl::IsFailedPrecondition(in_use)) << in_use;
  EXPECT_THAT(Message(in_use), HasSubstr("read"));
  ASSERT_TRUE(s.DeleteRoleBinding("team-a", "read").ok());
  ASSERT_TRUE(s.DeleteRoleBinding("", "read").ok());
  EXPECT_TRUE(absl::IsNotFound(s.DeleteRoleBinding("", "read")));
  ASSERT_TRUE(s.DeleteRole("reader").ok());
  EXPECT_TRUE(absl::IsNotFound(s.DeleteRole("reader")));
}

TEST_P(MetadataStoreTest, AuditRecordsAppendInOrderAndFilter) {
  SecurityStore& s = Security(store_);
  std::vector<AuditRecord> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back({.time = kT0 + absl::Seconds(i), .request_id = absl::StrCat("r", i),
                     .subject = i % 2 == 0 ? "user:alice" : "user:bob", .client = "127.0.0.1", .method = "POST",
                     .target = "/api/v1/models", .namespace_name = "default", .resource = "models",
                     .verb = "create", .status = i == 4 ? 403 : 201, .result = i == 4 ? "denied" : "allowed",
                     .reason = "ünïcode ✓"});
  }
  ASSERT_TRUE(s.AppendAudit(batch).ok());
  auto all = s.QueryAudit({});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 5u);
  EXPECT_LT((*all)[0].id, (*all)[1].id);
  EXPECT_EQ((*all)[4].status, 403);
  EXPECT_EQ((*all)[4].reason, "ünïcode ✓");
  EXPECT_EQ((*all)[2].time, kT0 + absl::Seconds(2));

  auto alice = s.QueryAudit({.subject = "user:alice"});
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(alice->size(), 3u);
  auto denied = s.QueryAudit({.result = "denied"});
  ASSERT_TRUE(denied.ok());
  ASSERT_EQ(denied->size(), 1u);
  EXPECT_EQ((*denied)[0].request_id, "r4");
  auto window = s.QueryAudit({.since = kT0 + absl::Seconds(1), .until = kT0 + absl::Seconds(3)});
  ASSERT_TRUE(window.ok());
  EXPECT_EQ(window->size(), 2u);
  auto page = s.QueryAudit({.after_id = (*all)[2].id, .limit = 1});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].request_id, "r3");
}

// The deployments part: every store implements DeploymentStore too.
DeploymentStore& Deployments(const std::unique_ptr<MetadataStore>& store) {
  auto* deployments = dynamic_cast<DeploymentStore*>(store.get());
  EXPECT_NE(deployments, nullptr);
  return *deployments;
}

TEST_P(MetadataStoreTest, DeploymentRevisionsAreNumberedAndDeletedWithTheirDeployment) {
  DeploymentStore& d = Deployments(store_);
  DeploymentRevisionRecord rev{.namespace_name = "team-a", .name = "mlp", .spec_json = R"({"model":"mlp"})",
                               .spec_hash = "h1", .actor = "alice", .reason = "applied", .created_at = kT0};
  auto first = d.AppendDeploymentRevision(rev);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->current.revision, 1);
  EXPECT_EQ(first->created_at, kT0);
  rev.spec_json = R"({"model":"mlp","replicas":2})";
  rev.spec_hash = "h2";
  rev.created_at = kT0 + absl::Seconds(5);
  auto second = d.AppendDeploymentRevision(rev);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->current.revision, 2);
  EXPECT_EQ(second->created_at, kT0);  // the deployment's creation, not the revision's
  ASSERT_TRUE(d.AppendDeploymentRevision({.namespace_name = "team-b", .name = "mlp", .spec_json = "{}",
                                          .spec_hash = "x", .created_at = kT0})
                  .ok());

  auto got = d.GetDeployment("team-a", "mlp");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->current.spec_hash, "h2");
  EXPECT_EQ(got->current.spec_json, R"({"model":"mlp","replicas":2})");
  EXPECT_TRUE(absl::IsNotFound(d.GetDeployment("team-c", "mlp").status()));

  auto all = d.ListDeployments("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].namespace_name, "team-a");
  auto team_b = d.ListDeployments("team-b");
  ASSERT_TRUE(team_b.ok());
  EXPECT_EQ(team_b->size(), 1u);

  auto history = d.ListDeploymentRevisions("team-a", "mlp");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].spec_hash, "h1");
  EXPECT_EQ((*history)[1].created_at, kT0 + absl::Seconds(5));

  ASSERT_TRUE(d.DeleteDeployment("team-a", "mlp").ok());
  EXPECT_TRUE(absl::IsNotFound(d.GetDeployment("team-a", "mlp").status()));
  EXPECT_TRUE(absl::IsNotFound(d.ListDeploymentRevisions("team-a", "mlp").status()));
  EXPECT_TRUE(absl::IsNotFound(d.DeleteDeployment("team-a", "mlp")));
  // A new deployment of the same name starts its history again.
  auto again = d.AppendDeploymentRevision(rev);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->current.revision, 1);
}

TEST_P(MetadataStoreTest, ResourceQuotasAreReplacedByNamespaceAndName) {
  DeploymentStore& d = Deployments(store_);
  ASSERT_TRUE(d.PutResourceQuota({"team-a", "compute", R"({"requests.cpu":4000})", kT0}).ok());
  ASSERT_TRUE(d.PutResourceQuota({"team-a", "compute", R"({"requests.cpu":2000})", kT0 + absl::Seconds(1)}).ok());
  ASSERT_TRUE(d.PutResourceQuota({"team-b", "gpus", R"({"requests.nvidia.com/gpu":1000})", kT0}).ok());
  auto all = d.ListResourceQuotas();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].hard_json, R"({"requests.cpu":2000})");
  EXPECT_EQ((*all)[0].updated_at, kT0 + absl::Seconds(1));
  ASSERT_TRUE(d.DeleteResourceQuota("team-a", "compute").ok());
  EXPECT_TRUE(absl::IsNotFound(d.DeleteResourceQuota("team-a", "compute")));
  EXPECT_EQ(d.ListResourceQuotas()->size(), 1u);
}

}  // namespace
}  // namespace meridian::store
