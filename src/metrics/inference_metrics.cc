#include "metrics/inference_metrics.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace meridian::metrics {
namespace {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10};
  return buckets;
}

}  // namespace

InferenceMetrics::InferenceMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("inference_requests_total")
                    .Help("Inference requests by model, version and outcome.")
                    .Register(registry)),
      total_(prometheus::BuildHistogram()
                 .Name("inference_duration_seconds")
                 .Help("Inference request duration from arrival to answer, in seconds.")
                 .Register(registry)),
      queue_(prometheus::BuildHistogram()
                 .Name("inference_queue_duration_seconds")
                 .Help("Time an inference request waited for a model instance, in seconds.")
                 .Register(registry)),
      compute_(prometheus::BuildHistogram()
                   .Name("inference_compute_duration_seconds")
                   .Help("Backend execution time of an inference request, in seconds.")
                   .Register(registry)),
      inferences_(prometheus::BuildCounter()
                      .Name("inference_count_total")
                      .Help("Inferences performed (one per batch item).")
                      .Register(registry)),
      executions_(prometheus::BuildCounter()
                      .Name("inference_exec_count_total")
                      .Help("Backend executions (a batch counts once).")
                      .Register(registry)),
      batch_sizes_(prometheus::BuildHistogram()
                       .Name("inference_batch_size")
                       .Help("Rows per backend execution.")
                       .Register(registry)),
      queue_depths_(prometheus::BuildGauge()
                        .Name("inference_queue_depth")
                        .Help("Inference requests waiting for an instance.")
                        .Register(registry)),
      model_memory_(prometheus::BuildGauge()
                        .Name("model_memory_bytes")
                        .Help("Resident memory a loaded model version added, measured at load.")
                        .Register(registry)),
      evictions_(prometheus::BuildCounter()
                     .Name("model_evictions_total")
                     .Help("Idle model versions unloaded to make room within the memory budget.")
                     .Register(registry)),
      cold_starts_(prometheus::BuildHistogram()
                       .Name("inference_cold_start_seconds")
                       .Help("Arrival to answer for requests that waited for their model to load.")
                       .Register(registry)),
      cache_lookups_(prometheus::BuildCounter()
                         .Name("response_cache_requests_total")
                         .Help("Response cache lookups by model, version and result (hit or miss).")
                         .Register(registry)),
      cache_errors_(prometheus::BuildCounter()
                        .Name("response_cache_errors_total")
                        .Help("Response cache operations that failed (the request went on without the cache).")
                        .Register(registry)) {}

InferenceMetrics::Series InferenceMetrics::SeriesFor(absl::string_view model, absl::string_view version) {
  absl::MutexLock lock(&mu_);
  return SeriesLocked(model, version);
}

InferenceMetrics::Series InferenceMetrics::SeriesWithCacheCounter(absl::string_view model, absl::string_view version,
                                                                  bool hit) {
  absl::MutexLock lock(&mu_);
  Series& series = SeriesLocked(model, version);
  prometheus::Counter*& counter = hit ? series.cache_hits : series.cache_misses;
  if (counter == nullptr) {
    counter = &cache_lookups_.Add(
        {{"model", std::string(model)}, {"version", std::string(version)}, {"result", hit ? "hit" : "miss"}});
  }
  return series;
}

InferenceMetrics::Series& InferenceMetrics::SeriesLocked(absl::string_view model, absl::string_view version) {
  const std::string key = absl::StrCat(model, "\n", version);
  auto it = series_.find(key);
  if (it != series_.end()) return it->second;
  const std::map<std::string, std::string> labels = {{"model", std::string(model)}, {"version", std::string(version)}};
  std::map<std::string, std::string> success_labels = labels;
  success_labels["outcome"] = "success";
  Series series{
      .success = &requests_.Add(success_labels),
      .total = &total_.Add(labels, LatencyBuckets()),
      .queue = &queue_.Add(labels, LatencyBuckets()),
      .compute = &compute_.Add(labels, LatencyBuckets()),
      .inferences = &inferences_.Add(labels),
      .executions = &executions_.Add(labels),
      .batch_size = &batch_sizes_.Add(labels, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256}),
      .queue_depth = &queue_depths_.Add(labels),
  };
  return series_.emplace(key, series).first->second;
}

InferenceMetrics::VersionSeries InferenceMetrics::ForVersion(absl::string_view model, absl::string_view version) {
  return VersionSeries(SeriesFor(model, version));
}

