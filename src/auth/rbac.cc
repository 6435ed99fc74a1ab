#include "auth/rbac.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace meridian::auth {
namespace {

bool Listed(const std::vector<std::string>& list, absl::string_view value) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& v) { return v == "*" || v == value; });
}

template <size_t N>
bool Known(const char* const (&names)[N], const std::string& value) {
  return value == "*" || std::find(std::begin(names), std::end(names), value) != std::end(names);
}

std::string Describe(const Subject& s) {
  return absl::StrCat(s.kind == SubjectKind::kUser ? "user " : "service account ", s.name);
}

}  // namespace

std::vector<Role> BuiltInRoles() {
  const std::vector<std::string> read = {"get", "list", "watch"};
  const std::vector<std::string> write = {"get", "list", "watch", "create", "update", "delete"};
  const std::vector<std::string> model_parts = {"models", "versions", "aliases", "artifacts"};
  return {
      {"viewer", {{{"models", "versions", "aliases", "artifacts", "deployments", "alerts"}, read}}},
      {"predictor", {{{"predictions"}, {"predict"}}, {{"models", "versions"}, {"get", "list"}}}},
      {"model-manager", {{model_parts, write}, {{"deployments"}, write}}},
      {"deployer",
       {{{"deployments"}, {"get", "list", "watch", "create", "update", "delete", "rollback", "promote"}},
        {model_parts, read},
        {{"aliases"}, {"update", "promote", "rollback"}}}},
      {"admin", {{{"*"}, {"*"}}}},
  };
}

absl::Status Authorizer::Validate(const std::vector<Role>& roles, const std::vector<RoleBinding>& bindings) {
  for (const Role& role : roles) {
    if (role.name.empty()) return absl::InvalidArgumentError("a role needs a name");
    for (const PolicyRule& rule : role.rules) {
      for (const std::string& r : rule.resources) {
        if (!Known(kResources, r)) {
          return absl::InvalidArgumentError(absl::StrCat("role ", role.name, ": unknown resource \"", r, "\""));
        }
      }
      for (const std::string& v : rule.verbs) {
        if (!Known(kVerbs, v)) {
          return absl::InvalidArgumentError(absl::StrCat("role ", role.name, ": unknown verb \"", v, "\""));
        }
      }
    }
  }
  for (const RoleBinding& binding : bindings) {
    if (std::none_of(roles.begin(), roles.end(), [&](const Role& r) { return r.name == binding.role; })) {
      return absl::InvalidArgumentError(
          absl::StrCat("binding ", binding.name, " refers to role \"", binding.role, "\", which does not exist"));
    }
    if (binding.subjects.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("binding ", binding.name, " has no subjects"));
    }
  }
  return absl::OkStatus();
}

Authorizer::Authorizer(std::vector<Role> roles, std::vector<RoleBinding> bindings)
    : roles_(std::move(roles)), bindings_(std::move(bindings)) {}

const Role* Authorizer::FindRole(const std::string& name) const {
  for (const Role& role : roles_) {
    if (role.name == name) return &role;
  }
  return nullptr;
}

AccessDecision Authorizer::Check(const Subject& subject, absl::string_view namespace_name, absl::string_view resource,
                                 absl::string_view verb) const {
  for (const RoleBinding& binding : bindings_) {
    if (!binding.namespace_name.empty() && binding.namespace_name != namespace_name) continue;
    const bool bound = std::any_of(binding.subjects.begin(), binding.subjects.end(), [&](const Subject& s) {
      return s.kind == subject.kind && s.name == subject.name;
    });
    if (!bound) continue;
    const Role* role = FindRole(binding.role);
    if (role == nullptr) continue;
    for (const PolicyRule& rule : role->rules) {
      if (Listed(rule.resources, resource) && Listed(rule.verbs, verb)) {
        return {true, absl::StrCat("allowed by ", binding.namespace_name.empty() ? "cluster binding " : "binding ",
                                   binding.name, " (role ", role->name, ")")};
      }
    }
  }
  return {false, absl::StrCat(Describe(subject), " cannot ", verb, " ", resource,
                              namespace_name.empty() ? std::string() : absl::StrCat(" in namespace ", namespace_name),
                              ": no role bound to it grants ", resource, "/", verb)};
}

}  // namespace meridian::auth
