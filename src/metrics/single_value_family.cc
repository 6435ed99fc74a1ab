#include "metrics/single_value_family.h"

#include <utility>

namespace meridian::metrics {

prometheus::MetricFamily SingleValueFamily(std::string name, std::string help, prometheus::MetricType type,
                                           double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {metric}};
}

}  // namespace meridian::metrics
