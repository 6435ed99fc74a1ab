// meridian sim schedule: replay a cluster trace through the scheduler under each placement policy,
// over several seeds, and compare the GPU allocation curves (with the published ones if given).

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "control/scheduler/score_policy.h"
#include "sim/allocation_plot.h"
#include "sim/cluster_trace.h"
#include "sim/schedule_simulator.h"

namespace meridian::cli {
namespace {

struct ScheduleFlags {
  std::string nodes;
  std::vector<std::string> pods;
  std::vector<std::string> policies = scheduler::PolicyNames();
  std::string seeds = "42..51";
  double tune = 1.3;
  std::string expected;
  double max_diff = -1;
  int synthetic_nodes = 0;
  int max_pods = 0;
  int threads = 0;
  std::string out;
};

absl::StatusOr<std::vector<uint64_t>> ParseSeeds(const std::string& text) {
  std::vector<uint64_t> seeds;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::vector<absl::string_view> range = absl::StrSplit(part, "..");
    uint64_t first = 0, last = 0;
    if (range.size() > 2 || !absl::SimpleAtoi(range[0], &first) ||
        !absl::SimpleAtoi(range.size() == 2 ? range[1] : range[0], &last) || last < first || last - first > 1000) {
      return absl::InvalidArgumentError(absl::StrCat("--seeds \"", text, "\": expected N, N..M or a comma list"));
    }
    for (uint64_t s = first; s <= last; ++s) seeds.push_back(s);
  }
  if (seeds.empty()) return absl::InvalidArgumentError("--seeds is empty");
  return seeds;
}

// The published simulator's policy names.
std::string PolicyFromPublished(absl::string_view name) {
  static const std::map<std::string, std::string, std::less<>> kNames = {
      {"01-Random", "random"},     {"02-DotProd", "dot-product"}, {"03-GpuClustering", "gpu-clustering"},
      {"04-GpuPacking", "gpu-packing"}, {"05-BestFit", "best-fit"},    {"06-FGD", "fgd"}};
  auto it = kNames.find(name);
  return it == kNames.end() ? std::string(name) : it->second;
}

// expected[workload][policy] = per-seed curves.
using PublishedCurves = std::map<std::string, std::map<std::string, std::vector<std::vector<double>>>>;

absl::StatusOr<PublishedCurves> ReadPublished(const std::string& path) {
  auto text = sim::ReadTextFile(path);
  if (!text.ok()) return text.status();
  PublishedCurves curves;
  bool header = true;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipWhitespace())) {
    if (header) {
      header = false;
      continue;
    }
    std::vector<absl::string_view> cells = absl::StrSplit(line, ',');
    if (cells.size() < 6) return absl::InvalidArgumentError(absl::StrCat(path, ": short row \"", line, "\""));
    std::vector<double> curve;
    for (size_t i = 5; i < cells.size(); ++i) {
      double v = -1;
      if (!cells[i].empty() && !absl::SimpleAtod(cells[i], &v)) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": \"", cells[i], "\" is not a number"));
      }
      curve.push_back(v);
    }
    curves[std::string(cells[0])][PolicyFromPublished(cells[1])].push_back(std::move(curve));
  }
  return curves;
}

