#include "serving/traffic_stats.h"

#include <cmath>

namespace meridian::serving {
namespace {

constexpr double kFirstBoundMicros = 50;
constexpr double kGrowth = 1.2;

double UpperBoundMicros(int bucket) { return kFirstBoundMicros * std::pow(kGrowth, bucket); }

int BucketOf(absl::Duration latency) {
  const double micros = absl::ToDoubleMicroseconds(latency);
  if (micros <= kFirstBoundMicros) return 0;
  const int bucket = static_cast<int>(std::ceil(std::log(micros / kFirstBoundMicros) / std::log(kGrowth)));
  return bucket >= TrafficStats::kBuckets ? TrafficStats::kBuckets - 1 : bucket;
}

}  // namespace

bool TrafficStats::CountsForTheVersion(const absl::Status& outcome) {
  return outcome.code() != absl::StatusCode::kCancelled;
}

void TrafficStats::Record(bool ok, absl::Duration latency) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (!ok) errors_.fetch_add(1, std::memory_order_relaxed);
  buckets_[BucketOf(latency)].fetch_add(1, std::memory_order_relaxed);
}

TrafficStats::Snapshot TrafficStats::Read() const {
  Snapshot s;
  s.requests = requests_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_relaxed);
  for (int i = 0; i < kBuckets; ++i) s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  return s;
}

TrafficStats::Snapshot TrafficStats::Snapshot::Since(const Snapshot& earlier) const {
  Snapshot d;
  d.requests = requests - earlier.requests;
  d.errors = errors - earlier.errors;
  for (int i = 0; i < kBuckets; ++i) d.buckets[i] = buckets[i] - earlier.buckets[i];
  return d;
}

absl::Duration TrafficStats::Snapshot::Percentile(double quantile) const {
  int64_t total = 0;
  for (int64_t b : buckets) total += b;
  if (total == 0) return absl::ZeroDuration();
  const double wanted = quantile * static_cast<double>(total);
  int64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets[i];
    if (static_cast<double>(seen) >= wanted) return absl::Microseconds(std::ceil(UpperBoundMicros(i)));
  }
  return absl::Microseconds(std::ceil(UpperBoundMicros(kBuckets - 1)));
}

}  // namespace meridian::serving
