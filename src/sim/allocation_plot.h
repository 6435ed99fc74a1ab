#pragma once

// Draws GPU allocation curves (allocation % against arrived GPU demand %) of several scheduling
// policies on one workload as a PNG (cairo), with the published curves dashed when given.

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace meridian::sim {

struct AllocationSeries {
  std::string label;  // series with the same label share a colour (ours solid, published dashed)
  std::vector<double> percent;  // index: arrived %, value: allocation %; negative = no data
  bool dashed = false;
};

absl::Status WriteAllocationPng(const std::string& path, const std::string& title,
                                const std::vector<AllocationSeries>& series);

}  // namespace meridian::sim
