#include "serving/dynamic_batcher.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/thread_name.h"

namespace meridian::serving {
namespace {

int64_t Rows(const InferenceRequest& request) {
  if (request.inputs.empty() || request.inputs[0].shape().empty()) return 1;
  return request.inputs[0].shape()[0];
}

// The bytes of a request's inputs (at least 1).
size_t InputBytes(const InferenceRequest& request) {
  size_t bytes = 0;
  for (const Tensor& input : request.inputs) bytes += input.byte_size();
  return std::max<size_t>(1, bytes);
}

// Concatenates the same input of every request along the first dimension (one copy).
Tensor Concatenate(const std::vector<const Tensor*>& parts, int64_t rows) {
  size_t bytes = 0;
  for (const Tensor* part : parts) bytes += part->byte_size();
  std::string data;
  data.reserve(bytes);
  for (const Tensor* part : parts) data.append(part->data(), part->byte_size());
  Shape shape = parts[0]->shape();
  shape[0] = rows;
  return Tensor::Owned(parts[0]->name(), parts[0]->type(), std::move(shape), std::move(data));
}

// Rows [begin, begin + count) of a batched output.
absl::StatusOr<Tensor> SliceRows(const Tensor& output, int64_t begin, int64_t count, int64_t total_rows) {
  if (output.shape().empty() || output.shape()[0] != total_rows) {
    return absl::InternalError(absl::StrCat("output '", output.name(), "' has shape ", ShapeText(output.shape()),
                                            "; expected ", total_rows, " rows"));
  }
  Shape shape = output.shape();
  shape[0] = count;
  if (output.type() == DataType::kBytes) {
    absl::StatusOr<std::vector<absl::string_view>> elements = SplitBytesElements(output.bytes());
    if (!elements.ok()) return elements.status();
    const int64_t per_row = total_rows == 0 ? 0 : static_cast<int64_t>(elements->size()) / total_rows;
    std::string data;
    for (int64_t i = begin * per_row; i < (begin + count) * per_row; ++i) AppendBytesElement(&data, (*elements)[i]);
    return Tensor::Owned(output.name(), output.type(), std::move(shape), std::move(data));
  }
  const size_t row_bytes = total_rows == 0 ? 0 : output.byte_size() / static_cast<size_t>(total_rows);
  const absl::string_view rows = output.bytes().substr(begin * row_bytes, count * row_bytes);
  // A view sharing the batch's output where it has an owner: no allocation or copy per request.
  if (output.owner() != nullptr) return Tensor::View(output.name(), output.type(), std::move(shape), rows, output.owner());
  return Tensor::Owned(output.name(), output.type(), std::move(shape), std::string(rows));
}

// A version is lightly loaded, for executing on the submitting thread, while fewer than this share
// of recent requests found others queued or executing. One client sending request after request
// finds none; eight clients find some most of the time, and there handing requests to the instance
// threads (which lets the I/O threads read on and batches form) measured faster.
constexpr double kLightlyLoaded = 0.1;

// An instance watches an empty queue on a timer of one queue delay (see NextBatch) only when that
// delay is at least this: a shorter one would wake it more often than arrivals would.
constexpr absl::Duration kShortestWatch = absl::Microseconds(100);

}  // namespace

DynamicBatcher::DynamicBatcher(const DynamicBatcherOptions& options)
    : options_(options), batchable_(Batchable()) {
  if (options_.metrics) series_.emplace(options_.metrics->ForVersion(options_.model_name, options_.version));
  {
    absl::MutexLock lock(&mutex_);
    queues_.resize(static_cast<size_t>(std::max(1, options_.config.priority_levels)));
  }
  for (int i = 0; i < std::max(1, options_.config.instances); ++i) instances_.emplace_back([this] {
      NameThisThread(absl::StrCat("infer:", options_.model_name));
      RunInstance();
    });
}

DynamicBatcher::~DynamicBatcher() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
    watcher_.SignalAll();
    idle_.SignalAll();
  }
  for (std::thread& instance : instances_) instance.join();
}

