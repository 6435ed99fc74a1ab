#include "http/connection_limit.h"

#include <utility>

namespace meridian::http {

ConnectionLimit::Slot& ConnectionLimit::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    Release();
    limit_ = std::move(other.limit_);
  }
  return *this;
}

void ConnectionLimit::Slot::Release() {
  if (limit_ != nullptr) limit_->open_.fetch_sub(1, std::memory_order_relaxed);
  limit_.reset();
}

std::optional<ConnectionLimit::Slot> ConnectionLimit::TryTake() {
  uint64_t open = open_.load(std::memory_order_relaxed);
  do {
    if (max_ > 0 && open >= max_) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
  } while (!open_.compare_exchange_weak(open, open + 1, std::memory_order_relaxed));
  return Slot(shared_from_this());
}

}  // namespace meridian::http
