#include "auth/rbac.h"

#include <gtest/gtest.h>

namespace meridian::auth {
namespace {

Subject User(std::string name) { return {SubjectKind::kUser, std::move(name)}; }
Subject Machine(std::string name) { return {SubjectKind::kServiceAccount, std::move(name)}; }

TEST(Rbac, BuiltInRolesAreValidAndGrantWhatTheySay) {
  const std::vector<Role> roles = BuiltInRoles();
  std::vector<RoleBinding> bindings;
  for (const Role& role : roles) {
    bindings.push_back({.name = role.name + "-binding", .namespace_name = "team-a", .role = role.name,
                        .subjects = {User(role.name + "-user")}});
  }
  ASSERT_TRUE(Authorizer::Validate(roles, bindings).ok());
  Authorizer authz(roles, bindings);
  auto can = [&](const std::string& who, const char* resource, const char* verb) {
    return authz.Check(User(who), "team-a", resource, verb).allowed;
  };
  EXPECT_TRUE(can("viewer-user", "models", "get"));
  EXPECT_FALSE(can("viewer-user", "models", "create"));
  EXPECT_FALSE(can("viewer-user", "predictions", "predict"));
  EXPECT_TRUE(can("predictor-user", "predictions", "predict"));
  EXPECT_FALSE(can("predictor-user", "deployments", "create"));
  for (const char* verb : {"get", "list", "watch", "create", "update", "delete"}) {
    EXPECT_TRUE(can("model-manager-user", "models", verb)) << verb;
    EXPECT_TRUE(can("model-manager-user", "deployments", verb)) << verb;
  }
  EXPECT_FALSE(can("model-manager-user", "tokens", "create"));
  EXPECT_TRUE(can("deployer-user", "deployments", "rollback"));
  EXPECT_FALSE(can("deployer-user", "models", "delete"));
  EXPECT_TRUE(can("admin-user", "audit", "list"));
  EXPECT_TRUE(can("admin-user", "roles", "delete"));
}

TEST(Rbac, BindingsAreScopedToTheirNamespaceUnlessClusterWide) {
  const std::vector<Role> roles = BuiltInRoles();
  Authorizer authz(roles, {{.name = "a-admins", .namespace_name = "team-a", .role = "admin", .subjects = {User("ann")}},
                           {.name = "ci", .namespace_name = "", .role = "model-manager", .subjects = {Machine("ci")}}});
  EXPECT_TRUE(authz.Check(User("ann"), "team-a", "models", "delete").allowed);
  const AccessDecision other = authz.Check(User("ann"), "team-b", "models", "delete");
  EXPECT_FALSE(other.allowed);
  EXPECT_EQ(other.reason, "user ann cannot delete models in namespace team-b: no role bound to it grants models/delete");
  EXPECT_TRUE(authz.Check(Machine("ci"), "team-b", "versions", "create").allowed);
  // Same name, other kind: a user "ci" is not the service account "ci".
  EXPECT_FALSE(authz.Check(User("ci"), "team-b", "versions", "create").allowed);
  EXPECT_FALSE(authz.Check(User("nobody"), "team-a", "models", "get").allowed);
}

TEST(Rbac, ValidationNamesTheBadRoleOrBinding) {
  std::vector<Role> roles = {{"odd", {{{"modles"}, {"get"}}}}};
  EXPECT_EQ(Authorizer::Validate(roles, {}).message(), "role odd: unknown resource \"modles\"");
  roles = {{"odd", {{{"models"}, {"fly"}}}}};
  EXPECT_EQ(Authorizer::Validate(roles, {}).message(), "role odd: unknown verb \"fly\"");
  EXPECT_FALSE(Authorizer::Validate(BuiltInRoles(), {{.name = "b", .role = "ghost", .subjects = {User("x")}}}).ok());
  EXPECT_FALSE(Authorizer::Validate(BuiltInRoles(), {{.name = "b", .role = "viewer"}}).ok());
}

}  // namespace
}  // namespace meridian::auth
