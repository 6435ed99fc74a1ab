#pragma once

// The scheduler's model of a cluster: nodes (capacity, GPUs, labels, taints) and pods (requests,
// GPUs, priority, team, placement constraints). Plain values, no behaviour; the Kubernetes field
// they stand for is named beside each so that specs and manifests map onto them one to one.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace meridian::scheduler {

// One GPU is 1000 milli; a GPU-sharing pod asks for a share of one GPU.
inline constexpr int32_t kMilliPerGpu = 1000;

enum class TaintEffect { kNoSchedule, kPreferNoSchedule, kNoExecute };

struct Taint {  // core/v1 Taint
  std::string key;
  std::string value;
  TaintEffect effect = TaintEffect::kNoSchedule;
};

struct Toleration {  // core/v1 Toleration; an empty key with Exists tolerates everything
  enum class Operator { kEqual, kExists };
  std::string key;
  Operator op = Operator::kEqual;
  std::string value;
  bool any_effect = true;  // effect unset
  TaintEffect effect = TaintEffect::kNoSchedule;
};

struct NodeSelectorRequirement {  // core/v1 NodeSelectorRequirement (matchExpressions)
  enum class Operator { kIn, kNotIn, kExists, kDoesNotExist, kGt, kLt };
  std::string key;
  Operator op = Operator::kIn;
  std::vector<std::string> values;
};

// requiredDuringSchedulingIgnoredDuringExecution: the terms are ORed, the requirements of one
// term ANDed.
struct NodeSelectorTerm {
  std::vector<NodeSelectorRequirement> match_expressions;
};

struct NodeSpec {
  std::string name;
  int64_t cpu_milli = 0;     // status.allocatable.cpu
  int64_t memory_bytes = 0;  // status.allocatable.memory
  int32_t gpu_count = 0;     // nvidia.com/gpu
  std::string gpu_model;     // e.g. "V100M32"; empty on CPU-only nodes
  std::map<std::string, std::string> labels;
  std::vector<Taint> taints;
};

struct PodSpec {
  std::string name;
  std::string namespace_name = "default";  // the team, for quotas and fair share
  int64_t cpu_milli = 0;                   // requests.cpu
  int64_t memory_bytes = 0;                // requests.memory
  int64_t cpu_limit_milli = 0;             // limits.cpu (0: none), for quotas only
  int64_t memory_limit_bytes = 0;          // limits.memory (0: none), for quotas only
  // GPUs: `gpu_count` whole GPUs (gpu_milli == 1000), or a share of one GPU (gpu_count == 1,
  // gpu_milli < 1000), or none (gpu_count == 0).
  int32_t gpu_count = 0;
  int32_t gpu_milli = 0;
  std::vector<std::string> accepted_gpu_models;  // empty: any model
  int32_t priority = 0;                          // resolved from the priority class
  std::map<std::string, std::string> node_selector;
  std::vector<Toleration> tolerations;
  std::vector<NodeSelectorTerm> required_node_affinity;

  bool wants_gpu() const { return gpu_count > 0 && gpu_milli > 0; }
  bool shares_gpu() const { return gpu_count == 1 && gpu_milli < kMilliPerGpu; }
  int64_t total_gpu_milli() const { return int64_t{gpu_count} * gpu_milli; }
};

}  // namespace meridian::scheduler
