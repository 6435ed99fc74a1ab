#pragma once

// Which concrete version a reference names, asked of the model source and remembered briefly: an
// alias or "latest", a version (which names itself, if registered), or "" (what "latest" names:
// the newest release; for a model with pre-releases only, the newest of them). A request that names an alias must not cost a registry query each time, an alias
// that moves must reach requests soon (within the time to live, at once when the registry says
// so through Forget), and a client repeating a model name that does not exist must not cost a
// query per request. Loaded versions are keyed by their concrete version only, so a moved alias
// never keeps serving the version it left.
//
// With a refresher, an answer past its time to live keeps serving while a worker asks again, so
// that threads which must not block (I/O threads) never wait on the registry for a reference
// they have seen before. Negative answers are never served past their time to live: a model
// pushed after a 404 must be found. Thread-safe.

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/thread_pool.h"
#include "serving/model_source.h"

namespace meridian::serving {

struct VersionResolverOptions {
  ModelSource* source = nullptr;  // not owned
  absl::Duration time_to_live = absl::Seconds(1);
  // Clients choose the references: past this many answers, start over rather than grow.
  size_t max_answers = 4096;
  // Where expired answers are asked again while they keep serving; null: asked again by the
  // thread that needs them. Not owned.
  ThreadPool* refresher = nullptr;
};

class VersionResolver {
 public:
  explicit VersionResolver(const VersionResolverOptions& options) : options_(options) {}

  // The concrete version `ref` names, asking the source unless a fresh answer is remembered
  // (blocks for a registry query). kNotFound / kInvalidArgument for a model or reference that
  // names nothing, remembered as long as an answer.
  absl::StatusOr<std::string> Resolve(absl::string_view model, absl::string_view ref);
  // What is remembered about `ref`, never asking the source on this thread: nullopt when nothing
  // is (or a negative answer expired). An expired version is returned and, with a refresher,
  // asked again in the background; without one it counts as not remembered.
  std::optional<absl::StatusOr<std::string>> Remembered(absl::string_view model, absl::string_view ref);
  // Drops what is remembered about the model's references (its versions or aliases changed).
  void Forget(absl::string_view model);
  // Whether any reference of the model is remembered to name a version (the model exists).
  bool KnowsModel(absl::string_view model);

 private:
  struct Answer {
    absl::StatusOr<std::string> version;
    absl::Time expires;
    bool refreshing = false;
  };
  absl::StatusOr<std::string> Ask(absl::string_view model, absl::string_view ref);
  uint64_t Generation();
  void Remember(absl::string_view model, absl::string_view ref, const absl::StatusOr<std::string>& version,
                uint64_t asked_at_generation);
  void Refresh(const std::string& model, const std::string& ref);

  const VersionResolverOptions options_;
  absl::Mutex mu_;
  // model -> reference -> answer
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, Answer>> answers_ ABSL_GUARDED_BY(mu_);
  size_t count_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // Forget calls so far
};

}  // namespace meridian::serving
