#pragma once

// Semantic Versioning 2.0.0 (https://semver.org): parsing, printing and precedence.
//
// Precedence follows the spec exactly: major, minor and patch compare numerically; a version with
// a pre-release is lower than the same version without; pre-release identifiers compare one by one
// (numeric ones numerically, alphanumeric ones in ASCII order, numeric lower than alphanumeric, a
// shorter list lower when all preceding identifiers are equal); build metadata is ignored.

#include <compare>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace meridian {

class SemVer {
 public:
  enum class Part { kMajor, kMinor, kPatch };

  SemVer() = default;
  SemVer(uint64_t major, uint64_t minor, uint64_t patch)
      : major_(major), minor_(minor), patch_(patch) {}

  // Parses a full version such as "1.2.3-rc.1+build.5". No leading "v", no leading zeros in
  // numeric parts, every part within uint64; the error message says which rule was broken.
  static absl::StatusOr<SemVer> Parse(absl::string_view text);

  uint64_t major() const { return major_; }
  uint64_t minor() const { return minor_; }
  uint64_t patch() const { return patch_; }
  const std::vector<std::string>& prerelease() const { return prerelease_; }
  const std::vector<std::string>& build() const { return build_; }
  bool is_prerelease() const { return !prerelease_.empty(); }

  // The next release version: bumping a part zeroes the parts below it and drops pre-release and
  // build metadata. Bumping the patch of a pre-release gives its release ("1.2.3-rc.1" -> "1.2.3"),
  // as npm and cargo do.
  SemVer Bump(Part part) const;

  std::string ToString() const;

  // Precedence comparison (build metadata ignored). Two versions that differ only in build
  // metadata are equivalent but not identical; use Identical() to tell them apart.
  friend std::strong_ordering operator<=>(const SemVer& a, const SemVer& b);
  friend bool operator==(const SemVer& a, const SemVer& b) { return (a <=> b) == 0; }
  bool Identical(const SemVer& other) const { return *this == other && build_ == other.build_; }

 private:
  uint64_t major_ = 0;
  uint64_t minor_ = 0;
  uint64_t patch_ = 0;
  std::vector<std::string> prerelease_;
  std::vector<std::string> build_;
};

absl::StatusOr<SemVer::Part> ParseSemVerPart(absl::string_view name);  // "major"|"minor"|"patch"

}  // namespace meridian
