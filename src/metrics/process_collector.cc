#include "metrics/process_collector.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "metrics/single_value_family.h"

namespace meridian::metrics {
namespace {

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) {
      double v = 0;
      if (absl::SimpleAtod(line.substr(6), &v)) return v;
    }
  }
  return 0;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  std::ifstream in("/proc/self/stat");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string stat = buffer.str();
  // Fields after the command name, which is in parentheses and may contain spaces.
  const size_t close = stat.rfind(')');
  if (close != std::string::npos) {
    std::vector<std::string> f = absl::StrSplit(stat.substr(close + 2), ' ');
    // f[0] is field 3 (state); field N is f[N - 3].
    auto field = [&f](size_t n) {
      double v = 0;
      return n - 3 < f.size() && absl::SimpleAtod(f[n - 3], &v) ? v : 0.0;
    };
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    out.push_back(SingleValueFamily("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                                    prometheus::MetricType::Counter, (field(14) + field(15)) / ticks));
    out.push_back(SingleValueFamily("process_start_time_seconds",
                                    "Start time of the process since unix epoch in seconds.",
                                    prometheus::MetricType::Gauge, BootTimeSeconds() + field(22) / ticks));
    out.push_back(SingleValueFamily("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                                    prometheus::MetricType::Gauge, field(23)));
    out.push_back(SingleValueFamily("process_resident_memory_bytes", "Resident memory size in bytes.",
                                    prometheus::MetricType::Gauge, field(24) * page));
  }
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  out.push_back(
      SingleValueFamily("process_open_fds", "Number of open file descriptors.", prometheus::MetricType::Gauge, fds));
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.push_back(SingleValueFamily("process_max_fds", "Maximum number of open file descriptors.",
                                    prometheus::MetricType::Gauge, static_cast<double>(limit.rlim_cur)));
  }
  return out;
}

}  // namespace meridian::metrics