double Median(std::vector<double> values) {
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// The median over runs at each arrived percent.
std::vector<double> MedianCurve(const std::vector<std::vector<double>>& curves) {
  size_t length = 0;
  for (const auto& c : curves) length = std::max(length, c.size());
  std::vector<double> median(length, -1);
  for (size_t k = 0; k < length; ++k) {
    std::vector<double> at;
    for (const auto& c : curves) {
      if (k < c.size() && c[k] >= 0) at.push_back(c[k]);
    }
    if (!at.empty()) median[k] = Median(at);
  }
  return median;
}

// The curve at `tune` x 100 %, or at the last percent before it that has a record (a small
// cluster's demand moves in steps larger than 1 %); -1 when there is none.
double At(const std::vector<double>& curve, double tune) {
  const size_t k = static_cast<size_t>(std::lround(tune * 100));
  for (size_t i = std::min(k + 1, curve.size()); i-- > 0;) {
    if (curve[i] >= 0) return curve[i];
  }
  return -1;
}

absl::Status RunSchedule(const ScheduleFlags& f) {
  if (f.nodes.empty() || f.pods.empty()) return absl::InvalidArgumentError("--nodes and --pods are required");
  if (f.synthetic_nodes < 0 || f.synthetic_nodes > 1000000) {
    return absl::InvalidArgumentError("--synthetic-nodes must be between 0 and 1000000");
  }
  if (f.max_pods < 0) return absl::InvalidArgumentError("--max-pods must not be negative");
  if (f.threads < 0 || f.threads > 256) return absl::InvalidArgumentError("--threads must be between 0 and 256");
  auto seeds = ParseSeeds(f.seeds);
  if (!seeds.ok()) return seeds.status();
  for (const std::string& policy : f.policies) {
    if (auto made = scheduler::MakeScorePolicy(policy, {}); !made.ok()) return made.status();
  }
  auto node_text = sim::ReadTextFile(f.nodes);
  if (!node_text.ok()) return node_text.status();
  auto nodes = sim::ParseNodeList(*node_text, f.nodes);
  if (!nodes.ok()) return nodes.status();
  if (f.synthetic_nodes > 0) *nodes = sim::SyntheticCluster(*nodes, f.synthetic_nodes, 1);
  PublishedCurves published;
  if (!f.expected.empty()) {
    auto read = ReadPublished(f.expected);
    if (!read.ok()) return read.status();
    published = *std::move(read);
  }
  if (!f.out.empty()) std::filesystem::create_directories(f.out);

  std::cout << absl::StrFormat("| workload | policy | allocation at %.0f %% (median of %d seeds) | published | "
                               "difference (pp) | decisions/s |\n|---|---|---|---|---|---|\n",
                               f.tune * 100, seeds->size());
  double worst_difference = 0;
  for (const std::string& pod_file : f.pods) {
    auto pod_text = sim::ReadTextFile(pod_file);
    if (!pod_text.ok()) return pod_text.status();
    auto workload = sim::ParsePodList(*pod_text, pod_file);
    if (!workload.ok()) return workload.status();
    const std::string name = std::filesystem::path(pod_file).stem().string();

    // Every (policy, seed) run is independent: spread them over the cores.
    struct Job {
      std::string policy;
      uint64_t seed;
      absl::StatusOr<sim::ScheduleSimulationResult> result = absl::UnknownError("not run");
    };
    std::vector<Job> jobs;
    for (const auto& policy : f.policies) {
      for (uint64_t seed : *seeds) jobs.push_back({policy, seed});
    }
    std::atomic<size_t> next{0};
    const unsigned threads =
        f.threads > 0 ? static_cast<unsigned>(f.threads) : std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < std::min<size_t>(threads, jobs.size()); ++t) {
      workers.emplace_back([&] {
        for (size_t i = next++; i < jobs.size(); i = next++) {
          jobs[i].result = sim::SimulateSchedule(
              *nodes, *workload, {.policy = jobs[i].policy, .seed = jobs[i].seed, .tune = f.tune, .max_pods = f.max_pods});
        }
      });
    }
    for (auto& w : workers) w.join();

    std::vector<sim::AllocationSeries> series;
    std::vector<std::pair<std::string, std::vector<double>>> medians;
    for (const auto& policy : f.policies) {
      std::vector<std::vector<double>> curves;
      std::vector<double> rates;
      for (const Job& job : jobs) {
        if (job.policy != policy) continue;
        if (!job.result.ok()) return job.result.status();
        curves.push_back(job.result->allocation_percent);
        rates.push_back(job.result->decisions_per_second());
      }
      const std::vector<double> median = MedianCurve(curves);
      const double ours = At(median, f.tune);
      std::string published_cell = "-", difference_cell = "-";
      auto w = published.find(name);
      if (w != published.end() && w->second.count(policy) > 0) {
        const std::vector<double> theirs = MedianCurve(w->second.at(policy));
        const double at = At(theirs, f.tune);
        published_cell = absl::StrFormat("%.2f %%", at);
        if (ours >= 0) {
          difference_cell = absl::StrFormat("%+.2f", ours - at);
          worst_difference = std::max(worst_difference, std::abs(ours - at));
        }
        series.push_back({policy, theirs, true});
      }
      const std::string ours_cell = ours >= 0 ? absl::StrFormat("%.2f %%", ours) : "- (not reached)";
      std::cout << absl::StrFormat("| %s | %s | %s | %s | %s | %.0f |\n", name, policy, ours_cell, published_cell,
                                   difference_cell, Median(rates))
                << std::flush;
      series.push_back({policy, median, false});
      medians.emplace_back(policy, median);
    }
    if (!f.out.empty()) {
      const std::string csv_path = absl::StrCat(f.out, "/", name, "-allocation.csv");
      std::ofstream csv(csv_path);
      csv << "arrived_percent";
      for (const auto& [policy, curve] : medians) csv << "," << policy;
      csv << "\n";
      for (size_t k = 0; k <= static_cast<size_t>(std::lround(f.tune * 100)); ++k) {
        csv << k;
        for (const auto& [policy, curve] : medians) {
          csv << ",";
          if (k < curve.size() && curve[k] >= 0) csv << absl::StrFormat("%.2f", curve[k]);
        }
        csv << "\n";
      }
      if (!csv) return absl::InternalError(absl::StrCat("cannot write ", csv_path));
      if (absl::Status s = sim::WriteAllocationPng(absl::StrCat(f.out, "/", name, "-allocation.png"),
                                                   absl::StrCat("GPU allocation, ", name), series);
          !s.ok()) {
        return s;
      }
    }
  }
  if (f.max_diff >= 0 && worst_difference > f.max_diff) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "largest difference from the published medians is %.2f pp, above --max-diff %.2f", worst_difference, f.max_diff));
  }
  return absl::OkStatus();
}

}  // namespace

