#include "deploy/version_resolver.h"

#include "absl/strings/str_cat.h"
#include "common/semver_range.h"

namespace meridian::deploy {

absl::StatusOr<std::string> ResolveVersion(registry::Registry& registry, const std::string& model,
                                           const std::string& ref) {
  if (SemVerRange::LooksLikeRange(ref)) {
    absl::StatusOr<SemVerRange> range = SemVerRange::Parse(ref);
    if (!range.ok()) return range.status();
    absl::StatusOr<std::vector<store::VersionRecord>> versions =
        registry.ListVersions(model, registry::VersionOrder::kDescending);
    if (!versions.ok()) return versions.status();
    for (const store::VersionRecord& v : *versions) {
      absl::StatusOr<SemVer> parsed = SemVer::Parse(v.version);
      if (v.status == store::VersionStatus::kReady && parsed.ok() && range->Matches(*parsed)) return v.version;
    }
    return absl::NotFoundError(absl::StrCat("model \"", model, "\" has no READY version in range ", ref));
  }
  absl::StatusOr<store::VersionRecord> version = registry.GetVersion(model, ref);
  if (!version.ok()) return version.status();
  if (version->status != store::VersionStatus::kReady) {
    return absl::FailedPreconditionError(
        absl::StrCat("version ", version->version, " of model \"", model, "\" is archived"));
  }
  return version->version;
}

}  // namespace meridian::deploy