bool DynamicBatcher::Batchable() const {
  if (options_.config.max_batch_size <= 1) return false;
  const ModelSignature& signature = options_.model->signature();
  if (signature.inputs.empty()) return false;
  for (const TensorSpec& spec : signature.inputs) {
    if (spec.shape.empty() || spec.shape[0] != -1) return false;
  }
  for (const TensorSpec& spec : signature.outputs) {
    if (spec.shape.empty() || spec.shape[0] != -1) return false;
  }
  return true;
}

size_t DynamicBatcher::queue_depth() const {
  absl::MutexLock lock(&mutex_);
  return queued_;
}

size_t DynamicBatcher::outstanding() const {
  absl::MutexLock lock(&mutex_);
  return queued_ + executing_;
}

bool DynamicBatcher::busy() const {
  absl::MutexLock lock(&mutex_);
  return queued_ + executing_ > 0;
}

absl::StatusOr<DynamicBatcher::Admission> DynamicBatcher::Admit(const InferenceRequest& request,
                                                                 absl::Time arrival) {
  const BatchingConfig& config = options_.config;
  Admission admission{.priority = config.default_priority};
  if (request.parameters.contains("priority")) {
    std::optional<int64_t> p = IntParameter(request.parameters, "priority");
    if (!p || *p < 0 || *p > config.priority_levels) {
      return absl::InvalidArgumentError(absl::StrCat("parameter 'priority' must be an integer within 1..",
                                                     config.priority_levels, " (0: the default, ",
                                                     config.default_priority, ")"));
    }
    if (*p > 0) admission.priority = static_cast<int>(*p);
  }
  if (request.parameters.contains("timeout")) {
    std::optional<int64_t> micros = IntParameter(request.parameters, "timeout");
    if (!micros || *micros < 0) {
      return absl::InvalidArgumentError("parameter 'timeout' must be a non-negative integer (microseconds)");
    }
    if (*micros > 0) admission.deadline = arrival + absl::Microseconds(*micros);
  } else if (config.default_timeout > absl::ZeroDuration()) {
    admission.deadline = arrival + config.default_timeout;
  }
  admission.rows = Rows(request);
  if (batchable_ && admission.rows > config.max_batch_size) {
    return absl::InvalidArgumentError(absl::StrCat("the request has ", admission.rows,
                                                   " rows; this model takes at most ", config.max_batch_size,
                                                   " per request (maxBatchSize)"));
  }
  if (config.preserve_ordering) admission.sequence = next_sequence_.fetch_add(1, std::memory_order_relaxed);
  return admission;
}

void DynamicBatcher::Answered(const Admission& admission, InferenceResponse response, InferenceCallback&& done) {
  if (!options_.config.preserve_ordering) {
    done(std::move(response));
    return;
  }
  DeliverInOrder(admission.sequence, std::move(done), std::move(response));
}

absl::Status DynamicBatcher::Enqueue(InferenceRequest&& request, InferenceCallback&& done, absl::Time arrival) {
  absl::StatusOr<Admission> admission = Admit(request, arrival);
  if (!admission.ok()) return admission.status();
  return Enqueue(std::move(request), *admission, std::move(done), arrival);
}

