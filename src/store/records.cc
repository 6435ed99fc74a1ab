#include "store/records.h"

#include "absl/strings/str_cat.h"

namespace meridian::store {

absl::string_view VersionStatusName(VersionStatus status) {
  switch (status) {
    case VersionStatus::kPending:
      return "PENDING";
    case VersionStatus::kReady:
      return "READY";
    case VersionStatus::kFailed:
      return "FAILED";
    case VersionStatus::kArchived:
      return "ARCHIVED";
  }
  return "READY";
}

absl::StatusOr<VersionStatus> ParseVersionStatus(absl::string_view name) {
  for (VersionStatus s : {VersionStatus::kPending, VersionStatus::kReady, VersionStatus::kFailed,
                          VersionStatus::kArchived}) {
    if (VersionStatusName(s) == name) return s;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown version status \"", name, "\": use PENDING, READY, FAILED or ARCHIVED"));
}

}  // namespace meridian::store
