#include "control/scheduler/reference_policies.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

#include "control/scheduler/gpu_selection.h"

namespace meridian::scheduler {
namespace {

// Kubernetes scores are int64: truncation toward zero, as Go's int64(float) conversion does.
double Truncate(double score) { return std::trunc(score); }

class RandomPolicy final : public ScorePolicy {
 public:
  std::string_view name() const override { return "random"; }
  double Score(const NodeState&, const PodSpec&) const override { return 0; }
  bool picks_at_random() const override { return true; }
  std::vector<int> SelectGpus(const NodeState& node, const PodSpec& pod, Rng& rng) const override {
    return RandomFitGpus(node, pod, rng);
  }
};

class DotProductPolicy final : public ScorePolicy {
 public:
  std::string_view name() const override { return "dot-product"; }
  double Score(const NodeState& node, const PodSpec& pod) const override {
    const double product = (static_cast<double>(node.cpu_free) / kMaxSpecCpuMilli) *
                               (static_cast<double>(pod.cpu_milli) / kMaxSpecCpuMilli) +
                           (static_cast<double>(node.gpu_free_total()) / kMaxSpecGpuMilli) *
                               (static_cast<double>(pod.total_gpu_milli()) / kMaxSpecGpuMilli);
    return Truncate(kMaxNodeScore * (1 - product / 2));
  }
};

class GpuClusteringPolicy final : public ScorePolicy {
 public:
  std::string_view name() const override { return "gpu-clustering"; }
  double Score(const NodeState& node, const PodSpec& pod) const override {
    if (!pod.wants_gpu()) return 0;
    // Integer arithmetic in the simulator's order: 25 * used / 8000, in [0, 25].
    const int64_t used = static_cast<int64_t>(kMaxSpecGpuMilli) - node.gpu_free_total();
    const int64_t fullness = 25 * used / static_cast<int64_t>(kMaxSpecGpuMilli);
    const bool same_kind_here = node.gpu_pods_by_kind[static_cast<size_t>(GpuPodKind(pod))] > 0;
    const int kinds = node.distinct_gpu_pod_kinds();
    if (same_kind_here) return static_cast<double>(fullness + (kinds == 1 ? 75 : 50));
    return static_cast<double>(fullness + (kinds == 0 ? 25 : 0));
  }
};

class GpuPackingPolicy final : public ScorePolicy {
 public:
  std::string_view name() const override { return "gpu-packing"; }
  double Score(const NodeState& node, const PodSpec& pod) const override {
    if (!pod.wants_gpu()) return 0;
    const int fully_free = node.fully_free_gpus();
    if (fully_free == node.spec->gpu_count) return std::max(33 - fully_free, fully_free);
    // The devices the pod would use, fullest first.
    std::vector<int> order(node.gpu_free_milli.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return node.gpu_free_milli[static_cast<size_t>(a)] < node.gpu_free_milli[static_cast<size_t>(b)];
    });
    int needed = pod.gpu_count;
    int fully_free_used = 0;
    int64_t free_percent_on_used = 0;
    for (int device : order) {
      if (needed == 0) break;
      const int32_t free = node.gpu_free_milli[static_cast<size_t>(device)];
      if (free < pod.gpu_milli) continue;
      --needed;
      if (free == kMilliPerGpu) ++fully_free_used;
      free_percent_on_used += free * 100 / kMilliPerGpu;
    }
    if (needed > 0) return 0;
    if (fully_free_used > 0) return std::max(50 - fully_free_used, 33);
    return static_cast<double>(std::max<int64_t>(100 - free_percent_on_used / 10, 50));
  }
};

class BestFitPolicy final : public ScorePolicy {
 public:
  std::string_view name() const override { return "best-fit"; }
  double Score(const NodeState& node, const PodSpec& pod) const override {
    const double left = 0.5 * static_cast<double>(node.cpu_free - pod.cpu_milli) / kMaxSpecCpuMilli +
                        0.5 * static_cast<double>(node.gpu_free_total() - pod.total_gpu_milli()) / kMaxSpecGpuMilli;
    return Truncate((1 - left) * kMaxNodeScore);
  }
};

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

class FgdPolicy : public ScorePolicy {
 public:
  explicit FgdPolicy(std::vector<TypicalPod> typical) : typical_(std::move(typical)) {}
  std::string_view name() const override { return "fgd"; }