absl::Status DynamicBatcher::Enqueue(InferenceRequest&& request, const Admission& admission, InferenceCallback&& done,
                                     absl::Time arrival) {
  const BatchingConfig& config = options_.config;
  Pending pending{.request = std::move(request), .arrival = arrival, .queued = absl::Now(), .deadline = admission.deadline};
  for (const RequestedOutput& output : pending.request.outputs) pending.output_names.push_back(output.name);
  pending.rows = admission.rows;
  size_t depth = 0;
  absl::Status refused;
  std::optional<ComputeSlots::Hold> slot;
  bool run_here = false;
  std::vector<Pending> batch_here;
  {
    absl::MutexLock lock(&mutex_);
    found_busy_ = (found_busy_ * 15 + (queued_ + executing_ > 0 ? 1 : 0)) / 16;
    if (MayExecuteInline(pending, pending.queued) && TakeComputeSlot(&slot)) {
      run_here = true;
      ++executing_;
      pending.done = std::move(done);
      pending.sequence = admission.sequence;
    } else if (stopping_) {
      refused = absl::UnavailableError("the model version is being unloaded");
    } else if (queued_ >= static_cast<size_t>(config.max_queue_size)) {
      refused = absl::ResourceExhaustedError(absl::StrCat("model '", options_.model_name, "' version ",
                                                          options_.version, " has ", queued_,
                                                          " requests queued (maxQueueSize); retry later"));
    } else {
      pending.done = std::move(done);
      pending.sequence = admission.sequence;
      const auto level = static_cast<size_t>(admission.priority - 1);
      const absl::Time queued = pending.queued;
      const bool may_execute_batch_inline = pending.request.may_execute_batch_inline;
      queues_[level].push_back(std::move(pending));
      queued_rows_ += admission.rows;
      ++queued_;
      ++arrivals_;
      if (may_execute_batch_inline) batch_here = TakeFullBatchToRunHere(level, queued, &slot);
      WakeWhoIsNeeded();
      depth = queued_;
    }
  }
  if (!batch_here.empty()) {
    if (series_) series_->SetQueueDepth(static_cast<int64_t>(depth));
    ExecuteBatchInline(std::move(batch_here), std::move(slot));
    return absl::OkStatus();
  }
  if (run_here) {
    ExecuteInline(std::move(pending), std::move(slot));
    return absl::OkStatus();
  }
  if (!refused.ok()) {
    // Its place in the order of answers is given up, so that later answers do not wait for it.
    if (config.preserve_ordering) DeliverInOrder(admission.sequence, nullptr, refused);
    return refused;
  }
  if (series_) series_->SetQueueDepth(static_cast<int64_t>(depth));
  return absl::OkStatus();
}

bool DynamicBatcher::MayExecuteInline(const Pending& pending, absl::Time now) const {
  const absl::Duration limit = options_.execute_inline_below;
  if (limit <= absl::ZeroDuration() || !pending.request.may_execute_inline || stopping_ || queued_ > 0 ||
      executing_ > 0 || pending.deadline <= now) {
    return false;
  }
  if (batchable_ && options_.config.max_queue_delay > absl::ZeroDuration()) return false;  // it waits for company
  const int64_t per_kib = execution_ns_per_kib_.load(std::memory_order_relaxed);
  if (per_kib <= 0) return false;  // not measured yet
  const absl::Duration expected =
      absl::Nanoseconds(static_cast<double>(per_kib) * static_cast<double>(InputBytes(pending.request)) / 1024);
  return expected < limit && found_busy_ < kLightlyLoaded;
}

bool DynamicBatcher::TakeComputeSlot(std::optional<ComputeSlots::Hold>* slot) const {
  if (options_.compute_slots == nullptr) return true;
  std::optional<ComputeSlots::Hold> held = options_.compute_slots->TryAcquire();
  if (!held) return false;
  slot->emplace(std::move(*held));
  return true;
}

void DynamicBatcher::ExecuteInline(Pending pending, std::optional<ComputeSlots::Hold> slot) {
  const absl::Time start = absl::Now();
  ExecuteOne(pending, start);
  busy_ns_.fetch_add(absl::ToInt64Nanoseconds(absl::Now() - start), std::memory_order_relaxed);
  slot.reset();
  absl::MutexLock lock(&mutex_);
  --executing_;
}

void DynamicBatcher::ExecuteBatchInline(std::vector<Pending> batch, std::optional<ComputeSlots::Hold> slot) {
  const size_t taken = batch.size();
  const absl::Time start = absl::Now();
  Execute(std::move(batch));
  busy_ns_.fetch_add(absl::ToInt64Nanoseconds(absl::Now() - start), std::memory_order_relaxed);
  slot.reset();
  absl::MutexLock lock(&mutex_);
  executing_ -= taken;
  --batches_executing_;
}

