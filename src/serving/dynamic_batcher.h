#pragma once

// The queue and instance threads of one model version. Requests wait in one queue per priority
// level; each instance thread takes the highest-priority work and, when the model has a dynamic
// batch dimension, gathers compatible requests (same datatypes, same non-batch dimensions, same
// requested outputs) into one execution of up to maxBatchSize rows, waiting at most
// maxQueueDelay for a batch to fill unless it already has a preferred size. The batch's outputs
// are split back per request; if a batched execution fails, its requests run one by one so that
// a bad request fails only itself. Requests past their deadline answer kDeadlineExceeded (504)
// without running, requests whose client has gone (InferenceRequest::client_gone, asked when
// their batch is taken) kCancelled without running; a full queue refuses at once with
// kResourceExhausted (429). A request to an idle version quick enough to execute at once, and a
// request that completes a full batch of a version whose batches are quick, run on the thread
// that submits them instead (DynamicBatcherOptions::execute_inline_below). Thread-safe.

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "metrics/inference_metrics.h"
#include "serving/backend.h"
#include "serving/batching_config.h"
#include "serving/compute_slots.h"
#include "serving/execution_time_estimate.h"
#include "serving/inference.h"

namespace meridian::serving {

inline constexpr absl::Duration kDefaultExecuteInlineBelow = absl::Microseconds(200);

struct DynamicBatcherOptions {
  BatchingConfig config;
  LoadedModel* model = nullptr;              // not owned; outlives the batcher
  std::string model_name;
  std::string version;
  metrics::InferenceMetrics* metrics = nullptr;  // not owned; may be null
  // Shared by every version's batcher: one slot is held per execution. Null: no process-wide cap.
  std::shared_ptr<ComputeSlots> compute_slots;
  // Whether a request's client has gone (a socket peek, a system call) is asked only of requests
  // that have waited at least this long when their batch is taken: one that arrived a moment ago
  // is almost never abandoned, and asking every request costs a system call each.
  absl::Duration client_check_after = absl::Milliseconds(1);
  // When the version is lightly loaded (nothing queued or executing now, and almost no recent
  // request found anything queued or executing) and a request is expected to execute in less than
  // this (from recent executions, scaled by its input bytes), the thread that submits it executes
  // it itself instead of waking an instance thread: a thread wake-up (15-30 us on a virtual
  // machine) is then a large share of the answer. The submitting thread (an I/O thread)
  // is held for at most about this long. Under load requests still go to the instance threads,
  // where they form batches and leave the I/O threads to read. Only without a queue delay to
  // wait out.
  // Under load the same limit lets the submitting thread execute a batch: the request that
  // completes a full batch (maxBatchSize rows), if its transport allows it
  // (InferenceRequest::may_execute_batch_inline), runs that batch itself when batches have been
  // measured to execute in less than this (scaled by their input bytes), an instance's share of
  // executions is free (no more batches execute at once than there are instances), nothing of a
  // higher priority is queued, and a compute slot is free. The wake-up of an instance thread and
  // the hand-off of every answer back to its connection's thread then disappear; the I/O thread
  // is held for at most about this long per batch. Zero: always to the instance threads.
  absl::Duration execute_inline_below = kDefaultExecuteInlineBelow;
};

class DynamicBatcher {
 public:
  explicit DynamicBatcher(const DynamicBatcherOptions& options);
  // Runs what is queued, then stops the instance threads.
  ~DynamicBatcher();
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // How a request would be queued, from its parameters and this version's settings. Checked
  // before anything answers the request (the response cache included), so that a request is
  // refused for the same reasons whoever would answer it.
  struct Admission {
    int priority = 1;
    absl::Time deadline = absl::InfiniteFuture();  // InfiniteFuture: none
    int64_t rows = 1;
    // With preserveOrdering, the request's place in the order of answers, taken on admission so
    // that a request answered without queueing (from the response cache) keeps its place.
    uint64_t sequence = 0;
  };
  // Fails (kInvalidArgument) when the priority or timeout parameter is invalid or the request
  // has more rows than maxBatchSize. An admitted request must then be either enqueued or
  // answered through Answered.
  absl::StatusOr<Admission> Admit(const InferenceRequest& request, absl::Time arrival);

