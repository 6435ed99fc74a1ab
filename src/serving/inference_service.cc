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
  // The task holds a plain pointer: a ServedModel finishes its queued tasks before it goes, and a
  // shared_ptr released on the model's own instance thread would have it join itself.
  ServedModel* model = served.get();
  auto shared_request = std::make_shared<InferenceRequest>(std::move(request));
  auto shared_done = std::make_shared<Callback>(std::move(done));
  auto output_names_ptr = std::make_shared<std::vector<std::string>>(std::move(output_names));
  const bool queued = model->Submit([this, model, shared_request, shared_done, output_names_ptr, arrival] {
    const absl::Time start = absl::Now();
    absl::StatusOr<std::vector<Tensor>> outputs = model->model().Execute(shared_request->inputs, *output_names_ptr);
    const absl::Time end = absl::Now();
    if (!outputs.ok()) {
      metrics_->RecordFailure(model->name(), model->version(), FailureReason(outputs.status()), end - arrival);
      (*shared_done)(outputs.status());
      return;
    }
    InferenceResponse response{.model = model->name(), .version = model->version(), .id = shared_request->id,
                               .outputs = std::move(*outputs)};
    int batch = 1;
    if (!shared_request->inputs.empty() && !shared_request->inputs[0].shape().empty()) {
      batch = static_cast<int>(std::max<int64_t>(1, shared_request->inputs[0].shape()[0]));
    }
    metrics_->RecordSuccess(model->name(), model->version(),
                            {.total = end - arrival, .queue = start - arrival, .compute = end - start, .batch_size = batch});
    (*shared_done)(std::move(response));
  });
  if (!queued) {
    absl::Status full = absl::ResourceExhaustedError(
        absl::StrCat("model '", model->name(), "' version ", model->version(), " has ", model->queued(),
                     " requests queued; retry later"));
    metrics_->RecordFailure(model->name(), model->version(), FailureReason(full), absl::Now() - arrival);
    (*shared_done)(full);
  }
}

}  // namespace meridian::serving
