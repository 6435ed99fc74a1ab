#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/exposition.h"
#include "metrics/http_metrics.h"
#include "metrics/inference_metrics.h"
#include "metrics/process_collector.h"

namespace meridian::metrics {
namespace {

using ::testing::HasSubstr;

double ValueOf(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(ProcessCollectorTest, ReportsPlausibleValues) {
  std::string text = RenderText({std::make_shared<ProcessCollector>()});
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter"));
  EXPECT_GT(ValueOf(text, "process_resident_memory_bytes"), 1024 * 1024);
  EXPECT_GT(ValueOf(text, "process_open_fds"), 2);
  EXPECT_GT(ValueOf(text, "process_max_fds"), 0);
  EXPECT_GE(ValueOf(text, "process_cpu_seconds_total"), 0);
  const double start = ValueOf(text, "process_start_time_seconds");
  const double now = static_cast<double>(time(nullptr));
  EXPECT_GT(start, now - 3600);
  EXPECT_LE(start, now + 1);
}

TEST(HttpMetricsTest, CountsByRouteMethodAndCode) {
  auto registry = std::make_shared<prometheus::Registry>();
  HttpMetrics metrics(*registry);
  metrics.Record("GET", "/health/live", 200, absl::Microseconds(150));
  metrics.Record("GET", "/health/live", 200, absl::Microseconds(150));
  metrics.Record("GET", "unmatched", 404, absl::Milliseconds(2));
  std::string text = RenderText({registry});
  EXPECT_EQ(ValueOf(text, R"(meridian_http_requests_total{code="200",method="GET",route="/health/live"})"), 2);
  EXPECT_EQ(ValueOf(text, R"(meridian_http_requests_total{code="404",method="GET",route="unmatched"})"), 1);
  EXPECT_EQ(ValueOf(text, R"(meridian_http_request_duration_seconds_bucket{method="GET",route="/health/live",le="0.00025"})"), 2);
  EXPECT_EQ(ValueOf(text, R"(meridian_http_request_duration_seconds_bucket{method="GET",route="/health/live",le="0.0001"})"), 0);
  EXPECT_EQ(ValueOf(text, R"(meridian_http_request_duration_seconds_count{method="GET",route="unmatched"})"), 1);
}

// Instances record into one model version's series while the deployment controller loads other
// versions (new series). A reference into the series map used to dangle when an insert grew it
// (a heap-use-after-free the sanitizer build caught in a shadow deployment's end-to-end test).
TEST(InferenceMetricsTest, RecordingWhileOtherVersionsAppearIsSafe) {
  // The map grows (and frees its old storage) only when it doubles, so each round starts anew;
  // more recorders than cores make it likely that one is preempted holding what it looked up.
  for (int round = 0; round < 40; ++round) {
    auto registry = std::make_shared<prometheus::Registry>();
    InferenceMetrics metrics(*registry);
    metrics.SetQueueDepth("m", "1.0.0", 0);
    std::atomic<bool> done{false};
    std::atomic<int> recording{0};
    std::vector<std::thread> recorders;
    for (int t = 0; t < 6; ++t) {
      recorders.emplace_back([&metrics, &done, &recording] {
        for (int64_t i = 0; !done.load(); ++i) {
          metrics.SetQueueDepth("m", "1.0.0", i % 7);
          metrics.RecordExecution("m", "1.0.0", 1);
          if (i == 0) recording.fetch_add(1);
        }
      });
    }
    while (recording.load() < 6) std::this_thread::yield();  // all record while versions appear
    for (int v = 0; v < 200; ++v) metrics.SetQueueDepth("m", "2.0." + std::to_string(v), 1);
    done.store(true);
    for (std::thread& recorder : recorders) recorder.join();
    metrics.SetQueueDepth("m", "1.0.0", 5);
    std::string text = RenderText({registry});
    ASSERT_EQ(ValueOf(text, R"(inference_queue_depth{model="m",version="1.0.0"})"), 5);
    ASSERT_EQ(ValueOf(text, R"(inference_queue_depth{model="m",version="2.0.199"})"), 1);
    ASSERT_GT(ValueOf(text, R"(inference_exec_count_total{model="m",version="1.0.0"})"), 0);
  }
}

// A batch's answers are recorded with one update per series for what they share (their count,
// rows and execution time); every series must read as if each request had been recorded alone,
// a compute time on a bucket's bound included.
TEST(InferenceMetricsTest, ABatchRecordedAtOnceReadsAsItsRequestsRecordedOneByOne) {
  auto one_by_one_registry = std::make_shared<prometheus::Registry>();
  auto batched_registry = std::make_shared<prometheus::Registry>();
  InferenceMetrics one_by_one(*one_by_one_registry);
  InferenceMetrics batched(*batched_registry);
  const int rows[] = {2, 1, 2};
  for (const absl::Duration compute : {absl::Microseconds(2500), absl::Microseconds(730)}) {
    const InferenceMetrics::VersionSeries series = batched.ForVersion("m", "1.0.0");
    series.RecordBatchSuccess(3, 5, compute);
    for (int i = 0; i < 3; ++i) {
      const absl::Duration total = compute + absl::Microseconds(100 * (i + 1));
      const absl::Duration queue = absl::Microseconds(40 * (i + 1));
      series.RecordAnswerTimes(total, queue);
      one_by_one.RecordSuccess("m", "1.0.0", {.total = total, .queue = queue, .compute = compute, .batch_size = rows[i]});
    }
  }
  // Every sample line of one exposition, and the same series in the other.
  const std::string expected = RenderText({one_by_one_registry});
  const std::string actual = RenderText({batched_registry});
  int compared = 0;
  size_t at = 0;
  while ((at = expected.find('\n', at)) != std::string::npos) {
    const size_t end = expected.find('\n', at + 1);
    const std::string line = expected.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
    at = end;
    if (line.empty() || line[0] == '#') continue;
    const std::string series = line.substr(0, line.rfind(' '));
    EXPECT_DOUBLE_EQ(ValueOf(actual, series), ValueOf(expected, series)) << series;
    ++compared;
  }
  EXPECT_GT(compared, 50);
  EXPECT_EQ(ValueOf(actual, R"(inference_compute_duration_seconds_count{model="m",version="1.0.0"})"), 6);
  EXPECT_EQ(ValueOf(actual, R"(inference_count_total{model="m",version="1.0.0"})"), 10);
}

}  // namespace
}  // namespace meridian::metrics
