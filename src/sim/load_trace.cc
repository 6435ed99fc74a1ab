#include "sim/load_trace.h"

#include <cmath>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace meridian::sim {

LoadTrace StepTrace(int seconds, double base, double high) {
  LoadTrace t{"step", std::vector<double>(seconds, base)};
  for (int s = seconds / 3; s < 2 * seconds / 3; ++s) t.rps[s] = high;
  return t;
}

LoadTrace SpikeTrace(int seconds, double base, uint64_t seed) {
  std::mt19937_64 rng(seed);
  LoadTrace t{"spike", std::vector<double>(seconds, base)};
  std::uniform_int_distribution<int> start(60, std::max(61, seconds - 60));
  std::uniform_int_distribution<int> length(10, 30);
  std::uniform_real_distribution<double> factor(4, 8);
  const int spikes = std::max(1, seconds / 600);
  for (int i = 0; i < spikes; ++i) {
    const int s0 = start(rng);
    const int len = length(rng);
    const double f = factor(rng);
    for (int s = s0; s < std::min(seconds, s0 + len); ++s) t.rps[s] = base * f;
  }
  return t;
}

LoadTrace DiurnalTrace(int seconds, double low, double high, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 0.05);
  LoadTrace t{"diurnal", std::vector<double>(seconds)};
  for (int s = 0; s < seconds; ++s) {
    const double phase = 2 * M_PI * s / seconds;
    const double level = low + (high - low) * 0.5 * (1 - std::cos(phase));
    t.rps[s] = std::max(0.0, level * (1 + noise(rng)));
  }
  return t;
}

absl::StatusOr<LoadTrace> CsvTrace(const std::string& text, const std::string& name) {
  LoadTrace t{name, {}};
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    ++line_number;
    std::vector<absl::string_view> cells = absl::StrSplit(line, ',');
    double second = 0, rps = 0;
    if (cells.size() != 2 || !absl::SimpleAtod(absl::StripAsciiWhitespace(cells[0]), &second) ||
        !absl::SimpleAtod(absl::StripAsciiWhitespace(cells[1]), &rps)) {
      if (line_number == 1) continue;  // a header
      return absl::InvalidArgumentError(
          absl::StrCat(name, " line ", line_number, ": expected \"second,requests_per_second\""));
    }
    if (second < 0 || rps < 0 || second > 30 * 86400) {
      return absl::InvalidArgumentError(absl::StrCat(name, " line ", line_number, ": values out of range"));
    }
    const size_t index = static_cast<size_t>(second);
    const double previous = t.rps.empty() ? 0 : t.rps.back();
    if (index >= t.rps.size()) t.rps.resize(index + 1, previous);
    t.rps[index] = rps;
  }
  if (t.rps.empty()) return absl::InvalidArgumentError(absl::StrCat(name, " has no data rows"));
  return t;
}

}  // namespace meridian::sim
