#include "cli/output.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rapidjson/document.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"
#include "yaml-cpp/yaml.h"

namespace meridian::cli {
namespace {

std::string Cell(const rapidjson::Value& row, const std::string& path) {
  const rapidjson::Value* v = &row;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    const std::string key(part);
    if (!v->IsObject() || !v->HasMember(key.c_str())) return "";
    v = &(*v)[key.c_str()];
  }
  if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
  if (v->IsBool()) return v->GetBool() ? "true" : "false";
  if (v->IsInt64()) return absl::StrCat(v->GetInt64());
  if (v->IsUint64()) return absl::StrCat(v->GetUint64());
  if (v->IsNumber()) return absl::StrCat(v->GetDouble());
  if (v->IsNull()) return "";
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  v->Accept(w);
  return buffer.GetString();
}

void BlockStyle(YAML::Node node) {
  if (node.IsMap() || node.IsSequence()) {
    // Empty collections stay as {} and [], which block style cannot express.
    if (node.size() > 0) node.SetStyle(YAML::EmitterStyle::Block);
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) BlockStyle(it->second);
    } else {
      for (auto it = node.begin(); it != node.end(); ++it) BlockStyle(*it);
    }
  }
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(const std::string& name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "json") return OutputFormat::kJson;
  if (name == "yaml") return OutputFormat::kYaml;
  return absl::InvalidArgumentError(absl::StrCat("unknown output format \"", name, "\": use table, json or yaml"));
}

absl::StatusOr<std::string> Render(const std::string& json, OutputFormat format, const std::string& rows_key,
                                   const std::vector<Column>& columns) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  if (doc.HasParseError()) return absl::InternalError("the server answered with invalid JSON");
  if (format == OutputFormat::kJson) {
    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
    w.SetIndent(' ', 2);
    doc.Accept(w);
    return absl::StrCat(buffer.GetString(), "\n");
  }
  if (format == OutputFormat::kYaml) {
    YAML::Node node = YAML::Load(json);  // JSON is YAML, in flow style; print it as block style
    BlockStyle(node);
    YAML::Emitter out;
    out << node;
    return absl::StrCat(out.c_str(), "\n");
  }
  std::vector<const rapidjson::Value*> rows;
  if (rows_key.empty()) {
    rows.push_back(&doc);
  } else if (doc.HasMember(rows_key.c_str()) && doc[rows_key.c_str()].IsArray()) {
    for (const auto& row : doc[rows_key.c_str()].GetArray()) rows.push_back(&row);
  }
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths;
  for (const Column& c : columns) widths.push_back(c.header.size());
  for (const auto* row : rows) {
    std::vector<std::string> line;
    for (size_t i = 0; i < columns.size(); ++i) {
      line.push_back(Cell(*row, columns[i].path));
      widths[i] = std::max(widths[i], line.back().size());
    }
    cells.push_back(std::move(line));
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& line) {
    for (size_t i = 0; i < line.size(); ++i) {
      absl::StrAppend(&out, line[i]);
      if (i + 1 < line.size()) out.append(widths[i] - line[i].size() + 3, ' ');
    }
    out.push_back('\n');
  };
  std::vector<std::string> header;
  for (const Column& c : columns) header.push_back(c.header);
  emit(header);
  for (const auto& line : cells) emit(line);
  return out;
}

}  // namespace meridian::cli
