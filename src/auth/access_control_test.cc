#include "auth/access_control.h"

#include "absl/strings/str_cat.h"
#include "auth/api_token.h"
#include "gmock/gmock.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"

namespace meridian::auth {
namespace {

using ::testing::HasSubstr;

class AccessControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *store::SqliteStore::Open({.path = ":memory:"});
    access_ = *AccessControl::Create(
        {.store = store_.get(), .clock = &clock_, .limiter = {.max_failures = 3}, .refresh_interval = absl::ZeroDuration()});
  }
  std::string Bearer(const std::string& token) { return "Bearer " + token; }

  testing::FakeClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<AccessControl> access_;
  const Principal admin_{{SubjectKind::kUser, kAdminUser}, ""};
};

TEST_F(AccessControlTest, FirstStartMakesAnAdministratorTokenOnceAndItCanDoEverything) {
  auto first = access_->Bootstrap("");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->has_value());
  auto second = access_->Bootstrap("");
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->has_value()) << "shown once: a later start makes no new token";

  Authentication authn = access_->Authenticate(Bearer(**first), "127.0.0.1");
  ASSERT_TRUE(authn.status.ok()) << authn.status;
  EXPECT_EQ(authn.principal.Name(), "user:admin");
  EXPECT_TRUE(access_->Authorize(authn.principal, "any-namespace", "tokens", "create").allowed);
  // Only the hash is stored.
  auto tokens = store_->ListTokens();
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*first)->find(tokens->front().secret_hash), std::string::npos);
}

TEST_F(AccessControlTest, AnAdminTokenFromTheEnvironmentIsStoredOnceAndMustBeWellFormed) {
  auto issued = IssueToken();
  ASSERT_TRUE(access_->Bootstrap(issued->token).ok());
  ASSERT_TRUE(access_->Bootstrap(issued->token).ok());  // a restart with the same variable
  EXPECT_EQ(store_->ListTokens()->size(), 1u);
  EXPECT_TRUE(access_->Authenticate(Bearer(issued->token), "c").status.ok());
  auto bad = access_->Bootstrap("hunter2");
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("meridian token generate"));
  EXPECT_THAT(std::string(bad.status().message()), ::testing::Not(HasSubstr("hunter2")));
}

TEST_F(AccessControlTest, TokensExpireAndRevokeImmediately) {
  auto created = access_->CreateToken({.subject = {SubjectKind::kServiceAccount, "ci"}, .lifetime = absl::Hours(1)}, admin_);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->record.created_by, "user:admin");
  EXPECT_TRUE(access_->Authenticate(Bearer(created->token), "c").status.ok());
  clock_.Advance(absl::Hours(1));
  Authentication expired = access_->Authenticate(Bearer(created->token), "c");
  EXPECT_TRUE(absl::IsUnauthenticated(expired.status));
  EXPECT_THAT(std::string(expired.status.message()), HasSubstr("expired"));

  auto other = access_->CreateToken({.subject = {SubjectKind::kUser, "bob"}}, admin_);
  ASSERT_TRUE(access_->Authenticate(Bearer(other->token), "c").status.ok());
  ASSERT_TRUE(access_->RevokeToken(other->record.id).ok());
  Authentication revoked = access_->Authenticate(Bearer(other->token), "c");
  EXPECT_THAT(std::string(revoked.status.message()), HasSubstr("revoked"));
  EXPECT_TRUE(absl::IsNotFound(access_->RevokeToken("000000000000")));
}

TEST_F(AccessControlTest, BadCredentialsAreUnauthenticatedWithoutEchoingThem) {
  auto created = access_->CreateToken({.subject = {SubjectKind::kUser, "bob"}}, admin_);
  std::string wrong_secret = created->token;
  wrong_secret.back() = wrong_secret.back() == 'A' ? 'B' : 'A';
  int client = 0;  // one address each, so that the lock-out (3 failures here) stays out of the way
  for (const std::string& header : {std::string(), std::string("Basic YWRtaW46YWRtaW4="), Bearer("nope"),
                                    Bearer(wrong_secret)}) {
    Authentication authn = access_->Authenticate(header, absl::StrCat("10.1.1.", ++client));
    EXPECT_TRUE(absl::IsUnauthenticated(authn.status)) << header << ": " << authn.status;
    if (header.size() > 10) {
      EXPECT_THAT(std::string(authn.status.message()), ::testing::Not(HasSubstr(header.substr(7))));
    }
  }
}

TEST_F(AccessControlTest, GuessingIsLockedOutPerAddressWhileKnownGoodTokensKeepWorking) {
  auto good = access_->CreateToken({.subject = {SubjectKind::kUser, "bob"}}, admin_);
  ASSERT_TRUE(access_->Authenticate(Bearer(good->token), "10.0.0.9").status.ok());
  for (int i = 0; i < 3; ++i) access_->Authenticate(Bearer(IssueToken()->token), "10.0.0.9");
  Authentication locked = access_->Authenticate(Bearer(IssueToken()->token), "10.0.0.9");
  EXPECT_TRUE(absl::IsResourceExhausted(locked.status)) << locked.status;
  EXPECT_GT(locked.retry_after, absl::ZeroDuration());
  EXPECT_TRUE(access_->Authenticate(Bearer(good->token), "10.0.0.9").status.ok()) << "valid client, same address";
  EXPECT_TRUE(access_->Authenticate(Bearer(good->token), "10.0.0.10").status.ok()) << "other address";
  clock_.Advance(absl::Minutes(1));
  EXPECT_TRUE(absl::IsUnauthenticated(access_->Authenticate(Bearer(IssueToken()->token), "10.0.0.9").status));
}

