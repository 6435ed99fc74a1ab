#pragma once

// Which concrete version an alias (or "latest") names, asked of the model source and remembered
// briefly: a request that names an alias must not cost a registry query each time, and an alias
// that moves must reach requests soon (within the time to live). Loaded versions are keyed by
// their concrete version only, so a moved alias never keeps serving the version it left.
// Thread-safe.

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "serving/model_source.h"

namespace meridian::serving {

class VersionResolver {
 public:
  explicit VersionResolver(ModelSource* source, absl::Duration time_to_live = absl::Seconds(1),
                           size_t max_entries = 4096)
      : source_(source), time_to_live_(time_to_live), max_entries_(max_entries) {}

  // The concrete version `ref` names (a version names itself). kNotFound / kInvalidArgument for
  // a model or reference that names nothing, remembered as long as an answer.
  absl::StatusOr<std::string> Resolve(absl::string_view model, absl::string_view ref);

 private:
  struct Answer {
    absl::StatusOr<std::string> version;
    absl::Time expires;
  };

  ModelSource* source_;
  absl::Duration time_to_live_;
  size_t max_entries_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Answer> answers_ ABSL_GUARDED_BY(mu_);  // "model\nref"
};

}  // namespace meridian::serving
