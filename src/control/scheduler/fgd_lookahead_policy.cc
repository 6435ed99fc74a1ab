#include "control/scheduler/fgd_lookahead_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "control/scheduler/reference_policies.h"
#include "control/scheduler/two_smallest_tree.h"

namespace meridian::scheduler {
namespace {

class FgdLookaheadPolicy final : public ScorePolicy {
 public:
  explicit FgdLookaheadPolicy(std::vector<TypicalPod> typical)
      : fgd_(MakeFgdPolicy(typical)), typical_(std::move(typical)) {}

  std::string_view name() const override { return "fgd-lookahead"; }
  double Score(const NodeState& node, const PodSpec& pod) const override { return fgd_->Score(node, pod); }
  std::vector<int> SelectGpus(const NodeState& node, const PodSpec& pod, Rng& rng) const override {
    return fgd_->SelectGpus(node, pod, rng);
  }
  bool ranks_ties() const override { return true; }

  // Brings each typical pod's growth on every node that changed since the last decision up to
  // date; the trees then know the best and second best node for each.
  void BeginTies(const std::vector<NodeState>& nodes, const PodSpec&) override {
    if (seen_generation_.size() != nodes.size()) {  // first decision, or another cluster
      seen_generation_.assign(nodes.size(), 0);     // NodeState generations start at 1
      state_generation_.assign(nodes.size(), 0);
      state_id_.assign(nodes.size(), 0);
      least_growth_.assign(typical_.size(), TwoSmallestTree(nodes.size()));
    }
    nodes_ = nodes.data();
    ++decision_;
    for (size_t n = 0; n < nodes.size(); ++n) {
      if (seen_generation_[n] == nodes[n].generation) continue;
      seen_generation_[n] = nodes[n].generation;
      for (size_t t = 0; t < typical_.size(); ++t) {
        least_growth_[t].Set(n, LeastFragmentationGrowth(*nodes[n].spec, nodes[n].cpu_free, nodes[n].gpu_free_milli,
                                                         typical_[t], typical_)
                                    .value_or(kNowhere));
      }
    }
    best_slots_.clear();
    for (const TwoSmallestTree& tree : least_growth_) best_slots_.push_back(tree.smallest_slot());
    std::sort(best_slots_.begin(), best_slots_.end());
  }

  double RankTie(const NodeState& node, const PodSpec& pod) override {
    // A pod without GPUs takes CPU that the node's free GPUs will need for their pods; FGD's
    // measure sees that only once a typical pod's CPU no longer fits, so it ties such nodes with
    // nodes whose GPUs are taken. Among them, the least free GPU: there its CPU strands nothing.
    if (pod.total_gpu_milli() == 0) return -static_cast<double>(node.gpu_free_total());
    const size_t index = static_cast<size_t>(&node - nodes_);
    // One milli-GPU steps: nearer ranks tie (see the header). Among equal steps a node already
    // in use goes first (half a step down for an idle one), as in fgd-pack.
    const bool idle = node.cpu_free == node.spec->cpu_milli && node.fully_free_gpus() == node.spec->gpu_count;
    return std::floor(-ExpectedNextGrowth(index, pod)) - (idle ? 0.5 : 0);
  }

 private:
  static constexpr double kNowhere = TwoSmallestTree::kEmpty;
  static constexpr size_t kMaxRemembered = 100000;

  // The next pod's expected least growth in the cluster once `pod` is placed on the node. Within
  // one decision it depends only on the node's state, unless the node is some typical pod's best
  // place: tied idle nodes are often thousands of alike ones, so the answer is kept by state.
  double ExpectedNextGrowth(size_t index, const PodSpec& pod) {
    const bool holds_a_best_place = std::binary_search(best_slots_.begin(), best_slots_.end(), index);
    const uint32_t state = StateId(index);
    if (!holds_a_best_place) {
      if (expected_by_state_.size() <= state) expected_by_state_.resize(state + 1);
      if (expected_by_state_[state].decision == decision_) return expected_by_state_[state].expected;
    }
    const std::vector<double>& here = GrowthAfter(index, pod);
    double expected = 0;
    for (size_t t = 0; t < typical_.size(); ++t) {
      // This node's current offer is gone once the pod is placed; what it offers then counts.
      const TwoSmallestTree& best = least_growth_[t];
      const double elsewhere = best.smallest_slot() == index ? best.second_smallest() : best.smallest();
      const double next = std::min(elsewhere, here[t]);
      if (next != kNowhere) expected += typical_[t].frequency * next;  // fits nowhere either way: no say
    }
    if (!holds_a_best_place) expected_by_state_[state] = {decision_, expected};
    return expected;
  }

