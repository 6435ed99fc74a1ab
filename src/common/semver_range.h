#pragma once

// Version ranges, as npm and cargo write them: "^1.2" (compatible: >=1.2.0 <2.0.0), "~1.2.3"
// (patch updates: >=1.2.3 <1.3.0), "1.x" / "1.2.*" (wildcards), "*", and comparators joined by
// spaces, all of which must hold (">=1.0.0 <2.0.0"). A caret keeps the leftmost non-zero part
// fixed ("^0.3" is >=0.3.0 <0.4.0). Pre-releases never match a range: a range asks for releases.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/semver.h"

namespace meridian {

class SemVerRange {
 public:
  // kInvalidArgument that names the malformed part.
  static absl::StatusOr<SemVerRange> Parse(absl::string_view text);
  // True when `text` is written as a range rather than a version or a name: it starts with one of
  // ^ ~ < > = * or has an x or * part ("1.x").
  static bool LooksLikeRange(absl::string_view text);

  bool Matches(const SemVer& version) const;
  const std::string& text() const { return text_; }

 private:
  struct Bound {
    enum class Op { kGe, kGt, kLe, kLt, kEq };
    Op op;
    SemVer version;
  };
  std::string text_;
  std::vector<Bound> bounds_;
};

}  // namespace meridian
