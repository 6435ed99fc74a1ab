#include "control/scheduler/scheduler.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace meridian::scheduler {

std::string Decision::Explain(const std::vector<NodeState>& nodes) const {
  if (scheduled) {
    return absl::StrFormat("placed on %s (score %g)", nodes[static_cast<size_t>(node)].spec->name, score);
  }
  std::vector<std::string> parts;
  for (int r = 1; r < kUnfitReasons; ++r) {
    if (rejected[static_cast<size_t>(r)] > 0) {
      parts.push_back(absl::StrCat(rejected[static_cast<size_t>(r)], " ", UnfitMessage(static_cast<Unfit>(r))));
    }
  }
  return absl::StrCat("0/", nodes_considered, " nodes are available",
                      parts.empty() ? "" : absl::StrCat(": ", absl::StrJoin(parts, ", ")), ".");
}

bool Decision::only_resource_shortage() const {
  for (int r = 1; r < kUnfitReasons; ++r) {
    if (rejected[static_cast<size_t>(r)] > 0 && !IsResourceShortage(static_cast<Unfit>(r))) return false;
  }
  return true;
}

Scheduler::Scheduler(std::vector<NodeSpec> nodes, std::unique_ptr<ScorePolicy> policy, SchedulerOptions options)
    : specs_(std::move(nodes)), policy_(std::move(policy)), rng_(options.seed), tie_break_(options.tie_break) {
  nodes_.reserve(specs_.size());
  for (const NodeSpec& spec : specs_) nodes_.push_back(NodeState::Empty(spec));
  std::vector<uint32_t> by_name(specs_.size());
  std::iota(by_name.begin(), by_name.end(), 0);
  std::sort(by_name.begin(), by_name.end(), [&](uint32_t a, uint32_t b) { return specs_[a].name < specs_[b].name; });
  name_rank_.resize(specs_.size());
  for (uint32_t rank = 0; rank < by_name.size(); ++rank) name_rank_[by_name[rank]] = rank;
}

bool Scheduler::WinsTie(size_t candidate, size_t current, int& ties) {
  ++ties;
  if (tie_break_ == TieBreak::kLowestName) return name_rank_[candidate] < name_rank_[current];
  // Reservoir sampling: each of the tied nodes ends up chosen with probability 1/ties.
  return std::uniform_int_distribution<int>(0, ties - 1)(rng_) == 0;
}

int Scheduler::ShapeId(const PodSpec& pod) {
  // Everything a score may read; the name, team and priority are not part of a shape.
  std::string key = absl::StrCat(pod.cpu_milli, ",", pod.memory_bytes, ",", pod.gpu_count, ",", pod.gpu_milli, ",",
                                 absl::StrJoin(pod.accepted_gpu_models, "|"));
  auto found = shape_ids_.find(key);
  if (found != shape_ids_.end()) return found->second;
  // Each cached shape costs an entry per node: past the bound, new shapes are scored uncached.
  if (cache_.size() >= kMaxCachedShapes) return -1;
  shape_ids_.emplace(std::move(key), static_cast<int>(cache_.size()));
  cache_.emplace_back(nodes_.size());
  return static_cast<int>(cache_.size()) - 1;
}

double Scheduler::CachedScore(size_t node, int shape, const PodSpec& pod) {
  if (shape < 0) return policy_->Score(nodes_[node], pod);
  CachedEntry& entry = cache_[static_cast<size_t>(shape)][node];
  if (entry.generation != nodes_[node].generation) {
    entry.score = policy_->Score(nodes_[node], pod);
    entry.generation = nodes_[node].generation;
  }
  return entry.score;
}

