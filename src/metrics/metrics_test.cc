#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/exposition.h"
#include "metrics/http_metrics.h"
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

}  // namespace
}  // namespace meridian::metrics