  double Score(const NodeState& node, const PodSpec& pod) const override { return Evaluate(node, pod).score; }

  std::vector<int> SelectGpus(const NodeState& node, const PodSpec& pod, Rng&) const override {
    if (!pod.shares_gpu()) return FirstFreeGpus(node, pod);
    return {Evaluate(node, pod).device};
  }

 private:
  struct Evaluation {
    double score = 0;
    int device = -1;
  };

  // The score of a placement: the fragmentation it removes (negative: adds), squashed into
  // 0..100 with the paper's sigmoid(delta / 1000).
  double ScoreOf(double before, double after) const {
    return Truncate(Sigmoid((before - after) / 1000) * kMaxNodeScore);
  }

  Evaluation Evaluate(const NodeState& node, const PodSpec& pod) const {
    const double before = GpuFragmentation(*node.spec, node.cpu_free, node.gpu_free_milli, typical_);
    std::vector<int32_t> gpus = node.gpu_free_milli;
    const int64_t cpu_after = node.cpu_free - pod.cpu_milli;
    Evaluation best;
    if (pod.shares_gpu()) {
      // Every fitting device; devices with equal free give equal results, so each value once.
      for (size_t i = 0; i < gpus.size(); ++i) {
        if (gpus[i] < pod.gpu_milli) continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; ++j) seen = node.gpu_free_milli[j] == gpus[i];
        if (seen) continue;
        gpus[i] -= pod.gpu_milli;
        const double score = ScoreOf(before, GpuFragmentation(*node.spec, cpu_after, gpus, typical_));
        gpus[i] += pod.gpu_milli;
        if (best.device < 0 || score > best.score) best = {score, static_cast<int>(i)};
      }
      return best;
    }
    for (int device : FirstFreeGpus(node, pod)) gpus[static_cast<size_t>(device)] -= pod.gpu_milli;
    best.score = ScoreOf(before, GpuFragmentation(*node.spec, cpu_after, gpus, typical_));
    return best;
  }

  std::vector<TypicalPod> typical_;
};

// Ours: FGD, with its ties on the 0..100 scale broken toward nodes already in use (then by the
// scheduler's tie-break), so that idle machines stay idle for the large pods that arrive later.
// See docs/benchmarks.md for how it compares on the shared trace.
class FgdPackPolicy final : public FgdPolicy {
 public:
  using FgdPolicy::FgdPolicy;
  std::string_view name() const override { return "fgd-pack"; }
  double Score(const NodeState& node, const PodSpec& pod) const override {
    const bool idle = node.cpu_free == node.spec->cpu_milli && node.fully_free_gpus() == node.spec->gpu_count;
    return FgdPolicy::Score(node, pod) - (idle ? 1e-3 : 0);  // below one step: it only orders ties
  }
};

}  // namespace

std::unique_ptr<ScorePolicy> MakeRandomPolicy() { return std::make_unique<RandomPolicy>(); }
std::unique_ptr<ScorePolicy> MakeDotProductPolicy() { return std::make_unique<DotProductPolicy>(); }
std::unique_ptr<ScorePolicy> MakeGpuClusteringPolicy() { return std::make_unique<GpuClusteringPolicy>(); }
std::unique_ptr<ScorePolicy> MakeGpuPackingPolicy() { return std::make_unique<GpuPackingPolicy>(); }
std::unique_ptr<ScorePolicy> MakeBestFitPolicy() { return std::make_unique<BestFitPolicy>(); }
std::unique_ptr<ScorePolicy> MakeFgdPackPolicy(std::vector<TypicalPod> typical) {
  return std::make_unique<FgdPackPolicy>(std::move(typical));
}
std::unique_ptr<ScorePolicy> MakeFgdPolicy(std::vector<TypicalPod> typical) {
  return std::make_unique<FgdPolicy>(std::move(typical));
}

}  // namespace meridian::scheduler
