#pragma once

// Replays a pod list against a node list with one scheduling policy, by the FGD paper's method:
// the pods sorted by name and shuffled with the seed; the workload inflated by cloning randomly
// chosen pods until its GPU demand reaches `tune` x the cluster's GPUs; pods arrive one at a time
// and never leave; score ties go to the first node in a seeded random order of the nodes; after
// each pod, the arrived and allocated GPU milli are recorded, and the allocation curve is the mean
// allocation at each whole percent of arrived demand.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/scheduler/cluster.h"

namespace meridian::sim {

struct ScheduleSimulationOptions {
  std::string policy = "fgd";
  uint64_t seed = 42;
  double tune = 1.3;  // arrived GPU demand at the end, as a share of the cluster's GPUs
  int max_pods = 0;   // stop after this many arrivals (0: all), for throughput runs
};

struct ScheduleSimulationResult {
  std::string policy;
  uint64_t seed = 0;
  int64_t cluster_gpu_milli = 0;
  // allocation_percent[k]: mean GPU allocation (% of the cluster's GPUs) while the arrived GPU
  // demand rounded to k %; negative where no pod arrival fell on k.
  std::vector<double> allocation_percent;
  int pods = 0;
  int pods_placed = 0;
  double scheduling_seconds = 0;  // wall time spent placing the pods

  double final_allocation_percent() const;
  double decisions_per_second() const { return scheduling_seconds > 0 ? pods / scheduling_seconds : 0; }
};

// The workload as the method arrives it: shuffled, then inflated (or pruned) to `tune`.
std::vector<scheduler::PodSpec> ArrivalOrder(const std::vector<scheduler::PodSpec>& workload, int64_t cluster_gpu_milli,
                                             double tune, uint64_t seed);

absl::StatusOr<ScheduleSimulationResult> SimulateSchedule(const std::vector<scheduler::NodeSpec>& nodes,
                                                          const std::vector<scheduler::PodSpec>& workload,
                                                          const ScheduleSimulationOptions& options);

}  // namespace meridian::sim