void DynamicBatcher::Take(std::deque<Pending>& queue, const std::vector<size_t>& indices, std::vector<Pending>* taken) {
  if (indices.empty()) return;
  taken->reserve(taken->size() + indices.size());
  auto count = [this](const Pending& pending) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    --queued_;
    queued_rows_ -= pending.rows;
  };
  if (indices.back() == indices.size() - 1) {
    // The front of the queue, the usual case: nothing behind it moves.
    for (size_t i = 0; i < indices.size(); ++i) {
      count(queue[i]);
      taken->push_back(std::move(queue[i]));
    }
    queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(indices.size()));
    return;
  }
  // One pass that moves every request once (erasing one at a time would move the rest each time).
  std::deque<Pending> kept;
  size_t next = 0;
  for (size_t i = 0; i < queue.size(); ++i) {
    if (next < indices.size() && indices[next] == i) {
      ++next;
      count(queue[i]);
      taken->push_back(std::move(queue[i]));
    } else {
      kept.push_back(std::move(queue[i]));
    }
  }
  queue.swap(kept);
}

bool DynamicBatcher::Batchable(const Pending& a, const Pending& b) {
  // Compared in place: a key string built per request cost an allocation and formatting each.
  if (a.output_names != b.output_names || a.request.inputs.size() != b.request.inputs.size()) return false;
  for (size_t i = 0; i < a.request.inputs.size(); ++i) {
    const Tensor& x = a.request.inputs[i];
    const Tensor& y = b.request.inputs[i];
    if (x.name() != y.name() || x.type() != y.type() || x.shape().size() != y.shape().size() ||
        !std::equal(x.shape().begin() + (x.shape().empty() ? 0 : 1), x.shape().end(),
                    y.shape().begin() + (y.shape().empty() ? 0 : 1))) {
      return false;
    }
  }
  return true;
}

std::vector<size_t> DynamicBatcher::Choose(const std::deque<Pending>& queue, int64_t* rows, bool* full) const {
  // Compatible requests in arrival order, up to maxBatchSize rows (one when not batching).
  const int64_t max_rows = batchable_ ? options_.config.max_batch_size : 1;
  const Pending& first = queue.front();
  *rows = 0;
  *full = false;
  std::vector<size_t> chosen;
  for (size_t i = 0; i < queue.size() && *rows < max_rows; ++i) {
    const Pending& p = queue[i];
    if (i > 0 && (!batchable_ || !Batchable(first, p))) continue;
    if (i > 0 && *rows + p.rows > max_rows) {
      *full = true;  // a later, smaller request may still fit
      continue;
    }
    *rows += batchable_ ? p.rows : max_rows;
    chosen.push_back(i);
  }
  if (*rows >= max_rows) *full = true;
  return chosen;
}

std::vector<DynamicBatcher::Pending> DynamicBatcher::TakeFullBatchToRunHere(size_t level, absl::Time now,
                                                                           std::optional<ComputeSlots::Hold>* slot) {
  const absl::Duration limit = options_.execute_inline_below;
  if (!batchable_ || limit <= absl::ZeroDuration() || stopping_ ||
      queued_rows_ < options_.config.max_batch_size || batches_executing_ >= options_.config.instances) {
    return {};
  }
  for (size_t i = 0; i < level; ++i) {
    if (!queues_[i].empty()) return {};  // higher priorities go first, on the instances
  }
  std::deque<Pending>& queue = queues_[level];
  int64_t rows = 0;
  bool full = false;
  std::vector<size_t> chosen = Choose(queue, &rows, &full);
  if (!full) return {};
  const int64_t per_kib = batch_time_.ns_per_kib();
  if (per_kib <= 0) return {};  // no batch measured yet
  size_t bytes = 0;
  for (size_t index : chosen) {
    const Pending& p = queue[index];
    // A batch with an expired request, or one whose client has gone, is left to an instance, which
    // drops those. Whether a client has gone is asked as an instance asks it: only of a request
    // that has waited client_check_after.
    if (!p.request.may_execute_inline || p.deadline <= now) return {};
    if (now - p.arrival >= options_.client_check_after && p.request.client_gone && p.request.client_gone()) return {};
    bytes += InputBytes(p.request);
  }
  if (absl::Nanoseconds(static_cast<double>(per_kib) * static_cast<double>(bytes) / 1024) >= limit) return {};
  if (!TakeComputeSlot(slot)) return {};
  std::vector<Pending> batch;
  Take(queue, chosen, &batch);
  executing_ += batch.size();
  ++batches_executing_;
  return batch;
}

