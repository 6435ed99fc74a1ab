#pragma once

// How a model version's requests are queued, batched and executed. Comes from the server's
// defaults, overridden by the version metadata's "batching" object:
//   {"batching": {"maxBatchSize": 32, "preferredBatchSizes": [8, 16], "maxQueueDelay": "500us",
//                 "maxQueueSize": 1024, "priorityLevels": 2, "defaultPriority": 1,
//                 "defaultTimeout": "2s", "preserveOrdering": true, "instances": 2}}
// (the deployment spec will carry the same fields).

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace meridian::serving {

struct BatchingConfig {
  // Rows per execution; 1 disables batching. Only models whose inputs all have a dynamic first
  // dimension are batched.
  int64_t max_batch_size = 1;
  // Batch sizes worth executing at once without waiting out max_queue_delay.
  std::vector<int64_t> preferred_batch_sizes;
  // How long the oldest request may wait for others to join its batch.
  absl::Duration max_queue_delay = absl::ZeroDuration();
  // Requests waiting beyond this are refused at once (429 / RESOURCE_EXHAUSTED).
  int64_t max_queue_size = 1024;
  // Priority levels 1 (highest) .. priority_levels; requests without one get default_priority.
  int priority_levels = 1;
  int default_priority = 1;
  // A request still queued after its timeout (request parameter "timeout", microseconds, or
  // this default; zero: none) answers 504 and is not executed.
  absl::Duration default_timeout = absl::ZeroDuration();
  // Answer in arrival order even when instances finish out of order.
  bool preserve_ordering = false;
  // Execution threads (model instances).
  int instances = 1;

  absl::Status Validate() const;
};

// Applies the metadata's "batching" object (if any) over `defaults`. Errors name the field.
absl::StatusOr<BatchingConfig> BatchingFromMetadata(absl::string_view metadata_json, const BatchingConfig& defaults);

}  // namespace meridian::serving
