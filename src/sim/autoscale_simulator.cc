#include "sim/autoscale_simulator.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <queue>
#include <random>

#include "control/autoscaler/hpa.h"
#include "control/autoscaler/kpa.h"
#include "control/autoscaler/slo_policy.h"
#include "control/autoscaler/step_policy.h"

namespace meridian::sim {
namespace {

struct Replica {
  double ready_at = 0;  // seconds
  std::vector<int> slots;
};

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  const size_t k = std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(k), values.end());
  return values[k];
}

// The decision step of each policy, with the state it keeps between ticks.
class PolicyRunner {
 public:
  PolicyRunner(AutoscalePolicy policy, const SimulationOptions& o) : policy_(policy), o_(o) {}

  // How often the policy decides.
  int tick_seconds() const { return policy_ == AutoscalePolicy::kKpa ? 2 : policy_ == AutoscalePolicy::kSlo ? 5 : 15; }

  struct Window {
    double arrival_rate = 0;
    double utilization = 0;        // busy slot-seconds / ready slot-seconds
    double concurrency = 0;        // average requests in the system (Little's law)
    double mean_service_s = 0;
    double service_p95_s = 0;
    int waiting = 0;               // requests with no replica to go to
    double backlog = 0;            // requests queued behind busy slots now
  };

  int Decide(int current, int ready, const Window& w, absl::Time now) {
    using namespace control;
    switch (policy_) {
      case AutoscalePolicy::kHpa: {
        HpaSpec spec{.min_replicas = o_.min_replicas, .max_replicas = o_.max_replicas};
        MetricObservation cpu{.metric = "cpu", .target = o_.hpa_target_utilization * 100};
        for (int i = 0; i < current; ++i) {
          cpu.pods.push_back(PodSample{.pod = std::to_string(i), .ready = i < ready,
                                       .value = i < ready ? std::optional<double>(w.utilization * 100) : std::nullopt});
        }
        auto d = DecideReplicas(spec, current, {cpu}, hpa_, now);
        hpa_ = d.state;
        return d.desired_replicas;
      }
      case AutoscalePolicy::kKpa: {
        KpaSpec spec{.target_concurrency = o_.kpa_target_utilization * o_.slots_per_replica,
                     .min_replicas = 0, .max_replicas = o_.max_replicas};
        auto d = DecideKpa(spec, ready, w.concurrency, w.waiting, kpa_, now);
        kpa_ = d.state;
        return std::max(d.desired_replicas, o_.min_replicas);
      }
      case AutoscalePolicy::kSlo: {
        SloSpec spec{.latency_target = o_.latency_objective, .percentile = o_.objective_percentile,
                     .slots_per_replica = o_.slots_per_replica, .burst_headroom = o_.slo_burst_headroom,
                     .min_replicas = o_.min_replicas, .max_replicas = o_.max_replicas};
        SloObservation obs{.arrival_rate = w.arrival_rate,
                           .mean_service_time = absl::Seconds(w.mean_service_s > 0 ? w.mean_service_s
                                                                                   : absl::ToDoubleSeconds(o_.mean_service_time)),
                           .service_time_percentile = absl::Seconds(w.service_p95_s),
                           .backlog = w.backlog};
        const int wanted = DecideSlo(spec, obs).desired_replicas;
        // Up at once; down only to the highest recommendation of the scale-down window, so that
        // noise (or a burst that recurs) does not remove capacity the next window needs.
        recent_.push_back({now, wanted});
        while (!recent_.empty() && recent_.front().first <= now - o_.slo_scale_down_window) recent_.pop_front();
        int floor = wanted;
        for (const auto& r : recent_) floor = std::max(floor, r.second);
        return wanted >= current ? wanted : floor;
      }
      case AutoscalePolicy::kStep: {
        StepPolicySpec spec;  // the seed: 60 s checks, +2 above 80 %, -1 below 30 %, 2..20
        auto d = DecideStep(spec, current, w.utilization, step_last_, now);
        step_last_ = d.last_check;
        return d.desired_replicas;
      }
    }
    return current;
  }

 private:
  AutoscalePolicy policy_;
  SimulationOptions o_;
  control::HpaState hpa_;
  control::KpaState kpa_;
  std::deque<std::pair<absl::Time, int>> recent_;
  std::optional<absl::Time> step_last_;
};

}  // namespace

const char* PolicyName(AutoscalePolicy policy) {
  switch (policy) {
    case AutoscalePolicy::kHpa:
      return "hpa";
    case AutoscalePolicy::kKpa:
      return "kpa";
    case AutoscalePolicy::kSlo:
      return "slo";
    case AutoscalePolicy::kStep:
      return "step";
  }
  return "?";
}

