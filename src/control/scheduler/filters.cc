#include "control/scheduler/filters.h"

#include <algorithm>
#include <cstdlib>

namespace meridian::scheduler {

const char* UnfitMessage(Unfit reason) {
  switch (reason) {
    case Unfit::kNone: return "fits";
    case Unfit::kGpuModel: return "node(s) had no GPU of an accepted model";
    case Unfit::kNodeSelector: return "node(s) didn't match Pod's node selector";
    case Unfit::kNodeAffinity: return "node(s) didn't match Pod's node affinity";
    case Unfit::kTaint: return "node(s) had untolerated taint";
    case Unfit::kCpu: return "Insufficient cpu";
    case Unfit::kMemory: return "Insufficient memory";
    case Unfit::kGpu: return "Insufficient nvidia.com/gpu";
  }
  return "unknown";
}

bool IsResourceShortage(Unfit reason) {
  return reason == Unfit::kCpu || reason == Unfit::kMemory || reason == Unfit::kGpu;
}

bool AcceptsGpuModel(const PodSpec& pod, const std::string& model) {
  if (pod.accepted_gpu_models.empty()) return true;
  return std::find(pod.accepted_gpu_models.begin(), pod.accepted_gpu_models.end(), model) !=
         pod.accepted_gpu_models.end();
}

bool MatchesNodeSelector(const PodSpec& pod, const NodeSpec& node) {
  for (const auto& [key, value] : pod.node_selector) {
    auto it = node.labels.find(key);
    if (it == node.labels.end() || it->second != value) return false;
  }
  return true;
}

namespace {

bool ParseInteger(const std::string& text, long long& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtoll(text.c_str(), &end, 10);
  return end != nullptr && *end == '\0';
}

bool Matches(const NodeSelectorRequirement& r, const NodeSpec& node) {
  using Op = NodeSelectorRequirement::Operator;
  auto it = node.labels.find(r.key);
  const bool has = it != node.labels.end();
  auto listed = [&] { return has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end(); };
  switch (r.op) {
    case Op::kIn: return listed();
    case Op::kNotIn: return !listed();
    case Op::kExists: return has;
    case Op::kDoesNotExist: return !has;
    case Op::kGt:
    case Op::kLt: {
      long long label = 0, bound = 0;
      if (!has || r.values.size() != 1 || !ParseInteger(it->second, label) || !ParseInteger(r.values[0], bound)) {
        return false;
      }
      return r.op == Op::kGt ? label > bound : label < bound;
    }
  }
  return false;
}

bool Tolerates(const Toleration& t, const Taint& taint) {
  if (!t.any_effect && t.effect != taint.effect) return false;
  if (t.key.empty()) return t.op == Toleration::Operator::kExists;  // tolerates every key
  if (t.key != taint.key) return false;
  return t.op == Toleration::Operator::kExists || t.value == taint.value;
}

}  // namespace

bool MatchesRequiredAffinity(const PodSpec& pod, const NodeSpec& node) {
  if (pod.required_node_affinity.empty()) return true;
  for (const NodeSelectorTerm& term : pod.required_node_affinity) {
    // An empty term matches no node, as in Kubernetes.
    if (term.match_expressions.empty()) continue;
    if (std::all_of(term.match_expressions.begin(), term.match_expressions.end(),
                    [&](const NodeSelectorRequirement& r) { return Matches(r, node); })) {
      return true;
    }
  }
  return false;
}

bool ToleratesTaints(const PodSpec& pod, const NodeSpec& node) {
  for (const Taint& taint : node.taints) {
    // PreferNoSchedule is a preference for scoring, never a reason to reject.
    if (taint.effect == TaintEffect::kPreferNoSchedule) continue;
    if (std::none_of(pod.tolerations.begin(), pod.tolerations.end(),
                     [&](const Toleration& t) { return Tolerates(t, taint); })) {
      return false;
    }
  }
  return true;
}

Unfit CheckStatic(const PodSpec& pod, const NodeSpec& node) {
  if (pod.wants_gpu() && node.gpu_count > 0 && !AcceptsGpuModel(pod, node.gpu_model)) return Unfit::kGpuModel;
  if (!pod.node_selector.empty() && !MatchesNodeSelector(pod, node)) return Unfit::kNodeSelector;
  if (!MatchesRequiredAffinity(pod, node)) return Unfit::kNodeAffinity;
  if (!node.taints.empty() && !ToleratesTaints(pod, node)) return Unfit::kTaint;
  return Unfit::kNone;
}

bool GpusFit(const PodSpec& pod, const std::vector<int32_t>& gpu_free_milli) {
  if (!pod.wants_gpu()) return true;
  int32_t fitting = 0;
  for (int32_t free : gpu_free_milli) {
    if (free >= pod.gpu_milli && ++fitting >= pod.gpu_count) return true;
  }
  return false;
}

Unfit CheckResources(const PodSpec& pod, const NodeState& node) {
  if (node.cpu_free < pod.cpu_milli) return Unfit::kCpu;
  if (node.memory_free < pod.memory_bytes) return Unfit::kMemory;
  if (!GpusFit(pod, node.gpu_free_milli)) return Unfit::kGpu;
  return Unfit::kNone;
}

}  // namespace meridian::scheduler
