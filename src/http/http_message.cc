#include "http/http_message.h"

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_split.h"
#include "common/json.h"
#include "common/status_codes.h"

namespace meridian::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::string_view MethodName(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet:
      return "GET";
    case HttpMethod::kHead:
      return "HEAD";
    case HttpMethod::kPost:
      return "POST";
    case HttpMethod::kPut:
      return "PUT";
    case HttpMethod::kPatch:
      return "PATCH";
    case HttpMethod::kDelete:
      return "DELETE";
    case HttpMethod::kOptions:
      return "OPTIONS";
  }
  return "GET";
}

std::optional<HttpMethod> ParseMethod(absl::string_view name) {
  for (HttpMethod m : {HttpMethod::kGet, HttpMethod::kHead, HttpMethod::kPost, HttpMethod::kPut,
                       HttpMethod::kPatch, HttpMethod::kDelete, HttpMethod::kOptions}) {
    if (MethodName(m) == name) return m;
  }
  return std::nullopt;
}

std::optional<absl::string_view> HttpRequest::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return absl::string_view(value);
  }
  return std::nullopt;
}

std::optional<std::string> HttpRequest::QueryParam(absl::string_view name) const {
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    auto key = PercentDecode(kv.first, true);
    if (key.ok() && *key == name) {
      auto value = PercentDecode(kv.second, true);
      return value.ok() ? *value : std::string(kv.second);
    }
  }
  return std::nullopt;
}

absl::string_view HttpRequest::PathParam(absl::string_view name) const {
  auto it = path_params.find(name);
  return it == path_params.end() ? absl::string_view() : absl::string_view(it->second);
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  return HttpResponse{.status = status, .content_type = "application/json", .body = std::move(body)};
}

HttpResponse HttpResponse::Text(int status, std::string body, std::string content_type) {
  return HttpResponse{.status = status, .content_type = std::move(content_type), .body = std::move(body)};
}

HttpResponse HttpResponse::Error(int status, absl::string_view message) {
  std::string body = "{\"error\":";
  AppendJsonQuoted(&body, message);
  body.push_back('}');
  return Json(status, std::move(body));
}

HttpResponse HttpResponse::Error(const absl::Status& status) {
  return Error(ToHttpStatus(status), status.message());
}

HttpResponse FileResponse(const HttpRequest& request, const std::string& path, uint64_t size,
                          std::string content_type) {
  HttpResponse response{.status = 200, .content_type = std::move(content_type)};
  response.headers.emplace_back("Accept-Ranges", "bytes");
  uint64_t first = 0;
  uint64_t last = size == 0 ? 0 : size - 1;
  bool partial = false;
  auto range = request.Header("Range");
  absl::string_view spec = range ? *range : absl::string_view();
  if (range && absl::ConsumePrefix(&spec, "bytes=") && !absl::StrContains(spec, ',')) {
    std::pair<absl::string_view, absl::string_view> ends = absl::StrSplit(spec, absl::MaxSplits('-', 1));
    uint64_t a = 0, b = 0;
    const bool has_a = !ends.first.empty() && absl::SimpleAtoi(ends.first, &a);
    const bool has_b = !ends.second.empty() && absl::SimpleAtoi(ends.second, &b);
    bool satisfiable = false;
    if (has_a && (ends.second.empty() || has_b)) {  // "a-" or "a-b"
      satisfiable = a < size && (!has_b || b >= a);
      first = a;
      last = has_b ? std::min(b, size - 1) : size - 1;
    } else if (ends.first.empty() && has_b) {  // "-n": the last n bytes
      satisfiable = b > 0 && size > 0;
      first = b >= size ? 0 : size - b;
      last = size - 1;
    }
    if (!satisfiable) {
      HttpResponse error = HttpResponse::Error(416, absl::StrCat("range \"", *range, "\" is not satisfiable; the artifact has ",
                                                   size, " bytes"));
      error.headers.emplace_back("Content-Range", absl::StrCat("bytes */", size));
      return error;
    }
    partial = true;
  }
  if (partial) {
    response.status = 206;
    response.headers.emplace_back("Content-Range", absl::StrCat("bytes ", first, "-", last, "/", size));
  }
  response.file = FileSlice{path, first, size == 0 ? 0 : last - first + 1};
  return response;
}

absl::StatusOr<std::string> PercentDecode(absl::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      const int hi = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) return absl::InvalidArgumentError("malformed percent-encoding in URL");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace meridian::http
