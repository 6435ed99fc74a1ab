#include "serving/inference_service.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace meridian::serving {

std::string FailureReason(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kResourceExhausted) return "queue_full";
  return absl::AsciiStrToLower(absl::StatusCodeToString(status.code()));
}

void InferenceService::Infer(InferenceRequest request, Callback done) {
  const absl::Time arrival = absl::Now();
  absl::StatusOr<std::shared_ptr<ServedModel>> found = repository_->Find(request.model, request.version);
  if (!found.ok()) {
    // Unknown names are not recorded as label values: clients choose them, and a label per typo
    // would grow the metrics without bound.
    done(found.status());
    return;
  }
  std::shared_ptr<ServedModel> served = std::move(*found);
  std::vector<std::string> output_names;
  for (const RequestedOutput& output : request.outputs) output_names.push_back(output.name);
  if (absl::Status valid = ValidateRequest(served->signature(), request.inputs, output_names); !valid.ok()) {
    metrics_->RecordFailure(served->name(), served->version(), FailureReason(valid), absl::Now() - arrival);
    done(valid);
    return;
  }
  const std::string name = served->name();
  const std::string version = served->version();
  if (absl::Status queued = served->batcher().Enqueue(std::move(request), std::move(done), arrival); !queued.ok()) {
    metrics_->RecordFailure(name, version, FailureReason(queued), absl::Now() - arrival);
    done(queued);  // a refused request leaves its callback with us
  }
}

}  // namespace meridian::serving
