#pragma once

// A scoring policy ranks the nodes that passed the filters and picks the devices on the chosen
// one. Scores are stateless (any per-workload data is fixed at construction): the scheduler
// caches a node's score for a pod shape until the node changes.
//
// The reference policies score on Kubernetes' 0..100 integer scale, as the FGD paper's simulator
// does: the truncation decides which nodes tie (and the scheduler's tie-break then decides), so
// keeping it is part of reproducing the published curves.

#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "control/scheduler/cluster.h"
#include "control/scheduler/node_state.h"

namespace meridian::scheduler {

using Rng = std::mt19937_64;

inline constexpr double kMaxNodeScore = 100;

class ScorePolicy {
 public:
  virtual ~ScorePolicy() = default;
  virtual std::string_view name() const = 0;
  // Higher is better. Called only for nodes where the pod fits.
  virtual double Score(const NodeState& node, const PodSpec& pod) const = 0;
  // The devices the pod gets on the chosen node (empty for pods without GPUs).
  virtual std::vector<int> SelectGpus(const NodeState& node, const PodSpec& pod, Rng& rng) const;
  // True for a policy that wants a uniformly random feasible node: the scheduler then ignores
  // scores and its tie-break and draws one.
  virtual bool picks_at_random() const { return false; }

  // A second opinion among the nodes tied for the best score, for a policy that looks beyond one
  // node: BeginTies sees the whole cluster once per decision (only when there is a tie), then
  // RankTie ranks each tied node (an element of those nodes; higher wins, equal ranks fall back to
  // the scheduler's tie-break). Such a policy may keep state between decisions.
  virtual bool ranks_ties() const { return false; }
  virtual void BeginTies(const std::vector<NodeState>& /*nodes*/, const PodSpec& /*pod*/) {}
  virtual double RankTie(const NodeState& /*node*/, const PodSpec& /*pod*/) { return 0; }
};

// What policies may learn about the workload up front (FGD's target workload).
struct PolicyContext {
  std::vector<PodSpec> workload;
};

// random, dot-product, gpu-clustering, gpu-packing, best-fit, fgd, and ours (see docs).
std::vector<std::string> PolicyNames();
absl::StatusOr<std::unique_ptr<ScorePolicy>> MakeScorePolicy(std::string_view name, const PolicyContext& context);

}  // namespace meridian::scheduler