TEST_F(AccessControlTest, RolesAndBindingsGrantPerNamespaceAndBuiltInsAreFixed) {
  Principal bob{{SubjectKind::kUser, "bob"}, ""};
  EXPECT_FALSE(access_->Authorize(bob, "team-a", "models", "get").allowed);
  ASSERT_TRUE(access_->PutBinding({"bob-views", "team-a", "viewer", {{SubjectKind::kUser, "bob"}}}).ok());
  EXPECT_TRUE(access_->Authorize(bob, "team-a", "models", "get").allowed);
  EXPECT_FALSE(access_->Authorize(bob, "team-b", "models", "get").allowed);
  AccessDecision denied = access_->Authorize(bob, "team-a", "models", "delete");
  EXPECT_FALSE(denied.allowed);
  EXPECT_THAT(denied.reason, HasSubstr("models/delete"));

  ASSERT_TRUE(access_->PutRole({"pruner", {{{"versions"}, {"delete"}}}}).ok());
  ASSERT_TRUE(access_->PutBinding({"bob-prunes", "", "pruner", {{SubjectKind::kUser, "bob"}}}).ok());
  EXPECT_TRUE(access_->Authorize(bob, "team-b", "versions", "delete").allowed);

  EXPECT_TRUE(absl::IsFailedPrecondition(access_->PutRole({"admin", {{{"models"}, {"get"}}}})));
  EXPECT_TRUE(absl::IsFailedPrecondition(access_->DeleteRole("viewer")));
  EXPECT_TRUE(absl::IsInvalidArgument(access_->PutRole({"typo", {{{"modles"}, {"get"}}}})));
  EXPECT_TRUE(absl::IsInvalidArgument(access_->PutBinding({"x", "", "no-such-role", {{SubjectKind::kUser, "bob"}}})));
  EXPECT_TRUE(absl::IsInvalidArgument(access_->PutBinding({"Bad Name", "", "viewer", {{SubjectKind::kUser, "bob"}}})));
  EXPECT_TRUE(absl::IsFailedPrecondition(access_->DeleteRole("pruner"))) << "still bound";
}

TEST_F(AccessControlTest, ABindingMayGrantOnlyWhatItsAuthorHolds) {
  const Principal carol{{SubjectKind::kUser, "carol"}, ""};
  ASSERT_TRUE(access_->PutRole({"binder", {{{"bindings"}, {"update"}}}}).ok());
  ASSERT_TRUE(access_->PutRole({"reader", {{{"models"}, {"get"}}}}).ok());
  ASSERT_TRUE(access_->PutBinding({"carol-binds", "team-a", "binder", {{SubjectKind::kUser, "carol"}}}).ok());
  ASSERT_TRUE(access_->PutBinding({"carol-manages", "team-a", "model-manager", {{SubjectKind::kUser, "carol"}}}).ok());

  EXPECT_TRUE(access_->CheckCanGrant(carol, "team-a", "reader").ok());
  absl::Status admin = access_->CheckCanGrant(carol, "team-a", "admin");
  EXPECT_TRUE(absl::IsPermissionDenied(admin)) << admin;
  absl::Status predictor = access_->CheckCanGrant(carol, "team-a", "predictor");
  EXPECT_THAT(std::string(predictor.message()), HasSubstr("predictions/predict"));
  EXPECT_TRUE(absl::IsPermissionDenied(access_->CheckCanGrant(carol, "team-b", "reader"))) << "only where she holds it";
  EXPECT_TRUE(absl::IsPermissionDenied(access_->CheckCanGrant(carol, "", "reader"))) << "not cluster-wide";
  EXPECT_FALSE(access_->CheckCanGrant(admin_, "", "admin").ok()) << "no binding yet for admin here";
  ASSERT_TRUE(access_->PutBinding({kAdminBinding, "", "admin", {{SubjectKind::kUser, kAdminUser}}}).ok());
  EXPECT_TRUE(access_->CheckCanGrant(admin_, "", "admin").ok());
  EXPECT_TRUE(absl::IsInvalidArgument(access_->CheckCanGrant(admin_, "", "no-such-role")));
}

TEST_F(AccessControlTest, AnotherReplicasChangesArriveWithAReload) {
  auto replica = *AccessControl::Create({.store = store_.get(), .clock = &clock_, .refresh_interval = absl::ZeroDuration()});
  auto created = access_->CreateToken({.subject = {SubjectKind::kUser, "bob"}}, admin_);
  EXPECT_FALSE(replica->Authenticate(Bearer(created->token), "c").status.ok());
  ASSERT_TRUE(replica->Reload().ok());
  EXPECT_TRUE(replica->Authenticate(Bearer(created->token), "c").status.ok());
}

}  // namespace
}  // namespace meridian::auth
