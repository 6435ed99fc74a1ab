// Scheduling decisions per second (Schedule + Bind of one pod) on the Alibaba trace's cluster and
// on a synthetic 15,000-node cluster drawn from its node shapes, for FGD and best-fit. Pods come
// from the default workload in the method's arrival order; when the cluster is full, it is
// emptied (outside the timing) and the arrivals start over, so every decision is a real one.
//
//   build/release/bench/scheduler_bench [--benchmark_min_time=2]
// Needs ../shared/data/alibaba-gpu-2023 beside the repository.

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "control/scheduler/scheduler.h"
#include "control/scheduler/score_policy.h"
#include "sim/cluster_trace.h"
#include "sim/schedule_simulator.h"

namespace meridian {
namespace {

const std::string kTrace = std::string(SOURCE_DIR) + "/../shared/data/alibaba-gpu-2023";

struct Trace {
  std::vector<scheduler::NodeSpec> nodes;
  std::vector<scheduler::PodSpec> workload;
};

const Trace& LoadTrace() {
  static const Trace* trace = [] {
    auto* t = new Trace;
    auto nodes = sim::ParseNodeList(*sim::ReadTextFile(kTrace + "/openb_node_list_all_node.csv"), "nodes");
    auto pods = sim::ParsePodList(*sim::ReadTextFile(kTrace + "/openb_pod_list_default.csv"), "pods");
    if (!nodes.ok() || !pods.ok()) return t;
    t->nodes = *std::move(nodes);
    t->workload = *std::move(pods);
    return t;
  }();
  return *trace;
}

void BM_Decision(benchmark::State& state, const std::string& policy_name, int synthetic_nodes) {
  const Trace& trace = LoadTrace();
  if (trace.nodes.empty()) {
    state.SkipWithError(("no trace at " + kTrace).c_str());
    return;
  }
  const std::vector<scheduler::NodeSpec> nodes =
      synthetic_nodes > 0 ? sim::SyntheticCluster(trace.nodes, synthetic_nodes, 1) : trace.nodes;
  int64_t gpu_milli = 0;
  for (const auto& n : nodes) gpu_milli += int64_t{n.gpu_count} * scheduler::kMilliPerGpu;
  std::vector<scheduler::PodSpec> pods = sim::ArrivalOrder(trace.workload, gpu_milli, 1.3, 42);
  for (size_t i = 0; i < pods.size(); ++i) pods[i].name += "#" + std::to_string(i);
  auto make = [&] {
    return std::make_unique<scheduler::Scheduler>(
        nodes, *scheduler::MakeScorePolicy(policy_name, {.workload = trace.workload}));
  };
  auto scheduler = make();
  size_t next = 0;
  int64_t placed = 0;
  for (auto _ : state) {
    if (next == pods.size()) {
      state.PauseTiming();
      scheduler = make();
      next = 0;
      state.ResumeTiming();
    }
    placed += scheduler->Place(pods[next++]).scheduled ? 1 : 0;
  }
  state.counters["decisions/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["placed"] = static_cast<double>(placed) / static_cast<double>(state.iterations());
  state.counters["nodes"] = static_cast<double>(nodes.size());
}

BENCHMARK_CAPTURE(BM_Decision, fgd_trace_1523, std::string("fgd"), 0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Decision, best_fit_trace_1523, std::string("best-fit"), 0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Decision, fgd_synthetic_15000, std::string("fgd"), 15000)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Decision, best_fit_synthetic_15000, std::string("best-fit"), 15000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace meridian

BENCHMARK_MAIN();
