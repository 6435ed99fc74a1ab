#include "store/tags_json.h"

#include "common/json.h"
#include "rapidjson/document.h"

namespace meridian::store {

std::string TagsToJson(const Tags& tags) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : tags) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonQuoted(&out, key);
    out.push_back(':');
    AppendJsonQuoted(&out, value);
  }
  out.push_back('}');
  return out;
}

absl::StatusOr<Tags> TagsFromJson(absl::string_view json) {
  rapidjson::Document doc;
  if (!ParseUntrustedJson(json, doc).ok() || !doc.IsObject()) return absl::DataLossError("stored tags are not a JSON object");
  Tags tags;
  for (const auto& member : doc.GetObject()) {
    if (!member.value.IsString()) return absl::DataLossError("stored tag value is not a string");
    tags.emplace(std::string(member.name.GetString(), member.name.GetStringLength()),
                 std::string(member.value.GetString(), member.value.GetStringLength()));
  }
  return tags;
}

}  // namespace meridian::store
