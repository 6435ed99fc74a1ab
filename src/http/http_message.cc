#include "http/http_message.h"

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
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
