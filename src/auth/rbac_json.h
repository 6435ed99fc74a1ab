#pragma once

// Roles, bindings and subjects as JSON: the stored form and the REST API's form are the same.
//   role:    {"name": "reader", "rules": [{"resources": ["models"], "verbs": ["get", "list"]}]}
//   binding: {"name": "ci", "namespace": "team-a", "role": "deployer",
//             "subjects": [{"kind": "serviceaccount", "name": "ci"}]}   (namespace "": everywhere)
// Parse errors are kInvalidArgument and name the field.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "auth/rbac.h"

namespace meridian::auth {

absl::string_view SubjectKindName(SubjectKind kind);  // "user" | "serviceaccount"
absl::StatusOr<SubjectKind> ParseSubjectKind(absl::string_view name);

std::string RulesToJson(const std::vector<PolicyRule>& rules);
absl::StatusOr<std::vector<PolicyRule>> RulesFromJson(absl::string_view json);

std::string SubjectsToJson(const std::vector<Subject>& subjects);
absl::StatusOr<std::vector<Subject>> SubjectsFromJson(absl::string_view json);

std::string RoleToJson(const Role& role, bool built_in);
std::string BindingToJson(const RoleBinding& binding);

}  // namespace meridian::auth
