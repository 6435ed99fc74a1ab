#include "common/semver_range.h"

#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace meridian {
namespace {

// "1", "1.2", "1.2.3", "1.x", "1.2.*": the numbers given, up to the first wildcard.
absl::StatusOr<std::vector<uint64_t>> ParsePartial(absl::string_view text) {
  std::vector<uint64_t> parts;
  std::vector<absl::string_view> pieces = absl::StrSplit(text, '.');
  if (pieces.size() > 3) return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" has more than three parts"));
  bool wildcard = false;
  for (absl::string_view piece : pieces) {
    if (piece == "x" || piece == "X" || piece == "*") {
      wildcard = true;
      continue;
    }
    uint64_t n = 0;
    if (wildcard || piece.empty() || !absl::SimpleAtoi(piece, &n) || (piece.size() > 1 && piece[0] == '0')) {
      return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a version or a partial version like 1.2 or 1.x"));
    }
    parts.push_back(n);
  }
  return parts;
}

SemVer FromParts(const std::vector<uint64_t>& p) {
  return SemVer(p.size() > 0 ? p[0] : 0, p.size() > 1 ? p[1] : 0, p.size() > 2 ? p[2] : 0);
}

}  // namespace

bool SemVerRange::LooksLikeRange(absl::string_view text) {
  if (text.empty()) return false;
  if (absl::string_view("^~<>=*").find(text.front()) != absl::string_view::npos) return true;
  for (absl::string_view piece : absl::StrSplit(text, '.')) {
    if (piece == "x" || piece == "X" || piece == "*") return true;
  }
  return false;
}

absl::StatusOr<SemVerRange> SemVerRange::Parse(absl::string_view text) {
  SemVerRange range;
  range.text_ = std::string(text);
  std::vector<absl::string_view> terms = absl::StrSplit(text, ' ', absl::SkipEmpty());
  if (terms.empty()) return absl::InvalidArgumentError("a version range is empty");
  for (absl::string_view term : terms) {
    auto error = [&](const absl::Status& why) {
      return absl::InvalidArgumentError(absl::StrCat("version range \"", text, "\": ", why.message()));
    };
    if (term == "*" || term == "x" || term == "X") continue;
    std::optional<Bound::Op> op;
    for (auto [prefix, o] : {std::pair{">=", Bound::Op::kGe}, {"<=", Bound::Op::kLe}, {">", Bound::Op::kGt},
                             {"<", Bound::Op::kLt}, {"=", Bound::Op::kEq}}) {
      if (absl::ConsumePrefix(&term, prefix)) {
        op = o;
        break;
      }
    }
    if (op) {
      absl::StatusOr<SemVer> version = SemVer::Parse(term);
      if (!version.ok()) {
        absl::StatusOr<std::vector<uint64_t>> partial = ParsePartial(term);
        if (!partial.ok()) return error(partial.status());
        version = FromParts(*partial);
      }
      range.bounds_.push_back({*op, *version});
      continue;
    }
    const bool caret = absl::ConsumePrefix(&term, "^");
    const bool tilde = !caret && absl::ConsumePrefix(&term, "~");
    absl::StatusOr<SemVer> exact = SemVer::Parse(term);
    std::vector<uint64_t> parts;
    if (exact.ok()) {
      parts = {exact->major(), exact->minor(), exact->patch()};
    } else {
      absl::StatusOr<std::vector<uint64_t>> partial = ParsePartial(term);
      if (!partial.ok()) return error(partial.status());
      parts = *partial;
    }
    const SemVer low = exact.ok() ? *exact : FromParts(parts);
    std::optional<SemVer> high;
    if (caret) {
      if (parts.empty() || parts[0] > 0 || parts.size() == 1) {
        high = SemVer(low.major() + 1, 0, 0);
      } else if (parts[1] > 0 || parts.size() == 2) {
        high = SemVer(0, low.minor() + 1, 0);
      } else {
        high = SemVer(0, 0, low.patch() + 1);
      }
    } else if (tilde) {
      high = parts.size() <= 1 ? SemVer(low.major() + 1, 0, 0) : SemVer(low.major(), low.minor() + 1, 0);
    } else if (parts.size() < 3) {  // "1.x", "1.2.*"
      if (parts.empty()) continue;
      high = parts.size() == 1 ? SemVer(low.major() + 1, 0, 0) : SemVer(low.major(), low.minor() + 1, 0);
    }
    if (!high) {
      range.bounds_.push_back({Bound::Op::kEq, low});
      continue;
    }
    range.bounds_.push_back({Bound::Op::kGe, low});
    range.bounds_.push_back({Bound::Op::kLt, *high});
  }
  return range;
}

bool SemVerRange::Matches(const SemVer& version) const {
  if (version.is_prerelease()) return false;
  for (const Bound& b : bounds_) {
    const auto order = version <=> b.version;
    switch (b.op) {
      case Bound::Op::kGe: if (order < 0) return false; break;
      case Bound::Op::kGt: if (order <= 0) return false; break;
      case Bound::Op::kLe: if (order > 0) return false; break;
      case Bound::Op::kLt: if (order >= 0) return false; break;
      case Bound::Op::kEq: if (order != 0) return false; break;
    }
  }
  return true;
}

}  // namespace meridian
