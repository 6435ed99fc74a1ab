#pragma once

// How much one read takes from a connection's socket. A connection starts small and doubles its
// read after a read that filled it (a busy connection then reads many requests per system call),
// and halves it after many reads in a row that used less than an eighth (not after one: the reads
// of a busy connection vary), so that idle connections hold little.

#include <cstddef>

namespace meridian::http {

class AdaptiveReadSize {
 public:
  AdaptiveReadSize(size_t min, size_t max, int small_reads_before_shrinking)
      : min_(min), max_(max), small_reads_before_shrinking_(small_reads_before_shrinking), size_(min) {}

  size_t size() const { return size_; }

  // After a read of `bytes` into size() bytes: whether size() changed.
  bool After(size_t bytes);

 private:
  const size_t min_;
  const size_t max_;
  const int small_reads_before_shrinking_;
  size_t size_;
  int small_reads_ = 0;  // reads in a row that used less than an eighth of size_
};

}  // namespace meridian::http
