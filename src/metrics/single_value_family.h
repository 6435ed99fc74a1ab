#pragma once

// A metric family of one unlabelled series, for collectors that read their values at scrape time.

#include <string>

#include "prometheus/metric_family.h"
#include "prometheus/metric_type.h"

namespace meridian::metrics {

// `type` is prometheus::MetricType::Counter or ::Gauge.
prometheus::MetricFamily SingleValueFamily(std::string name, std::string help, prometheus::MetricType type,
                                           double value);

}  // namespace meridian::metrics
