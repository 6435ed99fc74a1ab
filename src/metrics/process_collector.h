#pragma once

// Exposes the standard Prometheus process metrics (process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
// process_max_fds, process_start_time_seconds), read from /proc at scrape time.

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace meridian::metrics {

class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace meridian::metrics
