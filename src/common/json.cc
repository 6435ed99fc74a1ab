#include "common/json.h"

#include "absl/strings/str_cat.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace meridian {

void AppendJsonQuoted(std::string* out, absl::string_view text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  out->append(buffer.GetString(), buffer.GetSize());
}

absl::Status ParseUntrustedJson(absl::string_view text, rapidjson::Document& doc, int max_depth) {
  // Nesting depth from the text itself (brackets outside strings), before anything recurses.
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return absl::InvalidArgumentError(absl::StrCat("JSON nests deeper than ", max_depth, " levels"));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(absl::StrCat("not valid JSON: ", rapidjson::GetParseError_En(doc.GetParseError()),
                                                   " at offset ", doc.GetErrorOffset()));
  }
  return absl::OkStatus();
}

std::string JsonQuote(absl::string_view text) {
  std::string out;
  AppendJsonQuoted(&out, text);
  return out;
}

}  // namespace meridian
