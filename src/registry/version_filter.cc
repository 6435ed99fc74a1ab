#include "registry/version_filter.h"
#include "common/json.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rapidjson/document.h"

namespace meridian::registry {
namespace {

using Op = MetadataCondition::Op;

// Longest operators first, so that ">=" is not read as ">".
constexpr std::pair<absl::string_view, Op> kOps[] = {{">=", Op::kGe}, {"<=", Op::kLe}, {"!=", Op::kNe},
                                                     {"=", Op::kEq},  {">", Op::kGt},  {"<", Op::kLt}};

template <typename T>
bool Compare(const T& a, Op op, const T& b) {
  switch (op) {
    case Op::kEq:
      return a == b;
    case Op::kNe:
      return a != b;
    case Op::kGe:
      return a >= b;
    case Op::kLe:
      return a <= b;
    case Op::kGt:
      return a > b;
    case Op::kLt:
      return a < b;
  }
  return false;
}

bool ConditionHolds(const rapidjson::Value& root, const MetadataCondition& c) {
  const rapidjson::Value* v = &root;
  for (const std::string& key : c.path) {
    if (!v->IsObject() || !v->HasMember(key.c_str())) return c.op == Op::kNe;  // absent != anything
    v = &(*v)[key.c_str()];
  }
  double wanted = 0;
  if (v->IsNumber() && absl::SimpleAtod(c.value, &wanted)) return Compare(v->GetDouble(), c.op, wanted);
  if (c.op != Op::kEq && c.op != Op::kNe) return false;  // ordering needs numbers
  std::string actual;
  if (v->IsString()) {
    actual.assign(v->GetString(), v->GetStringLength());
  } else if (v->IsBool()) {
    actual = v->GetBool() ? "true" : "false";
  } else {
    return c.op == Op::kNe;
  }
  return Compare(actual, c.op, c.value);
}

}  // namespace

absl::StatusOr<std::vector<MetadataCondition>> ParseMetadataConditions(absl::string_view text) {
  std::vector<MetadataCondition> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    MetadataCondition c;
    size_t at = absl::string_view::npos;
    size_t length = 0;
    for (const auto& [token, op] : kOps) {
      const size_t found = part.find(token);
      if (found != absl::string_view::npos && (found < at || (found == at && token.size() > length))) {
        at = found;
        length = token.size();
        c.op = op;
      }
    }
    if (at == absl::string_view::npos || at == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid filter \"", part, "\": use PATH OP VALUE with OP one of = != >= <= > <, e.g. metrics.accuracy>=0.9"));
    }
    absl::string_view path = part.substr(0, at);
    if (absl::StartsWith(path, "metadata.")) path.remove_prefix(9);
    for (absl::string_view key : absl::StrSplit(path, '.')) {
      if (key.empty()) return absl::InvalidArgumentError(absl::StrCat("invalid filter path in \"", part, "\""));
      c.path.emplace_back(key);
    }
    c.value = std::string(part.substr(at + length));
    out.push_back(std::move(c));
  }
  return out;
}

bool VersionFilter::Matches(const store::VersionRecord& version) const {
  if (tag) {
    auto it = version.tags.find(tag->first);
    if (it == version.tags.end() || it->second != tag->second) return false;
  }
  if (conditions.empty()) return true;
  rapidjson::Document doc;
  if (!ParseUntrustedJson(version.metadata_json, doc).ok()) return false;
  for (const MetadataCondition& c : conditions) {
    if (!ConditionHolds(doc, c)) return false;
  }
  return true;
}

}  // namespace meridian::registry
