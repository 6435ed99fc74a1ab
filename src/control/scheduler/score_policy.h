#pragma once

// A scoring policy ranks the nodes that passed the filters and picks the devices on the chosen
// one. Policies are stateless strategies (any per-workload data is fixed at construction), so
// one instance serves every decision; the scheduler caches a node's score for a pod shape until
// the node changes, unless the policy says its scores are not repeatable.
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
};

// What policies may learn about the workload up front (FGD's target workload).
struct PolicyContext {
  std::vector<PodSpec> workload;
};

// random, dot-product, gpu-clustering, gpu-packing, best-fit, fgd, and ours (see docs).
std::vector<std::string> PolicyNames();
absl::StatusOr<std::unique_ptr<ScorePolicy>> MakeScorePolicy(std::string_view name, const PolicyContext& context);

}  // namespace meridian::scheduler
