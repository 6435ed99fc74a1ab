#include "control/scheduler/fair_share.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"

namespace meridian::scheduler {
namespace {

std::array<int64_t, 3> AsArray(const ResourceAmounts& r) { return {r.cpu_milli, r.memory_bytes, r.gpu_milli}; }
ResourceAmounts Demand(const PodSpec& pod) { return {pod.cpu_milli, pod.memory_bytes, pod.total_gpu_milli()}; }
ResourceAmounts Plus(ResourceAmounts a, const ResourceAmounts& b) {
  a.cpu_milli += b.cpu_milli;
  a.memory_bytes += b.memory_bytes;
  a.gpu_milli += b.gpu_milli;
  return a;
}
constexpr const char* kResourceNames[] = {"cpu", "memory", "nvidia.com/gpu"};

}  // namespace

FairShare::FairShare(ResourceAmounts capacity, std::vector<Team> teams) : capacity_(capacity) {
  for (Team& team : teams) {
    if (team.weight <= 0) team.weight = 1;
    teams_[team.namespace_name] = std::move(team);
  }
}

const Team* FairShare::TeamOf(const std::string& namespace_name) const {
  auto it = teams_.find(namespace_name);
  return it == teams_.end() ? nullptr : &it->second;
}

ResourceAmounts FairShare::UsedBy(const std::string& namespace_name) const {
  auto it = used_.find(namespace_name);
  return it == used_.end() ? ResourceAmounts{} : it->second;
}

double FairShare::DominantShare(const std::string& namespace_name) const {
  const auto used = AsArray(UsedBy(namespace_name));
  const auto capacity = AsArray(capacity_);
  double share = 0;
  for (size_t r = 0; r < used.size(); ++r) {
    if (capacity[r] > 0) share = std::max(share, static_cast<double>(used[r]) / static_cast<double>(capacity[r]));
  }
  const Team* team = TeamOf(namespace_name);
  return share / (team != nullptr ? team->weight : 1.0);
}

std::vector<PodSpec> FairShare::Order(const std::vector<PodSpec>& pending) const {
  // Per team, its pods by priority (stable: the given order within a priority).
  std::map<std::string, std::vector<PodSpec>> queues;
  for (const PodSpec& pod : pending) queues[pod.namespace_name].push_back(pod);
  for (auto& [ns, queue] : queues) {
    std::stable_sort(queue.begin(), queue.end(), [](const PodSpec& a, const PodSpec& b) { return a.priority > b.priority; });
  }
  FairShare projected = *this;  // progressive filling on a copy
  std::map<std::string, size_t> next;
  std::vector<PodSpec> order;
  while (order.size() < pending.size()) {
    const std::string* pick = nullptr;
    double lowest = 0;
    for (const auto& [ns, queue] : queues) {
      if (next[ns] >= queue.size()) continue;
      const double share = projected.DominantShare(ns);
      if (pick == nullptr || share < lowest) {
        pick = &ns;
        lowest = share;
      }
    }
    const PodSpec& pod = queues[*pick][next[*pick]++];
    projected.Charge(pod);
    order.push_back(pod);
  }
  return order;
}

FairShareDecision FairShare::Admit(const PodSpec& pod) const {
  const Team* team = TeamOf(pod.namespace_name);
  const auto after = AsArray(Plus(UsedBy(pod.namespace_name), Demand(pod)));
  const auto nominal = AsArray(team != nullptr ? team->nominal : ResourceAmounts{});
  bool within = true;
  for (size_t r = 0; r < after.size(); ++r) within = within && after[r] <= nominal[r];
  if (within) return {FairShareAdmission::kWithinNominal, "within the team's nominal share"};
  // Lendable to this team: the capacity less its own nominal share and less what every other
  // team (with or without a nominal share) uses now. Others' idle nominal share is lent, and
  // reclaimed when they need it.
  std::array<int64_t, 3> unused = AsArray(capacity_);
  for (size_t r = 0; r < unused.size(); ++r) unused[r] -= nominal[r];
  for (const auto& [ns, used] : used_) {
    if (ns == pod.namespace_name) continue;
    const auto u = AsArray(used);
    for (size_t r = 0; r < unused.size(); ++r) unused[r] -= u[r];
  }
  for (size_t r = 0; r < after.size(); ++r) {
    const int64_t beyond_nominal = std::max<int64_t>(0, after[r] - nominal[r]);
    if (beyond_nominal > unused[r]) {
      return {FairShareAdmission::kWait,
              absl::StrCat("team ", pod.namespace_name, " is over its nominal ", kResourceNames[r],
                           " and no other team has that much unused to lend")};
    }
  }
  return {FairShareAdmission::kBorrowing, "borrowing unused share of other teams"};
}

bool FairShare::IsBorrowing(const std::string& namespace_name) const {
  const Team* team = TeamOf(namespace_name);
  const auto used = AsArray(UsedBy(namespace_name));
  const auto nominal = AsArray(team != nullptr ? team->nominal : ResourceAmounts{});
  for (size_t r = 0; r < used.size(); ++r) {
    if (used[r] > nominal[r]) return true;
  }
  return false;
}

VictimFilter FairShare::ReclaimFrom(const PodSpec& pod) const {
  if (Admit(pod).admission != FairShareAdmission::kWithinNominal) {
    return [](const BoundPod&) { return false; };
  }
  std::vector<std::string> borrowers;
  for (const auto& [ns, used] : used_) {
    if (ns != pod.namespace_name && IsBorrowing(ns)) borrowers.push_back(ns);
  }
  return [borrowers](const BoundPod& victim) {
    return std::find(borrowers.begin(), borrowers.end(), victim.spec.namespace_name) != borrowers.end();
  };
}

void FairShare::Charge(const PodSpec& pod) {
  used_[pod.namespace_name] = Plus(UsedBy(pod.namespace_name), Demand(pod));
}

void FairShare::Release(const PodSpec& pod) {
  ResourceAmounts& used = used_[pod.namespace_name];
  const ResourceAmounts d = Demand(pod);
  used.cpu_milli -= d.cpu_milli;
  used.memory_bytes -= d.memory_bytes;
  used.gpu_milli -= d.gpu_milli;
}

}  // namespace meridian::scheduler