  // Queues a validated, admitted request; `done` is taken only when it is queued. Fails at once
  // (nothing queued, `done` left with the caller, uncalled) when the queue is full; the caller
  // answers such a refusal at once, outside the order of answers.
  absl::Status Enqueue(InferenceRequest&& request, const Admission& admission, InferenceCallback&& done,
                       absl::Time arrival);
  // Admit, then Enqueue.
  absl::Status Enqueue(InferenceRequest&& request, InferenceCallback&& done, absl::Time arrival);
  // An admitted request answered without running (from the response cache): `done` runs at
  // once, or, with preserveOrdering, once every request admitted before it has been answered.
  void Answered(const Admission& admission, InferenceResponse response, InferenceCallback&& done);

  size_t queue_depth() const;
  // Requests queued or executing (a replica's concurrency, for the autoscaler).
  size_t outstanding() const;
  // Time the instances have spent executing, summed over instances since the start (its growth
  // over an interval, divided by the interval, is how many CPUs' worth of work ran).
  absl::Duration busy_time() const { return absl::Nanoseconds(busy_ns_.load(std::memory_order_relaxed)); }
  // Time answered requests spent here (queued and executing), summed. Its growth over an
  // interval divided by the interval is the average number of requests present (Little's law):
  // the concurrency an autoscaler targets, without sampling noise.
  absl::Duration request_time() const { return absl::Nanoseconds(request_ns_.load(std::memory_order_relaxed)); }
  // Requests queued or executing: a busy version must not be evicted.
  bool busy() const;
  const BatchingConfig& config() const { return options_.config; }

 private:
  struct Pending {
    InferenceRequest request;
    std::vector<std::string> output_names;
    InferenceCallback done;
    absl::Time arrival;  // at the server: deadlines and the total time count from here
    // Here: queue time, the batching delay and the time spent here count from this (a request
    // that first waited for its version to load, or for the response cache, had not queued yet).
    absl::Time queued;
    absl::Time deadline;  // InfiniteFuture: none
    uint64_t sequence = 0;
    int64_t rows = 1;
  };
  // Whether two requests can share an execution: concatenated along the first dimension.
  static bool Batchable(const Pending& a, const Pending& b);

