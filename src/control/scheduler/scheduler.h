#pragma once

// Places pods on nodes: filters, then the scoring policy, then the tie-break among the best.
// Holds the cluster's state (what every node has left, which pods run where) and changes it only
// through Bind and Evict. Pure: no clock, no I/O, no threads; not thread-safe (one caller).
//
// Incremental: a node's score for a pod shape is cached until that node changes, so a decision
// re-scores only the nodes touched since the shape was last seen; the rest is one pass of cheap
// resource checks over the nodes.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "control/scheduler/cluster.h"
#include "control/scheduler/filters.h"
#include "control/scheduler/node_state.h"
#include "control/scheduler/score_policy.h"

namespace meridian::scheduler {

struct Decision {
  bool scheduled = false;
  int node = -1;  // index into the scheduler's nodes
  std::vector<int> gpus;
  double score = 0;
  // Why nodes were rejected: how many for each reason (indexed by Unfit).
  std::array<int, kUnfitReasons> rejected{};
  int nodes_considered = 0;

  // Kubernetes' wording: "0/3 nodes are available: 2 Insufficient nvidia.com/gpu, 1 node(s) had
  // untolerated taint." or "placed on node-7 (score 87)".
  std::string Explain(const std::vector<NodeState>& nodes) const;
  // True when every rejection was for lack of resources (preemption could help).
  bool only_resource_shortage() const;
};

struct BoundPod {
  PodSpec spec;
  int node = -1;
  std::vector<int> gpus;
  uint64_t sequence = 0;  // bind order
};

enum class TieBreak {
  // The node whose name sorts first: reproducible, and what the FGD paper's simulator does (its
  // published curves depend on it: ties on the 0..100 scale are frequent).
  kLowestName,
  // Uniformly at random among the best, as kube-scheduler does.
  kRandom,
};

struct SchedulerOptions {
  uint64_t seed = 1;  // for random tie-breaks and random policies
  TieBreak tie_break = TieBreak::kLowestName;
};

class Scheduler {
 public:
  Scheduler(std::vector<NodeSpec> nodes, std::unique_ptr<ScorePolicy> policy, SchedulerOptions options = {});

  // Chooses a node and devices for the pod; changes nothing.
  Decision Schedule(const PodSpec& pod);
  // Places the pod as decided. The pod's key is namespace/name and must be new.
  absl::Status Bind(const PodSpec& pod, const Decision& decision);
  // Schedule + Bind; the decision says whether it was placed.
  Decision Place(const PodSpec& pod);
  // Removes a placed pod and returns its resources.
  absl::Status Evict(const std::string& pod_key);

  // For each node: the reason the pod cannot run there, or its score.
  struct NodeVerdict {
    std::string node;
    Unfit reason = Unfit::kNone;
    double score = 0;
  };
  std::vector<NodeVerdict> ExplainNodes(const PodSpec& pod) const;

  const std::vector<NodeSpec>& node_specs() const { return specs_; }
  const std::vector<NodeState>& nodes() const { return nodes_; }
  const std::map<std::string, BoundPod>& pods() const { return pods_; }
  std::vector<const BoundPod*> PodsOn(int node) const;
  const ScorePolicy& policy() const { return *policy_; }

  static std::string PodKey(const PodSpec& pod) { return pod.namespace_name + "/" + pod.name; }

 private:
  static constexpr size_t kMaxCachedShapes = 1024;
  // -1: not cached (too many shapes).
  int ShapeId(const PodSpec& pod);
  double CachedScore(size_t node, int shape, const PodSpec& pod);
  // Whether node `candidate` (tied with `current` on score) wins the tie; `ties` counts them.
  bool WinsTie(size_t candidate, size_t current, int& ties);

  std::vector<NodeSpec> specs_;
  std::vector<NodeState> nodes_;
  std::unique_ptr<ScorePolicy> policy_;
  Rng rng_;
  TieBreak tie_break_;
  std::vector<uint32_t> name_rank_;  // position of each node's name in sorted order
  std::map<std::string, BoundPod> pods_;
  uint64_t next_sequence_ = 1;

  struct CachedEntry {
    uint32_t generation = 0;  // 0: never computed
    double score = 0;
  };
  absl::flat_hash_map<std::string, int> shape_ids_;
  std::vector<std::vector<CachedEntry>> cache_;  // [shape][node]
};

}  // namespace meridian::scheduler
