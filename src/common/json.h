#pragma once

// Small JSON helpers on RapidJSON for code that writes JSON by hand (logs, error bodies).

#include <string>
#include "absl/strings/string_view.h"

namespace meridian {

// `text` as a JSON string literal, quotes included, escaped per RFC 8259.
std::string JsonQuote(absl::string_view text);

// Appends JsonQuote(text) to `out`.
void AppendJsonQuoted(std::string* out, absl::string_view text);

}  // namespace meridian
