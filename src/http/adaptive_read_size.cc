#include "http/adaptive_read_size.h"

namespace meridian::http {

bool AdaptiveReadSize::After(size_t bytes) {
  small_reads_ = bytes < size_ / 8 ? small_reads_ + 1 : 0;
  if (bytes >= size_ && size_ < max_) {
    size_ = size_ * 2 < max_ ? size_ * 2 : max_;
    return true;
  }
  if (small_reads_ >= small_reads_before_shrinking_ && size_ > min_) {
    size_ = size_ / 2 > min_ ? size_ / 2 : min_;
    small_reads_ = 0;
    return true;
  }
  return false;
}

}  // namespace meridian::http
