#pragma once

// Kubernetes-style role-based access control. A Role is a list of rules (resources x verbs, "*"
// for all); a binding grants a role to users and service accounts in one namespace (RoleBinding)
// or in all of them (ClusterRoleBinding: empty namespace). Anything not granted is denied, and a
// denial names the missing permission. Pure: the caller loads roles and bindings from storage.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace meridian::auth {

// What routes act on, and what they do to it.
inline constexpr const char* kResources[] = {"models",      "versions", "aliases", "artifacts",
                                             "deployments", "predictions", "tokens", "roles",
                                             "bindings",    "backups",  "alerts",  "audit"};
inline constexpr const char* kVerbs[] = {"get",    "list",    "watch",    "create", "update",
                                         "delete", "predict", "rollback", "promote"};

struct PolicyRule {
  std::vector<std::string> resources;  // or {"*"}
  std::vector<std::string> verbs;      // or {"*"}
};

struct Role {
  std::string name;
  std::vector<PolicyRule> rules;
};

enum class SubjectKind { kUser, kServiceAccount };

struct Subject {
  SubjectKind kind = SubjectKind::kUser;
  std::string name;
};

struct RoleBinding {
  std::string name;
  std::string namespace_name;  // empty: every namespace (a ClusterRoleBinding)
  std::string role;
  std::vector<Subject> subjects;
};

// viewer, predictor, model-manager (the seed's model-manager-role: get/list/watch/create/update/
// delete on models and deployments, and what models are made of), deployer, admin.
std::vector<Role> BuiltInRoles();

struct AccessDecision {
  bool allowed = false;
  std::string reason;  // which binding allowed it, or the permission that is missing
};

class Authorizer {
 public:
  // Checks that every rule names known resources and verbs and every binding a known role.
  static absl::Status Validate(const std::vector<Role>& roles, const std::vector<RoleBinding>& bindings);

  Authorizer(std::vector<Role> roles, std::vector<RoleBinding> bindings);

  AccessDecision Check(const Subject& subject, absl::string_view namespace_name, absl::string_view resource,
                       absl::string_view verb) const;

 private:
  const Role* FindRole(const std::string& name) const;

  std::vector<Role> roles_;
  std::vector<RoleBinding> bindings_;
};

}  // namespace meridian::auth
