#pragma once

// Exposes the client connection limit's counts at scrape time: http_connections_open,
// http_connections_max and http_connections_refused_total (HTTP and gRPC together).

#include <memory>
#include <vector>

#include "http/connection_limit.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace meridian::server {

class ConnectionLimitCollector final : public prometheus::Collectable {
 public:
  explicit ConnectionLimitCollector(std::shared_ptr<const http::ConnectionLimit> limit) : limit_(std::move(limit)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::shared_ptr<const http::ConnectionLimit> limit_;
};

}  // namespace meridian::server
