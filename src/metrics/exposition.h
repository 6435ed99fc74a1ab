#pragma once

// Renders collectables in the Prometheus text exposition format (version 0.0.4).

#include <memory>
#include <string>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace meridian::metrics {

inline constexpr char kExpositionContentType[] = "text/plain; version=0.0.4; charset=utf-8";

std::string RenderText(const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables);

}  // namespace meridian::metrics
