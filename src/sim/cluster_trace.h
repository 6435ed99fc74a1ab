#pragma once

// Reads the node and pod lists of a GPU-cluster trace (the Alibaba 2023 trace's CSV layout:
// nodes `sn,cpu_milli,memory_mib,gpu,model`; pods `name,cpu_milli,memory_mib,num_gpu,gpu_milli,
// gpu_spec,...`) into the scheduler's model, and makes synthetic clusters of any size. Columns
// are found by header name; a bad row is an error naming its line.

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "control/scheduler/cluster.h"

namespace meridian::sim {

absl::StatusOr<std::vector<scheduler::NodeSpec>> ParseNodeList(absl::string_view csv, absl::string_view source);
absl::StatusOr<std::vector<scheduler::PodSpec>> ParsePodList(absl::string_view csv, absl::string_view source);
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

// `count` nodes drawn (seeded) from the mix of node shapes in `shapes`, named synthetic-N.
std::vector<scheduler::NodeSpec> SyntheticCluster(const std::vector<scheduler::NodeSpec>& shapes, int count,
                                                  uint64_t seed);

}  // namespace meridian::sim
