// meridian sim autoscale: replay load traces against simulated replicas under each autoscaling
// policy and compare them.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "common/config.h"
#include "sim/autoscale_simulator.h"
#include "sim/timeline_plot.h"

namespace meridian::cli {
namespace {

struct AutoscaleFlags {
  std::vector<std::string> traces = {"step", "spike", "diurnal"};
  std::vector<std::string> policies = {"hpa", "kpa", "slo", "step"};
  std::string duration = "1h";
  std::string service_time = "20ms";
  std::string objective = "100ms";
  std::string startup = "10s";
  double base_rps = 50;
  double peak_rps = 400;
  uint64_t seed = 1;
  double hpa_target = 0.7;
  std::string slo_window = "60s";
  double slo_headroom = 1;
  std::string out;
};

absl::StatusOr<sim::LoadTrace> MakeTrace(const std::string& spec, int seconds, const AutoscaleFlags& f) {
  if (spec == "step") return sim::StepTrace(seconds, f.base_rps, f.peak_rps);
  if (spec == "spike") return sim::SpikeTrace(seconds, f.base_rps, f.seed);
  if (spec == "diurnal") return sim::DiurnalTrace(seconds, f.base_rps, f.peak_rps, f.seed);
  if (absl::StartsWith(spec, "csv:")) {
    const std::string path = spec.substr(4);
    std::ifstream in(path);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
    std::stringstream text;
    text << in.rdbuf();
    return sim::CsvTrace(text.str(), path);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown trace \"", spec, "\": use step, spike, diurnal or csv:FILE"));
}

absl::StatusOr<sim::AutoscalePolicy> ParsePolicy(const std::string& name) {
  for (auto p : {sim::AutoscalePolicy::kHpa, sim::AutoscalePolicy::kKpa, sim::AutoscalePolicy::kSlo,
                 sim::AutoscalePolicy::kStep}) {
    if (name == sim::PolicyName(p)) return p;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown policy \"", name, "\": use hpa, kpa, slo or step"));
}

