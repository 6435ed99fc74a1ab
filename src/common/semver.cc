#include "common/semver.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace meridian {
namespace {

bool IsNumeric(absl::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), absl::ascii_isdigit);
}

bool IsIdentifierChar(char c) { return absl::ascii_isalnum(c) || c == '-'; }

absl::Status InvalidVersion(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid semantic version \"", text, "\": ", why,
                   " (expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], e.g. 1.4.0-rc.1)"));
}

absl::StatusOr<uint64_t> ParseCore(absl::string_view full, absl::string_view part,
                                   absl::string_view name) {
  if (part.empty()) return InvalidVersion(full, absl::StrCat(name, " is empty"));
  if (!IsNumeric(part)) return InvalidVersion(full, absl::StrCat(name, " is not a number"));
  if (part.size() > 1 && part[0] == '0') {
    return InvalidVersion(full, absl::StrCat(name, " has a leading zero"));
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(part, &value)) {
    return InvalidVersion(full, absl::StrCat(name, " is too large"));
  }
  return value;
}

absl::StatusOr<std::vector<std::string>> ParseIdentifiers(absl::string_view full,
                                                          absl::string_view text,
                                                          absl::string_view what,
                                                          bool reject_leading_zero) {
  std::vector<std::string> ids;
  for (absl::string_view id : absl::StrSplit(text, '.')) {
    if (id.empty()) return InvalidVersion(full, absl::StrCat(what, " has an empty identifier"));
    if (!std::all_of(id.begin(), id.end(), IsIdentifierChar)) {
      return InvalidVersion(full, absl::StrCat(what, " identifier \"", id,
                                               "\" may contain only [0-9A-Za-z-]"));
    }
    if (reject_leading_zero && IsNumeric(id) && id.size() > 1 && id[0] == '0') {
      return InvalidVersion(full, absl::StrCat(what, " identifier \"", id, "\" has a leading zero"));
    }
    ids.emplace_back(id);
  }
  return ids;
}

// Numeric identifiers may exceed uint64 in principle; compare them by length, then digits.
std::strong_ordering CompareNumeric(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return a.size() <=> b.size();
  return a.compare(b) <=> 0;
}

std::strong_ordering CompareIdentifier(absl::string_view a, absl::string_view b) {
  const bool a_num = IsNumeric(a);
  const bool b_num = IsNumeric(b);
  if (a_num && b_num) return CompareNumeric(a, b);
  if (a_num) return std::strong_ordering::less;
  if (b_num) return std::strong_ordering::greater;
  return a.compare(b) <=> 0;
}

}  // namespace

absl::StatusOr<SemVer> SemVer::Parse(absl::string_view text) {
  if (text.empty()) return InvalidVersion(text, "it is empty");
  absl::string_view rest = text;
  SemVer v;
  if (size_t plus = rest.find('+'); plus != absl::string_view::npos) {
    auto build = ParseIdentifiers(text, rest.substr(plus + 1), "build metadata", false);
    if (!build.ok()) return build.status();
    v.build_ = *std::move(build);
    rest = rest.substr(0, plus);
  }
  if (size_t dash = rest.find('-'); dash != absl::string_view::npos) {
    auto pre = ParseIdentifiers(text, rest.substr(dash + 1), "pre-release", true);
    if (!pre.ok()) return pre.status();
    v.prerelease_ = *std::move(pre);
    rest = rest.substr(0, dash);
  }
  std::vector<absl::string_view> core = absl::StrSplit(rest, '.');
  if (core.size() != 3) return InvalidVersion(text, "it needs exactly three numeric parts");
  auto major = ParseCore(text, core[0], "major");
  if (!major.ok()) return major.status();
  auto minor = ParseCore(text, core[1], "minor");
  if (!minor.ok()) return minor.status();
  auto patch = ParseCore(text, core[2], "patch");
  if (!patch.ok()) return patch.status();
  v.major_ = *major;
  v.minor_ = *minor;
  v.patch_ = *patch;
  return v;
}

SemVer SemVer::Bump(Part part) const {
  switch (part) {
    case Part::kMajor:
      return SemVer(major_ + 1, 0, 0);
    case Part::kMinor:
      return SemVer(major_, minor_ + 1, 0);
    case Part::kPatch:
      return is_prerelease() ? SemVer(major_, minor_, patch_) : SemVer(major_, minor_, patch_ + 1);
  }
  return *this;
}

std::string SemVer::ToString() const {
  std::string out = absl::StrCat(major_, ".", minor_, ".", patch_);
  if (!prerelease_.empty()) absl::StrAppend(&out, "-", absl::StrJoin(prerelease_, "."));
  if (!build_.empty()) absl::StrAppend(&out, "+", absl::StrJoin(build_, "."));
  return out;
}

std::strong_ordering operator<=>(const SemVer& a, const SemVer& b) {
  if (auto c = a.major_ <=> b.major_; c != 0) return c;
  if (auto c = a.minor_ <=> b.minor_; c != 0) return c;
  if (auto c = a.patch_ <=> b.patch_; c != 0) return c;
  // A release outranks any pre-release of the same core version.
  if (a.prerelease_.empty() && b.prerelease_.empty()) return std::strong_ordering::equal;
  if (a.prerelease_.empty()) return std::strong_ordering::greater;
  if (b.prerelease_.empty()) return std::strong_ordering::less;
  const size_t n = std::min(a.prerelease_.size(), b.prerelease_.size());
  for (size_t i = 0; i < n; ++i) {
    if (auto c = CompareIdentifier(a.prerelease_[i], b.prerelease_[i]); c != 0) return c;
  }
  return a.prerelease_.size() <=> b.prerelease_.size();
}

absl::StatusOr<SemVer::Part> ParseSemVerPart(absl::string_view name) {
  if (name == "major") return SemVer::Part::kMajor;
  if (name == "minor") return SemVer::Part::kMinor;
  if (name == "patch") return SemVer::Part::kPatch;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown version part \"", name, "\": use major, minor or patch"));
}

}  // namespace meridian
