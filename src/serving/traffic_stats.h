#pragma once

// Outcome counts and a latency histogram of one deployment's traffic to one version, recorded on
// the hot path with relaxed atomics and read as snapshots; the difference of two snapshots is one
// interval (a canary step, an autoscaler period). Thread-safe.

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace meridian::serving {

class TrafficStats {
 public:
  // Bucket i holds latencies up to 50 us * 1.2^i; the last one everything above.
  static constexpr int kBuckets = 64;

  struct Snapshot {
    int64_t requests = 0;
    int64_t errors = 0;
    std::array<int64_t, kBuckets> buckets{};

    Snapshot Since(const Snapshot& earlier) const;
    double error_rate() const { return requests > 0 ? static_cast<double>(errors) / static_cast<double>(requests) : 0; }
    // The latency below which a `quantile` of the requests finished (the bucket's upper bound);
    // zero without requests.
    absl::Duration Percentile(double quantile) const;
  };

  // Whether an answer counts in a version's traffic: every success and failure but a request
  // dropped unexecuted because its client left (cancelled), which says nothing of the version: a
  // canary is not rolled back because clients hung up.
  static bool CountsForTheVersion(const absl::Status& outcome);

  void Record(bool ok, absl::Duration latency);
  Snapshot Read() const;

 private:
  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> errors_{0};
  std::array<std::atomic<int64_t>, kBuckets> buckets_{};
};

}  // namespace meridian::serving