Decision Scheduler::Schedule(const PodSpec& pod) {
  Decision decision;
  decision.nodes_considered = static_cast<int>(nodes_.size());
  const int shape = ShapeId(pod);
  const bool unconstrained = pod.node_selector.empty() && pod.required_node_affinity.empty() &&
                             pod.accepted_gpu_models.empty();
  const bool random_pick = policy_->picks_at_random();
  const bool ranks_ties = !random_pick && policy_->ranks_ties();
  std::vector<std::pair<size_t, double>> scored;  // for a policy that ranks ties
  int ties = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const NodeState& node = nodes_[i];
    Unfit reason = CheckResources(pod, node);
    if (reason == Unfit::kNone && (!unconstrained || !node.spec->taints.empty())) reason = CheckStatic(pod, *node.spec);
    if (reason != Unfit::kNone) {
      ++decision.rejected[static_cast<size_t>(reason)];
      continue;
    }
    if (random_pick) {  // uniform over the feasible nodes
      if (std::uniform_int_distribution<int>(0, ties++)(rng_) == 0) decision.node = static_cast<int>(i);
      continue;
    }
    const double score = CachedScore(i, shape, pod);
    if (ranks_ties) scored.emplace_back(i, score);
    if (decision.node < 0 || score > decision.score) {
      decision.node = static_cast<int>(i);
      decision.score = score;
      ties = 1;
    } else if (score == decision.score && WinsTie(i, static_cast<size_t>(decision.node), ties)) {
      decision.node = static_cast<int>(i);
    }
  }
  if (decision.node < 0) {
    // The pass above checks resources first (cheap); a node short of resources may also be one
    // the pod can never use, and that is the reason to report: preemption cannot fix it.
    decision.rejected = {};
    for (const NodeState& node : nodes_) ++decision.rejected[static_cast<size_t>(CheckNode(pod, node))];
    return decision;
  }
  if (ranks_ties && ties > 1) {
    policy_->BeginTies(nodes_, pod);
    double best_rank = 0;
    int best = -1;
    int rank_ties = 0;
    for (const auto& [i, score] : scored) {
      if (score != decision.score) continue;
      const double rank = policy_->RankTie(nodes_[i], pod);
      if (best < 0 || rank > best_rank) {
        best = static_cast<int>(i);
        best_rank = rank;
        rank_ties = 1;
      } else if (rank == best_rank && WinsTie(i, static_cast<size_t>(best), rank_ties)) {
        best = static_cast<int>(i);
      }
    }
    decision.node = best;
  }
  decision.scheduled = true;
  decision.gpus = policy_->SelectGpus(nodes_[static_cast<size_t>(decision.node)], pod, rng_);
  return decision;
}

absl::Status Scheduler::Bind(const PodSpec& pod, const Decision& decision) {
  if (!decision.scheduled || decision.node < 0 || static_cast<size_t>(decision.node) >= nodes_.size()) {
    return absl::FailedPreconditionError(absl::StrCat("pod ", PodKey(pod), " has no placement to bind"));
  }
  NodeState& node = nodes_[static_cast<size_t>(decision.node)];
  if (CheckNode(pod, node) != Unfit::kNone) {
    return absl::FailedPreconditionError(
        absl::StrCat("pod ", PodKey(pod), " no longer fits on ", node.spec->name, ": ", UnfitMessage(CheckNode(pod, node))));
  }
  std::string key = PodKey(pod);
  if (pods_.count(key) > 0) return absl::AlreadyExistsError(absl::StrCat("pod ", key, " is already placed"));
  if (pod.wants_gpu()) {
    if (static_cast<int32_t>(decision.gpus.size()) != pod.gpu_count) {
      return absl::InvalidArgumentError(absl::StrCat("pod ", key, " needs ", pod.gpu_count, " devices, decision has ",
                                                     decision.gpus.size()));
    }
    std::vector<int> devices = decision.gpus;
    std::sort(devices.begin(), devices.end());
    if (std::adjacent_find(devices.begin(), devices.end()) != devices.end()) {
      return absl::InvalidArgumentError(absl::StrCat("pod ", key, " names a device twice"));
    }
    for (int device : decision.gpus) {
      if (device < 0 || static_cast<size_t>(device) >= node.gpu_free_milli.size() ||
          node.gpu_free_milli[static_cast<size_t>(device)] < pod.gpu_milli) {
        return absl::InvalidArgumentError(absl::StrCat("device ", device, " on ", node.spec->name,
                                                       " cannot take pod ", key));
      }
    }
  }
  node.Take(pod, decision.gpus);
  pods_.emplace(std::move(key), BoundPod{pod, decision.node, decision.gpus, next_sequence_++});
  return absl::OkStatus();
}

Decision Scheduler::Place(const PodSpec& pod) {
  Decision decision = Schedule(pod);
  if (decision.scheduled && !Bind(pod, decision).ok()) decision.scheduled = false;
  return decision;
}

absl::Status Scheduler::Evict(const std::string& pod_key) {
  auto it = pods_.find(pod_key);
  if (it == pods_.end()) return absl::NotFoundError(absl::StrCat("pod ", pod_key, " is not placed"));
  nodes_[static_cast<size_t>(it->second.node)].Give(it->second.spec, it->second.gpus);
  pods_.erase(it);
  return absl::OkStatus();
}

std::vector<Scheduler::NodeVerdict> Scheduler::ExplainNodes(const PodSpec& pod) const {
  std::vector<NodeVerdict> verdicts;
  verdicts.reserve(nodes_.size());
  for (const NodeState& node : nodes_) {
    NodeVerdict v{.node = node.spec->name, .reason = CheckNode(pod, node)};
    if (v.reason == Unfit::kNone) v.score = policy_->Score(node, pod);
    verdicts.push_back(std::move(v));
  }
  return verdicts;
}

std::vector<const BoundPod*> Scheduler::PodsOn(int node) const {
  std::vector<const BoundPod*> out;
  for (const auto& [key, pod] : pods_) {
    if (pod.node == node) out.push_back(&pod);
  }
  return out;
}

}  // namespace meridian::scheduler