SimulationResult Simulate(const LoadTrace& trace, AutoscalePolicy policy, const SimulationOptions& o) {
  SimulationResult result{.policy = PolicyName(policy), .trace = trace.name};
  std::mt19937_64 rng(o.seed);
  const double mean_s = absl::ToDoubleSeconds(o.mean_service_time);
  const double sigma = std::sqrt(std::log(1 + o.service_time_cv * o.service_time_cv));
  std::lognormal_distribution<double> service(std::log(mean_s) - sigma * sigma / 2, sigma);
  std::uniform_real_distribution<double> uniform(0, 1);

  std::vector<double> slot_free;   // per slot: when it can take the next request
  std::vector<bool> slot_removed;
  using Entry = std::pair<double, int>;  // (free at, slot)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> free_slots;
  std::vector<Replica> replicas;
  auto add_replica = [&](double ready_at) {
    Replica r{.ready_at = ready_at};
    for (int i = 0; i < o.slots_per_replica; ++i) {
      r.slots.push_back(static_cast<int>(slot_free.size()));
      slot_free.push_back(ready_at);
      slot_removed.push_back(false);
      free_slots.push({ready_at, r.slots.back()});
    }
    replicas.push_back(std::move(r));
  };
  for (int i = 0; i < o.initial_replicas; ++i) add_replica(0);

  PolicyRunner runner(policy, o);
  std::vector<double> latencies;
  std::vector<double> waiting;  // arrivals with no replica at all, served when one exists
  int64_t within = 0;
  double window_busy = 0, window_latency = 0, window_arrivals = 0;
  std::vector<double> window_service;
  const absl::Time epoch = absl::FromUnixSeconds(1'800'000'000);

  auto serve = [&](double arrival, std::vector<double>& second_latencies) {
    while (!free_slots.empty() && slot_removed[free_slots.top().second]) free_slots.pop();
    if (free_slots.empty()) return false;
    auto [free_at, slot] = free_slots.top();
    free_slots.pop();
    const double s = service(rng);
    const double start = std::max(arrival, free_at);
    const double latency = start - arrival + s;
    slot_free[slot] = start + s;
    free_slots.push({start + s, slot});
    latencies.push_back(latency);
    second_latencies.push_back(latency);
    within += latency <= absl::ToDoubleSeconds(o.latency_objective);
    window_busy += s;
    window_latency += latency;
    window_service.push_back(s);
    return true;
  };

  const int seconds = static_cast<int>(trace.rps.size());
  for (int second = 0; second < seconds; ++second) {
    std::vector<double> second_latencies;
    // Those who waited for a first replica go first.
    std::vector<double> still_waiting;
    for (double arrival : waiting) {
      if (!serve(arrival, second_latencies)) still_waiting.push_back(arrival);
    }
    waiting.swap(still_waiting);
    std::poisson_distribution<int> arrivals(trace.rps[second]);
    const int n = trace.rps[second] > 0 ? arrivals(rng) : 0;
    std::vector<double> times(n);
    for (double& t : times) t = second + uniform(rng);
    std::sort(times.begin(), times.end());
    for (double t : times) {
      if (!serve(t, second_latencies)) waiting.push_back(t);
    }
    result.requests += n;
    window_arrivals += n;

    int ready = 0;
    for (const auto& r : replicas) ready += r.ready_at <= second + 1;
    result.replica_seconds += static_cast<double>(replicas.size());
    result.timeline.push_back({second, trace.rps[second], static_cast<int>(replicas.size()), ready,
                               Percentile(second_latencies, 0.95) * 1000});

    const int tick = runner.tick_seconds();
    if ((second + 1) % tick == 0) {
      PolicyRunner::Window w;
      w.arrival_rate = window_arrivals / tick;
      const double ready_slot_seconds = std::max(1, ready) * o.slots_per_replica * static_cast<double>(tick);
      w.utilization = std::min(window_busy / ready_slot_seconds, 5.0);
      w.concurrency = window_latency / tick;
      w.mean_service_s = window_service.empty() ? mean_s : window_busy / static_cast<double>(window_service.size());
      w.service_p95_s = window_service.empty() ? mean_s * 2 : Percentile(window_service, o.objective_percentile);
      w.waiting = static_cast<int>(waiting.size());
      // Queued work now: slot time promised beyond this instant, in requests.
      double promised = 0;
      for (size_t i = 0; i < slot_free.size(); ++i) {
        if (!slot_removed[i]) promised += std::max(0.0, slot_free[i] - (second + 1));
      }
      w.backlog = w.waiting + promised / mean_s;
      const int current = static_cast<int>(replicas.size());
      const int desired = std::clamp(runner.Decide(current, ready, w, epoch + absl::Seconds(second + 1)), 0,
                                     o.max_replicas);
      if (desired != current) ++result.scaling_actions;
      for (int i = current; i < desired; ++i) add_replica(second + 1 + absl::ToDoubleSeconds(o.startup_delay));
      // Remove the newest (still starting ones first); their queued work finishes, no new work lands.
      while (static_cast<int>(replicas.size()) > desired) {
        for (int slot : replicas.back().slots) slot_removed[slot] = true;
        replicas.pop_back();
      }
      window_busy = window_latency = window_arrivals = 0;
      window_service.clear();
    }
  }
  // Requests never served count as missing the objective with the remaining time as latency.
  for (double arrival : waiting) latencies.push_back(seconds - arrival);
  result.within_objective = result.requests == 0 ? 1.0 : static_cast<double>(within) / static_cast<double>(result.requests);
  result.p99_latency_ms = Percentile(latencies, 0.99) * 1000;
  return result;
}

}  // namespace meridian::sim