bool DynamicBatcher::WatcherShouldLook() const {
  if (!watch_.active) return false;
  if (stopping_ || queued_rows_ >= watch_.rows_needed) return true;
  if (watch_.level == kNoLevel) return false;  // watching an empty queue: only rows or its timer
  if (queues_[watch_.level].empty() && queued_ > 0) return true;
  for (size_t i = 0; i < watch_.level; ++i) {
    if (!queues_[i].empty()) return true;
  }
  return false;
}

void DynamicBatcher::WakeWhoIsNeeded() {
  if (watch_.active) {
    if (WatcherShouldLook()) watcher_.Signal();
    return;
  }
  // Work nobody looks at: one idle instance, not one per request (the one woken wakes the next if
  // work is left once it has taken its batch).
  if (queued_ > 0 && idle_instances_ > 0 && idle_wakes_pending_ == 0) {
    ++idle_wakes_pending_;
    idle_.Signal();
  }
}

std::vector<DynamicBatcher::Pending> DynamicBatcher::NextBatch(std::vector<Pending>* expired) {
  const BatchingConfig& config = options_.config;
  const int64_t max_rows = batchable_ ? config.max_batch_size : 1;
  // The smallest batch worth executing before the delay is out.
  int64_t smallest = max_rows;
  for (int64_t size : config.preferred_batch_sizes) smallest = std::min(smallest, size);
  while (true) {
    if (stopping_ && queued_ == 0) return {};
    if (queued_ == 0 || (watch_.active && !stopping_)) {
      // Under load, the queue empties between batches when the submitting threads run full batches
      // themselves. Then an instance watches the empty queue on a timer of one queue delay instead
      // of waiting to be woken by the next request: no request waits longer for it (one that
      // arrives during a watch comes due after the watch ends), and the submitting thread makes no
      // system call to wake anyone. Only while requests keep arriving, and only when requests
      // wait for company anyway; otherwise an idle instance waits to be woken.
      if (queued_ == 0 && !watch_.active && batchable_ && config.max_queue_delay >= kShortestWatch &&
          arrivals_ != arrivals_at_last_watch_) {
        arrivals_at_last_watch_ = arrivals_;
        watch_ = {.active = true, .rows_needed = smallest, .level = kNoLevel};
        watcher_.WaitWithDeadline(&mutex_, absl::Now() + config.max_queue_delay);
        watch_.active = false;
        continue;
      }
      ++idle_instances_;
      idle_.Wait(&mutex_);
      --idle_instances_;
      if (idle_wakes_pending_ > 0) --idle_wakes_pending_;
      continue;
    }
    size_t level = 0;
    while (queues_[level].empty()) ++level;
    std::deque<Pending>& queue = queues_[level];
    const absl::Time now = absl::Now();
    // Requests past their deadline leave the queue unexecuted.
    std::vector<size_t> late;
    for (size_t i = 0; i < queue.size(); ++i) {
      if (queue[i].deadline <= now) late.push_back(i);
    }
    Take(queue, late, expired);
    if (!expired->empty()) return {};
    int64_t rows = 0;
    bool full = false;
    std::vector<size_t> chosen = Choose(queue, &rows, &full);
    const bool preferred = std::find(config.preferred_batch_sizes.begin(), config.preferred_batch_sizes.end(), rows) !=
                           config.preferred_batch_sizes.end();
    const absl::Time flush_at = queue.front().queued + config.max_queue_delay;
    if (full || preferred || now >= flush_at || stopping_) {
      // A request whose client has gone leaves unexecuted; the rest stay queued for the next look.
      std::vector<size_t> gone;
      for (size_t index : chosen) {
        const Pending& p = queue[index];
        if (p.request.client_gone && now - p.arrival >= options_.client_check_after && p.request.client_gone()) {
          gone.push_back(index);
        }
      }
      Take(queue, gone, expired);
      if (!expired->empty()) return {};
      std::vector<Pending> batch;
      Take(queue, chosen, &batch);
      return batch;
    }
    // Sleep until enough rows have arrived to reach the next size worth executing, a higher
    // priority has work, another thread has emptied this priority while a lower one has work, or
    // the oldest request's delay has run out; then look again (WatcherShouldLook). Waking on every
    // arrival would cost a context switch per request. Another thread taking part of this
    // priority's queue does not wake the watcher: the rows it needs are counted in the whole
    // queue, which that take shrank, and the delay it waits out is the oldest request's, which no
    // later one's precedes. With requests of other shapes queued, the count may then ask for more
    // rows than a batch needs; the delay still bounds the wait.
    int64_t target = max_rows;
    for (int64_t size : config.preferred_batch_sizes) {
      if (size > rows && size < target) target = size;
    }
    watch_ = {.active = true, .rows_needed = queued_rows_ + (target - rows), .level = level};
    watcher_.WaitWithDeadline(&mutex_, flush_at);
    watch_.active = false;
  }
}

