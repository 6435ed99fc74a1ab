#include "serving/compute_slots.h"

#include <algorithm>

namespace meridian::serving {

ComputeSlots::ComputeSlots(int capacity) : capacity_(std::max(1, capacity)) {}

ComputeSlots::Hold::~Hold() {
  if (slots_ != nullptr) slots_->Release();
}

ComputeSlots::Hold ComputeSlots::Acquire() {
  absl::MutexLock lock(&mutex_);
  auto free = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return in_use_ < capacity_; };
  mutex_.Await(absl::Condition(&free));
  ++in_use_;
  peak_ = std::max(peak_, in_use_);
  return Hold(this);
}

std::optional<ComputeSlots::Hold> ComputeSlots::TryAcquire() {
  absl::MutexLock lock(&mutex_);
  if (in_use_ >= capacity_) return std::nullopt;
  ++in_use_;
  peak_ = std::max(peak_, in_use_);
  return Hold(this);
}

void ComputeSlots::Release() {
  absl::MutexLock lock(&mutex_);
  --in_use_;
}

int ComputeSlots::in_use() const {
  absl::MutexLock lock(&mutex_);
  return in_use_;
}

int ComputeSlots::peak() const {
  absl::MutexLock lock(&mutex_);
  return peak_;
}

}  // namespace meridian::serving