  void RunInstance();
  // Whether an admitted request may run on the submitting thread now (see
  // DynamicBatcherOptions::execute_inline_below); the caller then counts it as executing.
  bool MayExecuteInline(const Pending& pending, absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // A process-wide compute slot into *slot if one is free now (or no cap is set).
  bool TakeComputeSlot(std::optional<ComputeSlots::Hold>* slot) const;
  void ExecuteInline(Pending pending, std::optional<ComputeSlots::Hold> slot);
  // Executes a batch taken by TakeFullBatchToRunHere on the submitting thread, then counts it done.
  void ExecuteBatchInline(std::vector<Pending> batch, std::optional<ComputeSlots::Hold> slot);
  // The compatible requests at the front of `queue`, up to maxBatchSize rows; *rows: theirs.
  // *full: the batch can take no more of what is queued, because it has maxBatchSize rows or a
  // compatible request does not fit in what is left (requests of 3 rows never make 32: waiting
  // out the queue delay would add nothing, and the one left out waits for the next batch anyway).
  std::vector<size_t> Choose(const std::deque<Pending>& queue, int64_t* rows, bool* full) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // A full batch at `level` that the submitting thread may execute itself; empty when not.
  std::vector<Pending> TakeFullBatchToRunHere(size_t level, absl::Time now, std::optional<ComputeSlots::Hold>* slot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Picks the next batch (empty when stopping with nothing left). Expired requests found on the
  // way are moved to `expired`.
  std::vector<Pending> NextBatch(std::vector<Pending>* expired) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Moves queue[i] for each of `indices` (ascending) to the end of *taken, in that order, keeping
  // the counters; the rest of the queue keeps its order.
  void Take(std::deque<Pending>& queue, const std::vector<size_t>& indices, std::vector<Pending>* taken)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Execute(std::vector<Pending> batch);
  void ExecuteOne(Pending& pending, absl::Time start);
  // `now`: when the answer is ready (a batch's answers share one reading of the clock).
  void Deliver(Pending& pending, absl::StatusOr<InferenceResponse> result, absl::Time now);
  // With preserveOrdering: runs `done` (none: a place given up) once every answer with an
  // earlier sequence has gone out.
  void DeliverInOrder(uint64_t sequence, InferenceCallback done, absl::StatusOr<InferenceResponse> result);
  bool Batchable() const;
  // Signals the watcher when what it waits for has happened, or an idle instance when queued work
  // has no instance looking at it.
  void WakeWhoIsNeeded() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Whether the watcher should look at the queue again now.
  bool WatcherShouldLook() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const DynamicBatcherOptions options_;
  const bool batchable_;
  std::optional<metrics::InferenceMetrics::VersionSeries> series_;  // set with options_.metrics
  mutable absl::Mutex mutex_;
  std::vector<std::deque<Pending>> queues_ ABSL_GUARDED_BY(mutex_);  // index 0 = priority 1
  size_t queued_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t queued_rows_ ABSL_GUARDED_BY(mutex_) = 0;
  size_t executing_ ABSL_GUARDED_BY(mutex_) = 0;
  int batches_executing_ ABSL_GUARDED_BY(mutex_) = 0;  // by instances and submitting threads
  // How the instances wait, without making the submitting thread evaluate their conditions on every
  // unlock (as absl::Condition waits would): at most one instance, the watcher, waits for the
  // queue's next batch to fill or come due; the others wait for work on idle_. A submitting thread
  // signals only when a wait's condition has become true (WakeWhoIsNeeded).
  static constexpr size_t kNoLevel = static_cast<size_t>(-1);
  struct Watch {
    bool active = false;
    int64_t rows_needed = 0;  // queued rows at which the watcher looks again
    // Work queued at a higher priority than this wakes it too, as does this level emptying while a
    // lower one has work; kNoLevel: the watcher watches an empty queue.
    size_t level = kNoLevel;
  };
  Watch watch_ ABSL_GUARDED_BY(mutex_);
  uint64_t arrivals_at_last_watch_ ABSL_GUARDED_BY(mutex_) = 0;
  absl::CondVar watcher_;
  absl::CondVar idle_;
  int idle_instances_ ABSL_GUARDED_BY(mutex_) = 0;
  int idle_wakes_pending_ ABSL_GUARDED_BY(mutex_) = 0;  // signalled on idle_, not yet running
  uint64_t arrivals_ ABSL_GUARDED_BY(mutex_) = 0;       // requests queued since the start
  // The share of recent requests that found others queued or executing (a moving average): how
  // loaded the version is.
  double found_busy_ ABSL_GUARDED_BY(mutex_) = 0;
  std::atomic<uint64_t> next_sequence_{0};
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;

  // preserveOrdering: answers held until every earlier request has been answered.
  absl::Mutex delivery_mutex_;
  uint64_t next_delivery_ ABSL_GUARDED_BY(delivery_mutex_) = 0;
  std::map<uint64_t, std::pair<InferenceCallback, absl::StatusOr<InferenceResponse>>> held_
      ABSL_GUARDED_BY(delivery_mutex_);

  // Recent execution time per KiB of input, from executions of one request (a moving average; 0:
  // none measured yet). Per input byte rather than per request, so that a request with more rows
  // or longer sequences is expected to take longer.
  std::atomic<int64_t> execution_ns_per_kib_{0};
  // The same for executions of several requests together, but the low end of recent ones.
  ExecutionTimeEstimate batch_time_;
  std::atomic<int64_t> busy_ns_{0};
  std::atomic<int64_t> request_ns_{0};
  std::vector<std::thread> instances_;
};

}  // namespace meridian::serving
