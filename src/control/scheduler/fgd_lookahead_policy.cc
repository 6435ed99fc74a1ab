#include "control/scheduler/fgd_lookahead_policy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "control/scheduler/reference_policies.h"

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

  // Brings each typical pod's growth on every changed node up to date, and finds the best and
  // second best node for each.
  void BeginTies(const std::vector<NodeState>& nodes, const PodSpec&) override {
    if (growth_.size() != typical_.size() || (!growth_.empty() && growth_[0].size() != nodes.size())) {
      growth_.assign(typical_.size(), std::vector<CachedGrowth>(nodes.size()));
    }
    nodes_ = nodes.data();
    best_.assign(typical_.size(), BestPlaces{});
    for (size_t t = 0; t < typical_.size(); ++t) {
      BestPlaces& best = best_[t];
      for (size_t n = 0; n < nodes.size(); ++n) {
        CachedGrowth& cached = growth_[t][n];
        if (cached.generation != nodes[n].generation) {
          cached.generation = nodes[n].generation;
          cached.growth = LeastFragmentationGrowth(*nodes[n].spec, nodes[n].cpu_free, nodes[n].gpu_free_milli,
                                                   typical_[t], typical_)
                              .value_or(kNowhere);
        }
        if (cached.growth < best.first) {
          best.second = best.first;
          best.first = cached.growth;
          best.first_node = n;
        } else if (cached.growth < best.second) {
          best.second = cached.growth;
        }
      }
    }
  }

  double RankTie(const NodeState& node, const PodSpec& pod) override {
    const size_t index = static_cast<size_t>(&node - nodes_);
    const std::vector<double>& here = GrowthAfter(node, pod);
    double expected = 0;
    for (size_t t = 0; t < typical_.size(); ++t) {
      // This node's current offer is gone once the pod is placed; what it offers then counts.
      const BestPlaces& best = best_[t];
      const double next = std::min(best.first_node == index ? best.second : best.first, here[t]);
      if (next != kNowhere) expected += typical_[t].frequency * next;  // fits nowhere either way: no say
    }
    // One milli-GPU steps: nearer ranks tie (see the header). Among equal steps a node already
    // in use goes first (half a step down for an idle one), as in fgd-pack.
    const bool idle = node.cpu_free == node.spec->cpu_milli && node.fully_free_gpus() == node.spec->gpu_count;
    return std::floor(-expected) - (idle ? 0.5 : 0);
  }

 private:
  static constexpr double kNowhere = std::numeric_limits<double>::infinity();
  static constexpr size_t kMaxRemembered = 100000;

  struct CachedGrowth {
    uint32_t generation = 0;  // NodeState generations start at 1
    double growth = kNowhere;
  };
  struct BestPlaces {
    double first = kNowhere;
    double second = kNowhere;
    size_t first_node = std::numeric_limits<size_t>::max();
  };

  // Each typical pod's least growth on the node once `pod` is placed there (kNowhere: does not
  // fit), remembered by the pod's shape and the node's state: alike nodes answer alike.
  const std::vector<double>& GrowthAfter(const NodeState& node, const PodSpec& pod) {
    std::string key;
    auto append = [&key](int64_t value) { key.append(reinterpret_cast<const char*>(&value), sizeof value); };
    append(pod.cpu_milli);
    append(pod.gpu_count);
    append(pod.gpu_milli);
    append(node.cpu_free);
    std::vector<int32_t> devices = node.gpu_free_milli;  // fragmentation ignores device order
    std::sort(devices.begin(), devices.end());
    for (int32_t free : devices) append(free);
    key += node.spec->gpu_model;
    if (remembered_.size() >= kMaxRemembered) remembered_.clear();
    auto [it, inserted] = remembered_.try_emplace(std::move(key));
    if (!inserted) return it->second;

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
  std::vector<std::vector<CachedGrowth>> growth_;  // [typical pod][node]
  std::vector<BestPlaces> best_;                   // [typical pod]
  const NodeState* nodes_ = nullptr;
  absl::flat_hash_map<std::string, std::vector<double>> remembered_;
};

}  // namespace

std::unique_ptr<ScorePolicy> MakeFgdLookaheadPolicy(std::vector<TypicalPod> typical) {
  return std::make_unique<FgdLookaheadPolicy>(std::move(typical));
}

}  // namespace meridian::scheduler
