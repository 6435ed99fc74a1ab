#include "server/connection_limit_collector.h"

#include "metrics/single_value_family.h"

namespace meridian::server {

std::vector<prometheus::MetricFamily> ConnectionLimitCollector::Collect() const {
  using metrics::SingleValueFamily;
  using prometheus::MetricType;
  return {SingleValueFamily("http_connections_open", "Client connections open now (HTTP and gRPC).", MetricType::Gauge,
                            static_cast<double>(limit_->open())),
          SingleValueFamily("http_connections_max", "The limit on client connections open at once (--max-connections).",
                            MetricType::Gauge, static_cast<double>(limit_->max())),
          SingleValueFamily("http_connections_refused_total",
                            "Client connections closed on arrival: the limit was reached.", MetricType::Counter,
                            static_cast<double>(limit_->refused()))};
}

}  // namespace meridian::server
