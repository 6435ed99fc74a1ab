#pragma once

// Small JSON helpers on RapidJSON for code that writes JSON by hand (logs, error bodies).

#include <string>
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rapidjson/document.h"

namespace meridian {

// `text` as a JSON string literal, quotes included, escaped per RFC 8259.
std::string JsonQuote(absl::string_view text);

// Appends JsonQuote(text) to `out`.
void AppendJsonQuoted(std::string* out, absl::string_view text);

// JSON from outside (request bodies, stored documents) nests at most this deep.
inline constexpr int kMaxJsonDepth = 64;

// Parses untrusted JSON into `doc` without recursion (RapidJSON's default parser recurses once
// per nesting level: a body of a million '[' would overflow the stack) and refuses nesting deeper
// than `max_depth` as the parse reaches it, so that code walking the document recursively is safe
// too. On error `doc` is left null. Errors are
// kInvalidArgument: "not valid JSON: <reason> at offset N" or "JSON nests deeper than N levels".
absl::Status ParseUntrustedJson(absl::string_view text, rapidjson::Document& doc, int max_depth = kMaxJsonDepth);

}  // namespace meridian