  // A pod shape placed on a node state (alike nodes in alike states answer alike).
  struct Placement {
    int64_t cpu_milli;
    int32_t gpu_count;
    int32_t gpu_milli;
    uint32_t state;
    bool operator==(const Placement&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const Placement& p) {
      return H::combine(std::move(h), p.cpu_milli, p.gpu_count, p.gpu_milli, p.state);
    }
  };

  // An id for the node's state as fragmentation sees it (free CPU, free share of each device in
  // any order, GPU model), computed once per node generation.
  uint32_t StateId(size_t index) {
    const NodeState& node = nodes_[index];
    if (state_generation_[index] == node.generation) return state_id_[index];
    if (state_ids_.size() >= kMaxRemembered) {  // bounded: start over, every node recomputes
      state_ids_.clear();
      remembered_.clear();
      expected_by_state_.clear();
      std::fill(state_generation_.begin(), state_generation_.end(), 0);
    }
    std::string key;
    auto append = [&key](int64_t value) { key.append(reinterpret_cast<const char*>(&value), sizeof value); };
    append(node.cpu_free);
    std::vector<int32_t> devices = node.gpu_free_milli;
    std::sort(devices.begin(), devices.end());
    for (int32_t free : devices) append(free);
    key += node.spec->gpu_model;
    const auto [it, inserted] = state_ids_.try_emplace(std::move(key), static_cast<uint32_t>(state_ids_.size()));
    state_generation_[index] = node.generation;
    state_id_[index] = it->second;
    return it->second;
  }

  // Each typical pod's least growth on the node once `pod` is placed there (kNowhere: does not
  // fit), remembered by the pod's shape and the node's state.
  const std::vector<double>& GrowthAfter(size_t index, const PodSpec& pod) {
    const Placement placement{pod.cpu_milli, pod.gpu_count, pod.gpu_milli, StateId(index)};
    if (remembered_.size() >= kMaxRemembered) remembered_.clear();
    auto [it, inserted] = remembered_.try_emplace(placement);
    if (!inserted) return it->second;

    const NodeState& node = nodes_[index];
    std::vector<int32_t> gpus = node.gpu_free_milli;
    Rng unused(0);  // FGD picks devices deterministically
    for (int device : fgd_->SelectGpus(node, pod, unused)) gpus[static_cast<size_t>(device)] -= pod.gpu_milli;
    const int64_t cpu_after = node.cpu_free - pod.cpu_milli;
    std::vector<double>& growth = it->second;
    growth.resize(typical_.size());
    for (size_t t = 0; t < typical_.size(); ++t) {
      growth[t] = LeastFragmentationGrowth(*node.spec, cpu_after, gpus, typical_[t], typical_).value_or(kNowhere);
    }
    return growth;
  }

  std::unique_ptr<ScorePolicy> fgd_;
  std::vector<TypicalPod> typical_;
  std::vector<uint32_t> seen_generation_;       // [node]: the generation least_growth_ reflects
  std::vector<TwoSmallestTree> least_growth_;   // [typical pod]: its least growth on each node
  const NodeState* nodes_ = nullptr;
  std::vector<uint32_t> state_generation_;      // [node]: the generation state_id_ reflects
  std::vector<uint32_t> state_id_;              // [node]
  absl::flat_hash_map<std::string, uint32_t> state_ids_;
  absl::flat_hash_map<Placement, std::vector<double>> remembered_;
  uint64_t decision_ = 0;           // counts BeginTies calls
  std::vector<size_t> best_slots_;  // sorted: the nodes that are some typical pod's best place
  struct ExpectedThisDecision {
    uint64_t decision = 0;
    double expected = 0;
  };
  std::vector<ExpectedThisDecision> expected_by_state_;  // [state id]
};

}  // namespace

std::unique_ptr<ScorePolicy> MakeFgdLookaheadPolicy(std::vector<TypicalPod> typical) {
  return std::make_unique<FgdLookaheadPolicy>(std::move(typical));
}

}  // namespace meridian::scheduler
