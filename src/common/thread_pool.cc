#include "common/thread_pool.h"

#include "common/thread_name.h"

namespace meridian {

ThreadPool::ThreadPool(const ThreadPoolOptions& options) : options_(options) {
  for (int i = 0; i < std::max(1, options.threads); ++i) threads_.emplace_back([this] {
    NameThisThread(options_.name);
    Run();
  });
}

ThreadPool::~ThreadPool() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
}

bool ThreadPool::TrySubmit(std::function<void()> task) {
  absl::MutexLock lock(&mutex_);
  if (stopping_) return false;
  if (options_.max_queue > 0 && tasks_.size() >= options_.max_queue) return false;
  tasks_.push_back(std::move(task));
  return true;
}

size_t ThreadPool::queued() const {
  absl::MutexLock lock(&mutex_);
  return tasks_.size();
}

void ThreadPool::Run() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mutex_);
      mutex_.Await(absl::Condition(
          +[](ThreadPool* pool) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool->mutex_) {
            return pool->stopping_ || !pool->tasks_.empty();
          },
          this));
      if (tasks_.empty()) return;  // stopping, and everything queued has run
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace meridian
