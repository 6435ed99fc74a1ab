#include "auth/rbac_json.h"

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/status_macros.h"

namespace meridian::auth {
namespace {

absl::StatusOr<std::vector<std::string>> StringList(const rapidjson::Value& object, const char* field,
                                                    absl::string_view where) {
  auto it = object.FindMember(field);
  if (it == object.MemberEnd() || !it->value.IsArray() || it->value.Empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".", field, ": a non-empty list of strings is required"));
  }
  std::vector<std::string> out;
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsString()) return absl::InvalidArgumentError(absl::StrCat(where, ".", field, ": every entry must be a string"));
    out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

void AppendList(std::string& out, const std::vector<std::string>& list) {
  out += "[";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ",";
    AppendJsonQuoted(&out, list[i]);
  }
  out += "]";
}

}  // namespace

absl::string_view SubjectKindName(SubjectKind kind) {
  return kind == SubjectKind::kUser ? "user" : "serviceaccount";
}

absl::StatusOr<SubjectKind> ParseSubjectKind(absl::string_view name) {
  if (name == "user") return SubjectKind::kUser;
  if (name == "serviceaccount") return SubjectKind::kServiceAccount;
  return absl::InvalidArgumentError(absl::StrCat("unknown subject kind \"", name, "\": use user or serviceaccount"));
}

std::string RulesToJson(const std::vector<PolicyRule>& rules) {
  std::string out = "[";
  for (size_t i = 0; i < rules.size(); ++i) {
    if (i > 0) out += ",";
    out += "{\"resources\":";
    AppendList(out, rules[i].resources);
    out += ",\"verbs\":";
    AppendList(out, rules[i].verbs);
    out += "}";
  }
  return out + "]";
}

absl::StatusOr<std::vector<PolicyRule>> RulesFromJson(absl::string_view json) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(ParseUntrustedJson(json, doc));
  if (!doc.IsArray()) return absl::InvalidArgumentError("rules: must be a list of {resources, verbs}");
  std::vector<PolicyRule> rules;
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    const std::string where = absl::StrCat("rules[", i, "]");
    if (!doc[i].IsObject()) return absl::InvalidArgumentError(absl::StrCat(where, ": must be an object"));
    PolicyRule rule;
    ASSIGN_OR_RETURN(rule.resources, StringList(doc[i], "resources", where));
    ASSIGN_OR_RETURN(rule.verbs, StringList(doc[i], "verbs", where));
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::string SubjectsToJson(const std::vector<Subject>& subjects) {
  std::string out = "[";
  for (size_t i = 0; i < subjects.size(); ++i) {
    if (i > 0) out += ",";
    absl::StrAppend(&out, "{\"kind\":\"", SubjectKindName(subjects[i].kind), "\",\"name\":");
    AppendJsonQuoted(&out, subjects[i].name);
    out += "}";
  }
  return out + "]";
}

absl::StatusOr<std::vector<Subject>> SubjectsFromJson(absl::string_view json) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(ParseUntrustedJson(json, doc));
  if (!doc.IsArray() || doc.Empty()) {
    return absl::InvalidArgumentError("subjects: a non-empty list of {kind, name} is required");
  }
  std::vector<Subject> subjects;
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    const auto& v = doc[i];
    const std::string where = absl::StrCat("subjects[", i, "]");
    if (!v.IsObject() || !v.HasMember("kind") || !v["kind"].IsString() || !v.HasMember("name") ||
        !v["name"].IsString() || v["name"].GetStringLength() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": needs a kind (user or serviceaccount) and a name"));
    }
    auto kind = ParseSubjectKind(v["kind"].GetString());
    if (!kind.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ".kind: ", kind.status().message()));
    subjects.push_back({*kind, v["name"].GetString()});
  }
  return subjects;
}

std::string RoleToJson(const Role& role, bool built_in) {
  std::string out = "{\"name\":";
  AppendJsonQuoted(&out, role.name);
  absl::StrAppend(&out, ",\"builtIn\":", built_in ? "true" : "false", ",\"rules\":", RulesToJson(role.rules), "}");
  return out;
}

std::string BindingToJson(const RoleBinding& binding) {
  std::string out = "{\"name\":";
  AppendJsonQuoted(&out, binding.name);
  out += ",\"namespace\":";
  AppendJsonQuoted(&out, binding.namespace_name);
  out += ",\"role\":";
  AppendJsonQuoted(&out, binding.role);
  absl::StrAppend(&out, ",\"subjects\":", SubjectsToJson(binding.subjects), "}");
  return out;
}

}  // namespace meridian::auth
