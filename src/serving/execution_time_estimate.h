#pragma once

// How long executions of a model version take, per KiB of input, learnt from the executions
// themselves: the low end of recent ones rather than their average. A quicker execution is taken
// at once, a slower one only a sixteenth of the way. An execution on an instance thread shares the
// CPUs with the I/O threads, the other instances and, in a benchmark, the client: preempted, and
// woken onto a cold cache, the MLP fixture's batch of 32 measured 173 us on average there against
// 87 us on the I/O thread, and an average kept batches off the I/O thread that ran them faster
// (DynamicBatcherOptions::execute_inline_below). A model that is slow (or waits, on a GPU) is slow
// every time and keeps a high estimate; one that becomes slower is followed within a few dozen
// executions. Thread-safe (a lost update between two threads only drops one sample).

#include <atomic>
#include <cstdint>

namespace meridian::serving {

class ExecutionTimeEstimate {
 public:
  // 0: nothing measured yet.
  int64_t ns_per_kib() const { return ns_per_kib_.load(std::memory_order_relaxed); }

  void Add(int64_t sample_ns_per_kib) {
    const int64_t recent = ns_per_kib_.load(std::memory_order_relaxed);
    const int64_t next = recent == 0 || sample_ns_per_kib < recent
                             ? sample_ns_per_kib
                             : recent + (sample_ns_per_kib - recent) / kRiseDivisor;
    ns_per_kib_.store(next, std::memory_order_relaxed);
  }

 private:
  static constexpr int64_t kRiseDivisor = 16;
  std::atomic<int64_t> ns_per_kib_{0};
};

}  // namespace meridian::serving