void DynamicBatcher::RunInstance() {
  while (true) {
    std::vector<Pending> batch;
    std::vector<Pending> expired;
    size_t depth = 0;
    {
      absl::MutexLock lock(&mutex_);
      batch = NextBatch(&expired);
      WakeWhoIsNeeded();  // work this instance left, for another
      depth = queued_;
      if (batch.empty() && expired.empty()) return;  // stopping, nothing left
      executing_ += batch.size() + expired.size();
      if (!batch.empty()) ++batches_executing_;
    }
    if (series_) series_->SetQueueDepth(static_cast<int64_t>(depth));
    for (Pending& p : expired) {
      const absl::Time now = absl::Now();
      if (p.deadline > now) {
        Deliver(p, absl::CancelledError("the client went away while the request was queued; it was not executed"), now);
        continue;
      }
      Deliver(p, absl::DeadlineExceededError(absl::StrCat("the request waited ", absl::FormatDuration(now - p.arrival),
                                                          ", past its timeout; it was not executed")),
              now);
    }
    const size_t taken = batch.size() + expired.size();
    const bool executes = !batch.empty();
    if (executes) {
      std::optional<ComputeSlots::Hold> slot;
      if (options_.compute_slots) slot.emplace(options_.compute_slots->Acquire());
      const absl::Time start = absl::Now();
      Execute(std::move(batch));
      busy_ns_.fetch_add(absl::ToInt64Nanoseconds(absl::Now() - start), std::memory_order_relaxed);
    }
    absl::MutexLock lock(&mutex_);
    executing_ -= taken;
    if (executes) --batches_executing_;
  }
}

void DynamicBatcher::ExecuteOne(Pending& pending, absl::Time start) {
  absl::StatusOr<std::vector<Tensor>> outputs = options_.model->Execute(pending.request.inputs, pending.output_names);
  const absl::Time end = absl::Now();
  if (outputs.ok()) {
    const int64_t sample = std::max<int64_t>(
        1, absl::ToInt64Nanoseconds(end - start) * 1024 / static_cast<int64_t>(InputBytes(pending.request)));
    const int64_t recent = execution_ns_per_kib_.load(std::memory_order_relaxed);
    execution_ns_per_kib_.store(recent == 0 ? sample : (recent * 7 + sample) / 8, std::memory_order_relaxed);
  }
  if (series_) series_->RecordExecution(pending.rows);
  if (!outputs.ok()) {
    Deliver(pending, outputs.status(), end);
    return;
  }
  if (series_) {
    series_->RecordSuccess({.total = end - pending.arrival, .queue = start - pending.queued, .compute = end - start,
                            .batch_size = static_cast<int>(pending.rows)});
  }
  Deliver(pending,
          InferenceResponse{.model = options_.model_name, .version = options_.version, .id = pending.request.id,
                            .outputs = std::move(*outputs)},
          end);
}

