#include "http/url.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace meridian::http {

absl::StatusOr<Url> ParseUrl(absl::string_view text) {
  Url url;
  absl::string_view rest = text;
  if (absl::ConsumePrefix(&rest, "http://")) {
    url.port = 80;
  } else if (absl::ConsumePrefix(&rest, "https://")) {
    url.https = true;
    url.port = 443;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid server URL \"", text, "\": it must start with http:// or https://"));
  }
  const size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  if (slash != absl::string_view::npos) url.path = std::string(rest.substr(slash));
  while (!url.path.empty() && url.path.back() == '/') url.path.pop_back();
  if (absl::StrContains(authority, '@')) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid server URL \"", text, "\": credentials do not belong in the URL"));
  }
  absl::string_view host = authority;
  if (absl::StartsWith(authority, "[")) {  // IPv6 literal
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("invalid server URL \"", text, "\": unclosed '['"));
    }
    host = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!absl::ConsumePrefix(&after, ":")) {
        return absl::InvalidArgumentError(absl::StrCat("invalid server URL \"", text, "\""));
      }
      authority = absl::string_view(after.data() - 1, after.size() + 1);
    } else {
      authority = {};
    }
  } else if (size_t colon = authority.rfind(':'); colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    authority = authority.substr(colon);
  } else {
    authority = {};
  }
  if (!authority.empty()) {  // ":port"
    uint32_t port = 0;
    if (!absl::SimpleAtoi(authority.substr(1), &port) || port == 0 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid server URL \"", text, "\": bad port"));
    }
    url.port = static_cast<uint16_t>(port);
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid server URL \"", text, "\": no host"));
  }
  url.host = std::string(host);
  return url;
}

}  // namespace meridian::http
