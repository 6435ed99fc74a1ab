#pragma once

// How client commands print what the server answered: -o json (as received, pretty), yaml, or
// table (the columns a command chooses, from JSON paths).

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace meridian::cli {

enum class OutputFormat { kTable, kJson, kYaml };
absl::StatusOr<OutputFormat> ParseOutputFormat(const std::string& name);

struct Column {
  std::string header;
  std::string path;  // dotted path into each row object, e.g. "artifact.size"
};

// `json` is a response body. For tables, `rows_key` names the array of rows ("" when the body
// is a single object).
absl::StatusOr<std::string> Render(const std::string& json, OutputFormat format, const std::string& rows_key,
                                   const std::vector<Column>& columns);

}  // namespace meridian::cli
