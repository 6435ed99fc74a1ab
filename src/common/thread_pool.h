#pragma once

// A fixed set of threads running queued tasks in order of submission. For work that must not run
// on an I/O thread (model loads, inference). Thread-safe; the destructor finishes queued tasks.

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace meridian {

struct ThreadPoolOptions {
  int threads = 1;
  // Tasks waiting beyond this are refused (TrySubmit returns false); 0 = unbounded.
  size_t max_queue = 0;
  std::string name = "pool";  // the threads' name (common/thread_name.h)
};

class ThreadPool {
 public:
  explicit ThreadPool(const ThreadPoolOptions& options);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues the task; false when the queue is full or the pool is stopping.
  bool TrySubmit(std::function<void()> task);
  size_t queued() const;

 private:
  void Run();

  const ThreadPoolOptions options_;
  mutable absl::Mutex mutex_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace meridian