void DynamicBatcher::Execute(std::vector<Pending> batch) {
  const absl::Time start = absl::Now();
  if (batch.size() == 1) {
    ExecuteOne(batch[0], start);
    return;
  }
  int64_t total_rows = 0;
  for (const Pending& p : batch) total_rows += p.rows;
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < batch[0].request.inputs.size(); ++i) {
    std::vector<const Tensor*> parts;
    for (const Pending& p : batch) parts.push_back(&p.request.inputs[i]);
    inputs.push_back(Concatenate(parts, total_rows));
  }
  absl::StatusOr<std::vector<Tensor>> outputs = options_.model->Execute(inputs, batch[0].output_names);
  const absl::Time end = absl::Now();
  if (outputs.ok()) {
    size_t bytes = 0;
    for (const Tensor& input : inputs) bytes += input.byte_size();
    const int64_t sample =
        std::max<int64_t>(1, absl::ToInt64Nanoseconds(end - start) * 1024 / std::max<int64_t>(1, static_cast<int64_t>(bytes)));
    batch_time_.Add(sample);
  }
  std::vector<std::vector<Tensor>> split(batch.size());
  if (outputs.ok()) {
    int64_t begin = 0;
    for (size_t r = 0; r < batch.size() && outputs.ok(); ++r) {
      split[r].reserve(outputs->size());
      for (const Tensor& output : *outputs) {
        absl::StatusOr<Tensor> slice = SliceRows(output, begin, batch[r].rows, total_rows);
        if (!slice.ok()) {
          outputs = slice.status();
          break;
        }
        split[r].push_back(std::move(*slice));
      }
      begin += batch[r].rows;
    }
  }
  if (!outputs.ok()) {
    // One request may have spoiled the batch: run each alone so that only it fails.
    for (Pending& p : batch) ExecuteOne(p, absl::Now());
    return;
  }
  if (series_) {
    series_->RecordExecution(total_rows);
    series_->RecordBatchSuccess(static_cast<int64_t>(batch.size()), total_rows, end - start);
  }
  for (size_t r = 0; r < batch.size(); ++r) {
    Pending& p = batch[r];
    if (series_) series_->RecordAnswerTimes(end - p.arrival, start - p.queued);
    Deliver(p,
            InferenceResponse{.model = options_.model_name, .version = options_.version, .id = std::move(p.request.id),
                              .outputs = std::move(split[r])},
            end);
  }
}

void DynamicBatcher::Deliver(Pending& pending, absl::StatusOr<InferenceResponse> result, absl::Time now) {
  request_ns_.fetch_add(absl::ToInt64Nanoseconds(now - pending.queued), std::memory_order_relaxed);
  if (!result.ok() && options_.metrics) {
    // A request dropped because its client left is not a failure of the model.
    const absl::StatusCode code = result.status().code();
    const char* reason = code == absl::StatusCode::kDeadlineExceeded ? "timeout"
                         : code == absl::StatusCode::kCancelled      ? "cancelled"
                                                                     : "execution_failed";
    options_.metrics->RecordFailure(options_.model_name, options_.version, reason, now - pending.arrival);
  }
  if (!options_.config.preserve_ordering) {
    pending.done(std::move(result));
    return;
  }
  DeliverInOrder(pending.sequence, std::move(pending.done), std::move(result));
}

void DynamicBatcher::DeliverInOrder(uint64_t sequence, InferenceCallback done, absl::StatusOr<InferenceResponse> result) {
  // Hold this answer until every earlier one has gone out.
  std::vector<std::pair<InferenceCallback, absl::StatusOr<InferenceResponse>>> ready;
  absl::MutexLock lock(&delivery_mutex_);
  held_.emplace(sequence, std::make_pair(std::move(done), std::move(result)));
  while (!held_.empty() && held_.begin()->first == next_delivery_) {
    ready.push_back(std::move(held_.begin()->second));
    held_.erase(held_.begin());
    ++next_delivery_;
  }
  // Calling back under the lock keeps the order across threads. A place given up has no callback.
  for (auto& [callback, answer] : ready) {
    if (callback) callback(std::move(answer));
  }
}

}  // namespace meridian::serving