absl::Status RunAutoscale(const AutoscaleFlags& f) {
  auto duration = ParseNonNegativeDuration(f.duration);
  auto service = ParseNonNegativeDuration(f.service_time);
  auto objective = ParseNonNegativeDuration(f.objective);
  auto startup = ParseNonNegativeDuration(f.startup);
  auto slo_window = ParseNonNegativeDuration(f.slo_window);
  for (const auto* d : {&duration, &service, &objective, &startup, &slo_window}) {
    if (!d->ok()) return d->status();
  }
  if (*duration < absl::Seconds(60) || *duration > absl::Hours(48)) {
    return absl::InvalidArgumentError("--duration must be between 1m and 48h");
  }
  if (*service <= absl::ZeroDuration()) return absl::InvalidArgumentError("--service-time must be positive");
  // Every request is simulated: keep the load to what a run can do in seconds.
  for (double rps : {f.base_rps, f.peak_rps}) {
    if (!(rps >= 0 && rps <= 100000)) {
      return absl::InvalidArgumentError("--base-rps and --peak-rps must be between 0 and 100000");
    }
  }
  if (f.hpa_target <= 0 || f.hpa_target > 1) return absl::InvalidArgumentError("--hpa-target must be in (0, 1]");
  if (!(f.slo_headroom >= 1 && f.slo_headroom <= 100)) {
    return absl::InvalidArgumentError("--slo-headroom must be between 1 and 100");
  }
  sim::SimulationOptions options{.mean_service_time = *service, .startup_delay = *startup,
                                 .latency_objective = *objective, .hpa_target_utilization = f.hpa_target,
                                 .slo_scale_down_window = *slo_window, .slo_burst_headroom = f.slo_headroom,
                                 .seed = f.seed};
  if (!f.out.empty()) std::filesystem::create_directories(f.out);
  std::cout << "| trace | policy | requests | within " << f.objective << " | p99 ms | replica-seconds | scaling actions |\n"
            << "|---|---|---|---|---|---|---|\n";
  for (const std::string& spec : f.traces) {
    auto trace = MakeTrace(spec, static_cast<int>(absl::ToInt64Seconds(*duration)), f);
    if (!trace.ok()) return trace.status();
    std::vector<sim::SimulationResult> results;
    for (const std::string& name : f.policies) {
      auto policy = ParsePolicy(name);
      if (!policy.ok()) return policy.status();
      sim::SimulationResult r = sim::Simulate(*trace, *policy, options);
      std::cout << absl::StrFormat("| %s | %s | %d | %.2f %% | %.0f | %.0f | %d |\n", r.trace, r.policy, r.requests,
                                   r.within_objective * 100, r.p99_latency_ms, r.replica_seconds, r.scaling_actions);
      if (!f.out.empty()) {
        const std::string path = absl::StrCat(f.out, "/", std::filesystem::path(r.trace).stem().string(), "-",
                                              r.policy, ".csv");
        std::ofstream csv(path);
        csv << "second,rps,replicas,ready_replicas,p95_latency_ms\n";
        for (const auto& s : r.timeline) {
          csv << absl::StrFormat("%d,%.1f,%d,%d,%.1f\n", s.second, s.rps, s.replicas, s.ready_replicas, s.p95_latency_ms);
        }
        if (!csv) return absl::InternalError(absl::StrCat("cannot write ", path));
      }
      results.push_back(std::move(r));
    }
    if (!f.out.empty()) {
      const std::string png =
          absl::StrCat(f.out, "/", std::filesystem::path(trace->name).stem().string(), ".png");
      if (absl::Status s = sim::WriteTimelinePng(png, results, *objective); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

void AddSimCommand(CLI::App& app, int& exit_code) {
  CLI::App* sim = app.add_subcommand("sim", "Simulators: replay traces through the control-plane policies");
  sim->require_subcommand(1, 1);
  AddSimScheduleCommand(*sim, exit_code);
  auto f = std::make_shared<AutoscaleFlags>();
  CLI::App* c = sim->add_subcommand("autoscale", "Compare autoscaling policies (hpa, kpa, slo, step) on load traces");
  c->add_option("--trace", f->traces, "step, spike, diurnal or csv:FILE (second,rps rows); repeatable")
      ->capture_default_str();
  c->add_option("--policy", f->policies, "hpa, kpa, slo, step; repeatable")->capture_default_str();
  c->add_option("--duration", f->duration, "length of the generated traces")->capture_default_str();
  c->add_option("--service-time", f->service_time, "mean service time per request (log-normal, cv 0.5)")
      ->capture_default_str();
  c->add_option("--objective", f->objective, "latency objective per request")->capture_default_str();
  c->add_option("--startup", f->startup, "time a new replica takes to become ready")->capture_default_str();
  c->add_option("--base-rps", f->base_rps, "base load of the generated traces")->capture_default_str();
  c->add_option("--peak-rps", f->peak_rps, "peak load of the step and diurnal traces")->capture_default_str();
  c->add_option("--seed", f->seed, "random seed (arrivals, service times, spikes, noise)")->capture_default_str();
  c->add_option("--hpa-target", f->hpa_target, "HPA CPU utilization target in (0, 1]")->capture_default_str();
  c->add_option("--slo-headroom", f->slo_headroom,
                "SLO policy: plan capacity for this multiple of the measured arrival rate (burst reserve)")
      ->capture_default_str();
  c->add_option("--slo-window", f->slo_window,
                "SLO policy: scale down only to the highest recommendation within this window")
      ->capture_default_str();
  c->add_option("--out", f->out, "write a CSV timeline per trace and policy and a PNG plot per trace into this directory");
  c->callback([&exit_code, f] {
    absl::Status s = RunAutoscale(*f);
    if (!s.ok()) {
      std::cerr << "meridian: " << s.message() << "\n";
      exit_code = absl::IsInvalidArgument(s) ? kExitUsage : kExitFailure;
      return;
    }
    exit_code = kExitOk;
  });
}

}  // namespace meridian::cli
