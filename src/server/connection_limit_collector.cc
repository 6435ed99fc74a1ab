#include "server/connection_limit_collector.h"

#include <string>

namespace meridian::server {
namespace {

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {metric}};
}

}  // namespace

std::vector<prometheus::MetricFamily> ConnectionLimitCollector::Collect() const {
  return {Family("http_connections_open", "Client connections open now (HTTP and gRPC).",
                 prometheus::MetricType::Gauge, static_cast<double>(limit_->open())),
          Family("http_connections_max", "The limit on client connections open at once (--max-connections).",
                 prometheus::MetricType::Gauge, static_cast<double>(limit_->max())),
          Family("http_connections_refused_total", "Client connections closed on arrival: the limit was reached.",
                 prometheus::MetricType::Counter, static_cast<double>(limit_->refused()))};
}

}  // namespace meridian::server
