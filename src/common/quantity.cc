#include "common/quantity.h"

#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"

namespace meridian {
namespace {

// A non-negative finite number without a suffix; rejects "", "-1", "nan", "1e400".
bool ParseNumber(absl::string_view text, double* value) {
  if (text.empty() || !(absl::ascii_isdigit(text.front()) || text.front() == '.')) return false;
  return absl::SimpleAtod(text, value) && std::isfinite(*value) && *value >= 0;
}

constexpr std::pair<const char*, double> kSuffixes[] = {
    {"Ki", 1024.0}, {"Mi", 1024.0 * 1024}, {"Gi", 1024.0 * 1024 * 1024}, {"Ti", 1024.0 * 1024 * 1024 * 1024},
    {"k", 1e3},     {"M", 1e6},            {"G", 1e9},                   {"T", 1e12}};

}  // namespace

absl::StatusOr<int64_t> ParseMilliQuantity(absl::string_view text) {
  double value = 0;
  double scale = 1000;
  absl::string_view number = text;
  if (absl::ConsumeSuffix(&number, "m")) scale = 1;
  if (!ParseNumber(number, &value) || value * scale > 9e15) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a quantity: write a number such as 2 or 0.5, or thousandths such as 500m"));
  }
  return static_cast<int64_t>(std::llround(value * scale));
}

absl::StatusOr<int64_t> ParseByteQuantity(absl::string_view text) {
  double scale = 1;
  absl::string_view number = text;
  for (const auto& [suffix, factor] : kSuffixes) {
    if (absl::ConsumeSuffix(&number, suffix)) {
      scale = factor;
      break;
    }
  }
  double value = 0;
  if (!ParseNumber(number, &value) || value * scale > 9e18) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a byte quantity: write a number with Ki, Mi, Gi, Ti, k, M, G or T, e.g. 512Mi"));
  }
  return static_cast<int64_t>(std::llround(value * scale));
}

}  // namespace meridian
