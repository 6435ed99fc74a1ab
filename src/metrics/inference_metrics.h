#pragma once

// Inference metrics per model and version:
//   inference_requests_total{model,version,outcome}     counter; outcome "success" or the failure
//                                                       reason ("invalid_argument", "queue_full", ...)
//   inference_duration_seconds{model,version}           histogram, request arrival to answer
//   inference_queue_duration_seconds{model,version}     histogram, waiting for an instance
//   inference_compute_duration_seconds{model,version}   histogram, backend execution
//   inference_count_total{model,version}                counter, inferences (batch items)
//   inference_exec_count_total{model,version}           counter, backend executions; with the
//                                                       above gives the average batch size
//   inference_batch_size{model,version}                 histogram, rows per execution
//   inference_queue_depth{model,version}                gauge, requests waiting
//   model_memory_bytes{model,version}                   gauge, resident memory the load added
//   model_evictions_total{model}                        counter, versions evicted for room
//   inference_cold_start_seconds{model}                 histogram, arrival to answer for requests
//                                                       that waited for their model to load
//   response_cache_requests_total{model,version,result} counter, result "hit" or "miss"
//   response_cache_errors_total{backend}                counter, cache operations that failed
// The end-to-end name is unprefixed so that the alert
//   histogram_quantile(0.95, sum(rate(inference_duration_seconds_bucket[5m])) by (le)) > 2
// works as written. Thread-safe.

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace meridian::metrics {

struct InferenceTimings {
  absl::Duration total;
  absl::Duration queue;
  absl::Duration compute;
  int batch_size = 1;
};

class InferenceMetrics {
 private:
  struct Series {
    prometheus::Counter* success;
    prometheus::Histogram* total;
    prometheus::Histogram* queue;
    prometheus::Histogram* compute;
    prometheus::Counter* inferences;
    prometheus::Counter* executions;
    prometheus::Histogram* batch_size;
    prometheus::Gauge* queue_depth;
    // Added on the version's first cache lookup, so that versions without a cache show none.
    prometheus::Counter* cache_hits = nullptr;
    prometheus::Counter* cache_misses = nullptr;
  };
 public:
  explicit InferenceMetrics(prometheus::Registry& registry);

  // One version's series, looked up once, for what is recorded per request without a lookup each
  // time (a version's batcher). Valid while this object is: series are never removed.
  class VersionSeries {
   public:
    void RecordSuccess(const InferenceTimings& timings) const;
    // A batch of `requests` requests (`rows` rows in all) answered after `compute` of execution:
    // what RecordSuccess records for each of them but their own times, in one update per series.
    // Each request then needs RecordAnswerTimes.
    void RecordBatchSuccess(int64_t requests, int64_t rows, absl::Duration compute) const;
    void RecordAnswerTimes(absl::Duration total, absl::Duration queue) const;
    void RecordExecution(int64_t rows) const;
    void SetQueueDepth(int64_t depth) const;

   private:
    friend class InferenceMetrics;
    explicit VersionSeries(const Series& series) : series_(series) {}
    Series series_;
  };
  VersionSeries ForVersion(absl::string_view model, absl::string_view version);

  // One request answered; `timings.batch_size` is its own row count.
  void RecordSuccess(absl::string_view model, absl::string_view version, const InferenceTimings& timings);
  // One backend execution of `rows` rows (one or several requests).
  void RecordExecution(absl::string_view model, absl::string_view version, int64_t rows);
  void SetQueueDepth(absl::string_view model, absl::string_view version, int64_t depth);
  void SetModelMemory(absl::string_view model, absl::string_view version, int64_t bytes);
  void RecordEviction(absl::string_view model);
  void RecordColdStart(absl::string_view model, absl::Duration arrival_to_answer);
  // A request answered from the response cache: a hit, and a success whose arrival-to-answer
  // time counts in the request histogram (as any answered request's), with no queue or compute
  // time and no inference (nothing was executed).
  void RecordCacheHit(absl::string_view model, absl::string_view version, absl::Duration total);
  void RecordCacheMiss(absl::string_view model, absl::string_view version);
  void RecordCacheError(absl::string_view backend);
  // Drops a version's memory and queue gauges once it is unloaded.
  void RemoveModel(absl::string_view model, absl::string_view version);
  // A request that failed before or during execution; `version` may be empty when unknown.
  void RecordFailure(absl::string_view model, absl::string_view version, absl::string_view reason,
                     absl::Duration total);

 private:
  // A copy: the map's storage moves when another thread adds a version's series (a reference
  // into it would dangle); the metrics pointed to stay where they are.
  Series SeriesFor(absl::string_view model, absl::string_view version);
  // The version's series, added if new; the reference is valid while mu_ is held.
  Series& SeriesLocked(absl::string_view model, absl::string_view version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The version's series with its cache lookup counter for `hit` added if new.
  Series SeriesWithCacheCounter(absl::string_view model, absl::string_view version, bool hit);

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& total_;
  prometheus::Family<prometheus::Histogram>& queue_;
  prometheus::Family<prometheus::Histogram>& compute_;
  prometheus::Family<prometheus::Counter>& inferences_;
  prometheus::Family<prometheus::Counter>& executions_;
  prometheus::Family<prometheus::Histogram>& batch_sizes_;
  prometheus::Family<prometheus::Gauge>& queue_depths_;
  prometheus::Family<prometheus::Gauge>& model_memory_;
  prometheus::Family<prometheus::Counter>& evictions_;
  prometheus::Family<prometheus::Histogram>& cold_starts_;
  prometheus::Family<prometheus::Counter>& cache_lookups_;
  prometheus::Family<prometheus::Counter>& cache_errors_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Series> series_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::metrics
