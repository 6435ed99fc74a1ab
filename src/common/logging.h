#pragma once

// Structured logging on spdlog. A record is a message plus key/value fields; it is written as
// text ("2026-01-01 12:00:00.000 info message key=value") or as one JSON object per line
// ({"time":...,"level":...,"msg":...,"key":"value"}), chosen once at start-up.
// All functions are thread-safe.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace meridian::log {

enum class Format { kText, kJson };
enum class Level { kDebug, kInfo, kWarn, kError };

absl::StatusOr<Format> ParseFormat(absl::string_view name);  // "text" | "json"
absl::StatusOr<Level> ParseLevel(absl::string_view name);    // "debug" | "info" | "warn" | "error"

struct LogOptions {
  Format format = Format::kText;
  Level level = Level::kInfo;
  // Where records go: empty means standard error.
  std::string file;
};

// Replaces the process logger. Before the first call, records go to standard error as text.
absl::Status Init(const LogOptions& options);

// One key/value pair of a record. Values keep their JSON type (string, integer, float, bool).
class Field {
 public:
  Field(absl::string_view key, absl::string_view value) : key_(key), value_(value), kind_(kString) {}
  Field(absl::string_view key, const char* value) : Field(key, absl::string_view(value)) {}
  Field(absl::string_view key, const std::string& value) : Field(key, absl::string_view(value)) {}
  Field(absl::string_view key, bool value) : key_(key), value_(value ? "true" : "false"), kind_(kRaw) {}
  template <typename T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
  Field(absl::string_view key, T value) : key_(key), value_(std::to_string(value)), kind_(kRaw) {}
  Field(absl::string_view key, double value);

  absl::string_view key() const { return key_; }
  absl::string_view value() const { return value_; }
  bool is_string() const { return kind_ == kString; }

 private:
  enum Kind { kString, kRaw };

  absl::string_view key_;
  std::string value_;
  Kind kind_;
};

using Fields = std::initializer_list<Field>;

bool Enabled(Level level);
void Write(Level level, absl::string_view message, Fields fields);

inline void Debug(absl::string_view message, Fields fields = {}) { Write(Level::kDebug, message, fields); }
inline void Info(absl::string_view message, Fields fields = {}) { Write(Level::kInfo, message, fields); }
inline void Warn(absl::string_view message, Fields fields = {}) { Write(Level::kWarn, message, fields); }
inline void Error(absl::string_view message, Fields fields = {}) { Write(Level::kError, message, fields); }

// Renders a record body the way Write() does, without time and level (exposed for tests).
std::string Render(Format format, absl::string_view message, Fields fields);

// Makes sure every record written so far has reached its file or stream.
void Flush();

}  // namespace meridian::log
