#include "serving/version_resolver.h"

#include "absl/strings/str_cat.h"

namespace meridian::serving {

absl::StatusOr<std::string> VersionResolver::Resolve(absl::string_view model, absl::string_view ref) {
  const std::string key = absl::StrCat(model, "\n", ref);
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    if (auto it = answers_.find(key); it != answers_.end() && it->second.expires > now) return it->second.version;
  }
  absl::StatusOr<std::string> version = source_->Resolve(model, ref);
  // Answers about the registry's contents are remembered; a failure to ask (the store is
  // unreachable) is not.
  const bool answer = version.ok() || absl::IsNotFound(version.status()) || absl::IsInvalidArgument(version.status());
  if (answer) {
    absl::MutexLock lock(&mu_);
    // Clients choose the references: past the bound, start over rather than grow.
    if (answers_.size() >= max_entries_) answers_.clear();
    answers_[key] = Answer{version, now + time_to_live_};
  }
  return version;
}

}  // namespace meridian::serving
