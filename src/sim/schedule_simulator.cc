#include "sim/schedule_simulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/scheduler/scheduler.h"
#include "control/scheduler/score_policy.h"

namespace meridian::sim {

double ScheduleSimulationResult::final_allocation_percent() const {
  for (auto it = allocation_percent.rbegin(); it != allocation_percent.rend(); ++it) {
    if (*it >= 0) return *it;
  }
  return 0;
}

std::vector<scheduler::PodSpec> ArrivalOrder(const std::vector<scheduler::PodSpec>& workload, int64_t cluster_gpu_milli,
                                             double tune, uint64_t seed) {
  std::vector<scheduler::PodSpec> by_name = workload;
  std::stable_sort(by_name.begin(), by_name.end(),
                   [](const scheduler::PodSpec& a, const scheduler::PodSpec& b) { return a.name < b.name; });
  std::mt19937_64 rng(seed);
  std::vector<scheduler::PodSpec> pods = by_name;
  std::shuffle(pods.begin(), pods.end(), rng);
  int64_t demand = 0;
  for (const auto& pod : pods) demand += pod.total_gpu_milli();
  const double target = tune * static_cast<double>(cluster_gpu_milli);
  if (tune <= 0 || by_name.empty()) return pods;
  while (static_cast<double>(demand) > target && !pods.empty()) {  // prune at random
    const size_t i = std::uniform_int_distribution<size_t>(0, pods.size() - 1)(rng);
    demand -= pods[i].total_gpu_milli();
    pods.erase(pods.begin() + static_cast<std::ptrdiff_t>(i));
  }
  // Inflate with clones appended after the shuffled originals. The stop test adds the clone's
  // per-device milli, not its total, exactly as the published simulator does: a multi-GPU clone
  // may overshoot the target by a few GPUs, which its curves include. Only a GPU pod can stop
  // it, so a workload without any adds nothing (cloning CPU pods would never end).
  const bool any_gpu = std::any_of(by_name.begin(), by_name.end(),
                                   [](const scheduler::PodSpec& p) { return p.total_gpu_milli() > 0; });
  for (int clone = 0; any_gpu; ++clone) {
    scheduler::PodSpec pod = by_name[std::uniform_int_distribution<size_t>(0, by_name.size() - 1)(rng)];
    if (static_cast<double>(demand + pod.gpu_milli) > target) break;
    demand += pod.total_gpu_milli();
    pod.name = absl::StrCat(pod.name, "-tuned-", clone);
    pods.push_back(std::move(pod));
  }
  return pods;
}

absl::StatusOr<ScheduleSimulationResult> SimulateSchedule(const std::vector<scheduler::NodeSpec>& nodes,
                                                          const std::vector<scheduler::PodSpec>& workload,
                                                          const ScheduleSimulationOptions& options) {
  if (!(options.tune > 0 && options.tune <= 10)) return absl::InvalidArgumentError("tune must be in (0, 10]");
  auto policy = scheduler::MakeScorePolicy(options.policy, scheduler::PolicyContext{.workload = workload});
  if (!policy.ok()) return policy.status();
  ScheduleSimulationResult result;
  result.policy = options.policy;
  result.seed = options.seed;
  for (const auto& node : nodes) result.cluster_gpu_milli += int64_t{node.gpu_count} * scheduler::kMilliPerGpu;
  if (result.cluster_gpu_milli == 0) return absl::InvalidArgumentError("the cluster has no GPUs");

  std::vector<scheduler::PodSpec> pods = ArrivalOrder(workload, result.cluster_gpu_milli, options.tune, options.seed);
  if (options.max_pods > 0 && pods.size() > static_cast<size_t>(options.max_pods)) {
    pods.resize(static_cast<size_t>(options.max_pods));
  }
  // The published simulator prefixes every node's name with a seeded random permutation index,
  // and its scheduler breaks score ties by the lowest name: ties go to a random, fixed order of
  // nodes. Do the same, so that ties break alike.
  std::vector<scheduler::NodeSpec> ordered = nodes;
  std::sort(ordered.begin(), ordered.end(),
            [](const scheduler::NodeSpec& a, const scheduler::NodeSpec& b) { return a.name < b.name; });
  std::vector<size_t> rank(ordered.size());
  std::iota(rank.begin(), rank.end(), 0);
  std::mt19937_64 order_rng(options.seed ^ 0x6e6f646573ULL);  // "nodes"
  std::shuffle(rank.begin(), rank.end(), order_rng);
  for (size_t i = 0; i < ordered.size(); ++i) ordered[i].name = absl::StrFormat("%05d-%s", rank[i], ordered[i].name);
  scheduler::Scheduler scheduler(std::move(ordered), *std::move(policy), {.seed = options.seed});
  const double capacity = static_cast<double>(result.cluster_gpu_milli);
  const size_t buckets = static_cast<size_t>(std::ceil(options.tune * 100)) + 2;
  std::vector<double> sum(buckets, 0);
  std::vector<int> count(buckets, 0);
  int64_t arrived = 0, allocated = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < pods.size(); ++i) {
    // Names are unique keys; a trace may repeat one.
    pods[i].name = absl::StrCat(pods[i].name, "#", i);
    const scheduler::Decision decision = scheduler.Place(pods[i]);
    arrived += pods[i].total_gpu_milli();
    if (decision.scheduled) {
      allocated += pods[i].total_gpu_milli();
      ++result.pods_placed;
    }
    const size_t k = std::min(buckets - 1, static_cast<size_t>(std::lround(100.0 * static_cast<double>(arrived) / capacity)));
    sum[k] += 100.0 * static_cast<double>(allocated) / capacity;
    ++count[k];
  }
  result.scheduling_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.pods = static_cast<int>(pods.size());
  result.allocation_percent.resize(buckets);
  for (size_t k = 0; k < buckets; ++k) result.allocation_percent[k] = count[k] > 0 ? sum[k] / count[k] : -1;
  while (!result.allocation_percent.empty() && result.allocation_percent.back() < 0) result.allocation_percent.pop_back();
  return result;
}

}  // namespace meridian::sim
