#pragma once

// Parses the base URLs that clients are given (--server, MERIDIAN_SERVER).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meridian::http {

struct Url {
  bool https = false;
  std::string host;
  uint16_t port = 0;
  std::string path;  // without a trailing '/', may be empty
};

// "http://127.0.0.1:8080", "https://meridian.example.com/base". Errors say what is wrong.
absl::StatusOr<Url> ParseUrl(absl::string_view text);

}  // namespace meridian::http
