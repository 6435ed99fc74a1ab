#pragma once

// How many model executions may run at once in the whole process. Every loaded version has its
// own instance threads, so ten versions with two instances each would otherwise run twenty
// executions on a 2-CPU limit when they are all busy; an instance thread holds a slot for the
// length of one execution, so busy versions share the CPUs instead of oversubscribing them, and
// idle instance threads cost nothing. Sized from the cgroup CPU limit over the intra-op threads
// of one execution. Thread-safe.

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace meridian::serving {

class ComputeSlots {
 public:
  explicit ComputeSlots(int capacity);

  // Holds one slot until destroyed.
  class Hold {
   public:
    explicit Hold(ComputeSlots* slots) : slots_(slots) {}
    Hold(Hold&& other) noexcept : slots_(other.slots_) { other.slots_ = nullptr; }
    Hold& operator=(Hold&&) = delete;
    Hold(const Hold&) = delete;
    ~Hold();

   private:
    ComputeSlots* slots_;
  };

  // Waits for a free slot.
  Hold Acquire();
  // A free slot, or nullopt at once when all are held.
  std::optional<Hold> TryAcquire();

  int capacity() const { return capacity_; }
  int in_use() const;
  // The most slots ever held at once.
  int peak() const;

 private:
  void Release();

  const int capacity_;
  mutable absl::Mutex mutex_;
  int in_use_ ABSL_GUARDED_BY(mutex_) = 0;
  int peak_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace meridian::serving
