#include "common/json.h"

#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace meridian {

void AppendJsonQuoted(std::string* out, absl::string_view text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  out->append(buffer.GetString(), buffer.GetSize());
}

std::string JsonQuote(absl::string_view text) {
  std::string out;
  AppendJsonQuoted(&out, text);
  return out;
}

}  // namespace meridian
