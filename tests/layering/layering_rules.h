#pragma once

// The include rules of ARCHITECTURE.md ("Layering"), as code, so that the test suite fails when a
// file includes across a forbidden layer.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace meridian::layering {

struct Violation {
  std::string file;
  int line = 0;
  std::string include;
  std::string rule;
};

// Checks one file. `path` is relative to src/ (e.g. "http/router.cc"); `content` is its text.
std::vector<Violation> CheckFile(absl::string_view path, absl::string_view content);

}  // namespace meridian::layering
