#include "common/logging.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "spdlog/sinks/basic_file_sink.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace meridian::log {
namespace {

std::atomic<Format> g_format{Format::kText};

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

bool NeedsQuoting(absl::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

}  // namespace

Field::Field(absl::string_view key, double value)
    : key_(key),
      value_(absl::StrCat(value)),
      // JSON has no NaN or infinity: write them as strings so that the line stays valid.
      kind_(std::isfinite(value) ? kRaw : kString) {}

absl::StatusOr<Format> ParseFormat(absl::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return absl::InvalidArgumentError(absl::StrCat("unknown log format \"", name, "\": use text or json"));
}

absl::StatusOr<Level> ParseLevel(absl::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn") return Level::kWarn;
  if (name == "error") return Level::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level \"", name, "\": use debug, info, warn or error"));
}

absl::Status Init(const LogOptions& options) {
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (options.file.empty()) {
      if (options.format == Format::kText && isatty(STDERR_FILENO)) {
        logger = std::make_shared<spdlog::logger>(
            "meridian", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
      } else {
        logger = std::make_shared<spdlog::logger>(
            "meridian", std::make_shared<spdlog::sinks::stderr_sink_mt>());
      }
    } else {
      logger = std::make_shared<spdlog::logger>(
          "meridian", std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file));
    }
  } catch (const spdlog::spdlog_ex& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot open log output: ", e.what()));
  }
  spdlog::drop_all();
  if (options.format == Format::kJson) {
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  }
  logger->set_level(ToSpdlog(options.level));
  logger->flush_on(spdlog::level::warn);
  g_format.store(options.format);
  spdlog::set_default_logger(logger);
  return absl::OkStatus();
}

std::string Render(Format format, absl::string_view message, Fields fields) {
  std::string out;
  if (format == Format::kJson) {
    out.append("\"msg\":");
    AppendJsonQuoted(&out, message);
    for (const Field& f : fields) {
      out.push_back(',');
      AppendJsonQuoted(&out, f.key());
      out.push_back(':');
      if (f.is_string()) {
        AppendJsonQuoted(&out, f.value());
      } else {
        absl::StrAppend(&out, f.value());
      }
    }
    return out;
  }
  absl::StrAppend(&out, message);
  for (const Field& f : fields) {
    absl::StrAppend(&out, " ", f.key(), "=");
    if (f.is_string() && NeedsQuoting(f.value())) {
      AppendJsonQuoted(&out, f.value());
    } else {
      absl::StrAppend(&out, f.value());
    }
  }
  return out;
}

bool Enabled(Level level) { return spdlog::default_logger_raw()->should_log(ToSpdlog(level)); }

void Write(Level level, absl::string_view message, Fields fields) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (!logger->should_log(ToSpdlog(level))) return;
  std::string body = Render(g_format.load(std::memory_order_relaxed), message, fields);
  logger->log(ToSpdlog(level), body);
}

void Flush() { spdlog::default_logger_raw()->flush(); }

}  // namespace meridian::log
