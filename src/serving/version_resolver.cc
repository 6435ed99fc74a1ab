#include "serving/version_resolver.h"

#include "absl/strings/str_cat.h"
#include "common/semver.h"

namespace meridian::serving {
namespace {

// Answers about the registry's contents; a failure to ask (the store is unreachable) is not one.
bool IsAnswer(const absl::StatusOr<std::string>& version) {
  return version.ok() || absl::IsNotFound(version.status()) || absl::IsInvalidArgument(version.status());
}

}  // namespace

absl::StatusOr<std::string> VersionResolver::Ask(absl::string_view model, absl::string_view ref) {
  if (!ref.empty()) return options_.source->Resolve(model, ref);
  absl::StatusOr<std::vector<std::string>> versions = options_.source->Versions(model);  // oldest first
  if (!versions.ok()) return versions.status();
  if (versions->empty()) return absl::NotFoundError(absl::StrCat("model '", model, "' has no servable version"));
  // The newest release, as "latest" names it; a model with pre-releases only, the newest of them.
  for (auto it = versions->rbegin(); it != versions->rend(); ++it) {
    absl::StatusOr<SemVer> version = SemVer::Parse(*it);
    if (version.ok() && !version->is_prerelease()) return *it;
  }
  return versions->back();
}

uint64_t VersionResolver::Generation() {
  absl::MutexLock lock(&mu_);
  return generation_;
}

void VersionResolver::Remember(absl::string_view model, absl::string_view ref,
                               const absl::StatusOr<std::string>& version, uint64_t asked_at_generation) {
  absl::MutexLock lock(&mu_);
  if (generation_ != asked_at_generation) {
    // A Forget since the question was asked: the answer may predate the change it announced.
    // Whatever is still remembered is asked again on its next use.
    if (auto m = answers_.find(model); m != answers_.end()) {
      if (auto r = m->second.find(ref); r != m->second.end()) r->second.refreshing = false;
    }
    return;
  }
  if (count_ >= options_.max_answers) {
    answers_.clear();
    count_ = 0;
  }
  auto& refs = answers_[model];
  auto [it, inserted] = refs.try_emplace(ref);
  if (inserted) ++count_;
  it->second = Answer{version, absl::Now() + options_.time_to_live};
}

absl::StatusOr<std::string> VersionResolver::Resolve(absl::string_view model, absl::string_view ref) {
  {
    absl::MutexLock lock(&mu_);
    if (auto m = answers_.find(model); m != answers_.end()) {
      if (auto r = m->second.find(ref); r != m->second.end() && r->second.expires > absl::Now()) {
        return r->second.version;
      }
    }
  }
  const uint64_t generation = Generation();
  absl::StatusOr<std::string> version = Ask(model, ref);
  if (IsAnswer(version)) Remember(model, ref, version, generation);
  return version;
}

std::optional<absl::StatusOr<std::string>> VersionResolver::Remembered(absl::string_view model,
                                                                       absl::string_view ref) {
  absl::MutexLock lock(&mu_);
  auto m = answers_.find(model);
  if (m == answers_.end()) return std::nullopt;
  auto r = m->second.find(ref);
  if (r == m->second.end()) return std::nullopt;
  Answer& answer = r->second;
  if (answer.expires > absl::Now()) return answer.version;
  if (!answer.version.ok() || options_.refresher == nullptr) return std::nullopt;
  if (!answer.refreshing) {
    // A full queue leaves it expired; the next request tries again.
    answer.refreshing = options_.refresher->TrySubmit(
        [this, model = std::string(model), ref = std::string(ref)] { Refresh(model, ref); });
  }
  return answer.version;
}

void VersionResolver::Refresh(const std::string& model, const std::string& ref) {
  const uint64_t generation = Generation();
  absl::StatusOr<std::string> version = Ask(model, ref);
  if (IsAnswer(version)) {
    Remember(model, ref, version, generation);
    return;
  }
  // The store did not answer: keep serving what it said last, and ask again on the next request.
  absl::MutexLock lock(&mu_);
  if (auto m = answers_.find(model); m != answers_.end()) {
    if (auto r = m->second.find(ref); r != m->second.end()) r->second.refreshing = false;
  }
}

void VersionResolver::Forget(absl::string_view model) {
  absl::MutexLock lock(&mu_);
  ++generation_;
  auto m = answers_.find(model);
  if (m == answers_.end()) return;
  count_ -= m->second.size();
  answers_.erase(m);
}

bool VersionResolver::KnowsModel(absl::string_view model) {
  absl::MutexLock lock(&mu_);
  auto m = answers_.find(model);
  if (m == answers_.end()) return false;
  for (const auto& [ref, answer] : m->second) {
    if (answer.version.ok()) return true;
  }
  return false;
}

}  // namespace meridian::serving
