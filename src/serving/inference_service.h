#pragma once

// The data plane's entry point, shared by every protocol: finds the model version, validates the
// request against its signature and hands it to the version's DynamicBatcher, which executes it
// and times each stage into the inference metrics. Never blocks the caller: a full queue is an
// immediate kResourceExhausted (429 / RESOURCE_EXHAUSTED). Thread-safe.

#include <functional>

#include "absl/status/statusor.h"
#include "metrics/inference_metrics.h"
#include "serving/inference.h"
#include "serving/model_repository.h"

namespace meridian::serving {

class InferenceService {
 public:
  InferenceService(ModelRepository* repository, metrics::InferenceMetrics* metrics)
      : repository_(repository), metrics_(metrics) {}

  // `done` runs exactly once: on an instance thread after execution, or on the calling thread
  // when the request is refused before queueing.
  using Callback = InferenceCallback;
  void Infer(InferenceRequest request, Callback done);

  ModelRepository& repository() { return *repository_; }

 private:
  ModelRepository* repository_;
  metrics::InferenceMetrics* metrics_;
};

// The failure reason label for a status ("invalid_argument", "queue_full", ...).
std::string FailureReason(const absl::Status& status);

}  // namespace meridian::serving
