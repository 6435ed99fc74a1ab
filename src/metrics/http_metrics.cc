#include "metrics/http_metrics.h"

#include "absl/strings/str_cat.h"

namespace meridian::metrics {
namespace {

// 100 us .. 60 s: health checks sit at the bottom, model inference and uploads higher up.
const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};
  return *buckets;
}

template <typename Metric, typename Make>
Metric* FindOrAdd(absl::Mutex& mu, absl::flat_hash_map<std::string, Metric*>& cache,
                  const std::string& key, Make make) {
  {
    absl::ReaderMutexLock lock(&mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  absl::MutexLock lock(&mu);
  auto [it, inserted] = cache.try_emplace(key, nullptr);
  if (inserted) it->second = make();
  return it->second;
}

}  // namespace

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("meridian_http_requests_total")
                    .Help("HTTP requests answered, by method, route pattern and status code.")
                    .Register(registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("meridian_http_request_duration_seconds")
                     .Help("Time from the end of the request headers to the end of the response.")
                     .Register(registry)) {}

void HttpMetrics::Record(absl::string_view method, absl::string_view route, int status,
                         absl::Duration duration) {
  const std::string series = absl::StrCat(method, " ", route);
  const std::string code = absl::StrCat(status);
  prometheus::Counter* counter =
      FindOrAdd(mu_, counters_, absl::StrCat(series, " ", code), [&] {
        return &requests_.Add(
            {{"method", std::string(method)}, {"route", std::string(route)}, {"code", code}});
      });
  prometheus::Histogram* histogram = FindOrAdd(mu_, histograms_, series, [&] {
    return &durations_.Add({{"method", std::string(method)}, {"route", std::string(route)}},
                           DurationBuckets());
  });
  counter->Increment();
  histogram->Observe(absl::ToDoubleSeconds(duration));
}

}  // namespace meridian::metrics