void AddSimScheduleCommand(CLI::App& sim, int& exit_code) {
  auto f = std::make_shared<ScheduleFlags>();
  CLI::App* c = sim.add_subcommand("schedule", "Replay a cluster trace through the scheduler under each policy");
  c->add_option("--nodes", f->nodes, "node list CSV (sn,cpu_milli,memory_mib,gpu,model)");
  c->add_option("--pods", f->pods, "pod list CSV (name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,...); repeatable");
  c->add_option("--policy", f->policies, "placement policies; repeatable")->capture_default_str();
  c->add_option("--seeds", f->seeds, "seeds: N, N..M or a comma list; curves are medians over them")
      ->capture_default_str();
  c->add_option("--tune", f->tune, "inflate the workload to this multiple of the cluster's GPUs")->capture_default_str();
  c->add_option("--expected", f->expected, "published curves CSV (workload,sc_policy,tune,seed,total_gpus,0..130)");
  c->add_option("--max-diff", f->max_diff, "fail when a median differs from the published one by more (pp)");
  c->add_option("--synthetic-nodes", f->synthetic_nodes, "replace the cluster by this many nodes drawn from its shapes");
  c->add_option("--max-pods", f->max_pods, "stop each run after this many pod arrivals (0: all)");
  c->add_option("--threads", f->threads, "parallel runs (default: the cores)");
  c->add_option("--out", f->out, "write per workload a CSV of the median curves and a PNG plot into this directory");
  c->callback([&exit_code, f] {
    absl::Status s = RunSchedule(*f);
    if (!s.ok()) {
      std::cerr << "meridian: " << s.message() << "\n";
      exit_code = absl::IsInvalidArgument(s) || absl::IsNotFound(s) ? kExitUsage : kExitFailure;
      return;
    }
    exit_code = kExitOk;
  });
}

}  // namespace meridian::cli
