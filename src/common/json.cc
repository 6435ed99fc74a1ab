#include "common/json.h"

#include "absl/strings/str_cat.h"
#include "rapidjson/encodedstream.h"
#include "rapidjson/error/en.h"
#include "rapidjson/memorystream.h"
#include "rapidjson/reader.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace meridian {

void AppendJsonQuoted(std::string* out, absl::string_view text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  out->append(buffer.GetString(), buffer.GetSize());
}

namespace {

// RapidJSON's SAX events, passed on to the document being built, refusing nesting deeper than
// `max_depth` as it is reached (one pass over the text; a separate scan for brackets before
// parsing cost as much as the parse's own number conversions).
class DepthLimitedHandler {
 public:
  DepthLimitedHandler(rapidjson::Document& doc, int max_depth) : doc_(doc), max_depth_(max_depth) {}
  bool too_deep() const { return too_deep_; }

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned i) { return doc_.Uint(i); }
  bool Int64(int64_t i) { return doc_.Int64(i); }
  bool Uint64(uint64_t i) { return doc_.Uint64(i); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const char* str, rapidjson::SizeType length, bool copy) { return doc_.RawNumber(str, length, copy); }
  bool String(const char* str, rapidjson::SizeType length, bool copy) { return doc_.String(str, length, copy); }
  bool Key(const char* str, rapidjson::SizeType length, bool copy) { return doc_.Key(str, length, copy); }
  bool StartObject() { return Enter() && doc_.StartObject(); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return doc_.EndObject(members);
  }
  bool StartArray() { return Enter() && doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return doc_.EndArray(elements);
  }

 private:
  bool Enter() {
    if (++depth_ <= max_depth_) return true;
    too_deep_ = true;
    return false;
  }

  rapidjson::Document& doc_;
  const int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
};

}  // namespace

absl::Status ParseUntrustedJson(absl::string_view text, rapidjson::Document& doc, int max_depth) {
  rapidjson::ParseResult result;
  bool too_deep = false;
  // Populate hands the document to the generator as the SAX handler and keeps the value built.
  auto parse = [&](rapidjson::Document& handler) {
    DepthLimitedHandler limited(handler, max_depth);
    rapidjson::MemoryStream memory(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> input(memory);
    rapidjson::Reader reader;
    result = reader.Parse<rapidjson::kParseIterativeFlag>(input, limited);
    too_deep = limited.too_deep();
    return !result.IsError();
  };
  doc.Populate(parse);
  if (result.IsError()) doc.SetNull();
  if (too_deep) return absl::InvalidArgumentError(absl::StrCat("JSON nests deeper than ", max_depth, " levels"));
  if (result.IsError()) {
    return absl::InvalidArgumentError(absl::StrCat("not valid JSON: ", rapidjson::GetParseError_En(result.Code()),
                                                   " at offset ", result.Offset()));
  }
  return absl::OkStatus();
}

std::string JsonQuote(absl::string_view text) {
  std::string out;
  AppendJsonQuoted(&out, text);
  return out;
}

}  // namespace meridian