void InferenceMetrics::VersionSeries::RecordSuccess(const InferenceTimings& timings) const {
  // One request alone: a plain observation, cheaper than RecordBatchSuccess's bucket vector.
  series_.success->Increment();
  series_.compute->Observe(absl::ToDoubleSeconds(timings.compute));
  series_.inferences->Increment(timings.batch_size);
  RecordAnswerTimes(timings.total, timings.queue);
}

void InferenceMetrics::VersionSeries::RecordBatchSuccess(int64_t requests, int64_t rows, absl::Duration compute) const {
  series_.success->Increment(static_cast<double>(requests));
  series_.inferences->Increment(static_cast<double>(rows));
  // Every request of the batch waited the same execution: `requests` observations in its bucket
  // (the bucket Observe picks: the first bound not below the value).
  const prometheus::Histogram::BucketBoundaries& bounds = LatencyBuckets();
  const double seconds = absl::ToDoubleSeconds(compute);
  std::vector<double> increments(bounds.size() + 1, 0.0);
  increments[static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin())] =
      static_cast<double>(requests);
  series_.compute->ObserveMultiple(increments, seconds * static_cast<double>(requests));
}

void InferenceMetrics::VersionSeries::RecordAnswerTimes(absl::Duration total, absl::Duration queue) const {
  series_.total->Observe(absl::ToDoubleSeconds(total));
  series_.queue->Observe(absl::ToDoubleSeconds(queue));
}

void InferenceMetrics::VersionSeries::RecordExecution(int64_t rows) const {
  series_.executions->Increment();
  series_.batch_size->Observe(static_cast<double>(rows));
}

void InferenceMetrics::VersionSeries::SetQueueDepth(int64_t depth) const {
  series_.queue_depth->Set(static_cast<double>(depth));
}

void InferenceMetrics::RecordSuccess(absl::string_view model, absl::string_view version,
                                     const InferenceTimings& timings) {
  ForVersion(model, version).RecordSuccess(timings);
}

void InferenceMetrics::RecordExecution(absl::string_view model, absl::string_view version, int64_t rows) {
  ForVersion(model, version).RecordExecution(rows);
}

void InferenceMetrics::SetModelMemory(absl::string_view model, absl::string_view version, int64_t bytes) {
  model_memory_.Add({{"model", std::string(model)}, {"version", std::string(version)}}).Set(static_cast<double>(bytes));
}

void InferenceMetrics::RecordEviction(absl::string_view model) {
  evictions_.Add({{"model", std::string(model)}}).Increment();
}

void InferenceMetrics::RecordColdStart(absl::string_view model, absl::Duration arrival_to_answer) {
  cold_starts_
      .Add({{"model", std::string(model)}},
           prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60})
      .Observe(absl::ToDoubleSeconds(arrival_to_answer));
}

void InferenceMetrics::RecordCacheHit(absl::string_view model, absl::string_view version, absl::Duration total) {
  const Series series = SeriesWithCacheCounter(model, version, /*hit=*/true);
  series.cache_hits->Increment();
  series.success->Increment();
  series.total->Observe(absl::ToDoubleSeconds(total));
}

void InferenceMetrics::RecordCacheMiss(absl::string_view model, absl::string_view version) {
  SeriesWithCacheCounter(model, version, /*hit=*/false).cache_misses->Increment();
}

void InferenceMetrics::RecordCacheError(absl::string_view backend) {
  cache_errors_.Add({{"backend", std::string(backend)}}).Increment();
}

void InferenceMetrics::RemoveModel(absl::string_view model, absl::string_view version) {
  const std::map<std::string, std::string> labels = {{"model", std::string(model)}, {"version", std::string(version)}};
  model_memory_.Remove(&model_memory_.Add(labels));
  absl::MutexLock lock(&mu_);
  auto it = series_.find(absl::StrCat(model, "\n", version));
  if (it != series_.end()) it->second.queue_depth->Set(0);
}

void InferenceMetrics::SetQueueDepth(absl::string_view model, absl::string_view version, int64_t depth) {
  ForVersion(model, version).SetQueueDepth(depth);
}

void InferenceMetrics::RecordFailure(absl::string_view model, absl::string_view version, absl::string_view reason,
                                     absl::Duration total) {
  // Failures are rarer than successes; the family's own lookup is fast enough here.
  requests_
      .Add({{"model", std::string(model)}, {"version", std::string(version)}, {"outcome", std::string(reason)}})
      .Increment();
  if (!version.empty()) SeriesFor(model, version).total->Observe(absl::ToDoubleSeconds(total));
}

}  // namespace meridian::metrics
