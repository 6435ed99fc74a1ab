#include "deploy/model_deployment_parser.h"


#include <cmath>
#include <functional>
#include <initializer_list>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/json.h"
#include "deploy/yaml_document.h"
#include "common/quantity.h"
#include "common/semver_range.h"
#include "registry/names.h"
#include "serving/batching_config.h"
#include "serving/response_cache.h"

namespace meridian::deploy {
namespace {

using scheduler::NodeSelectorRequirement;
using scheduler::TaintEffect;
using scheduler::Toleration;

// Collects every problem with its field path, so that one apply shows them all.
class Errors {
 public:
  void Add(const std::string& path, absl::string_view what) { list_.push_back(absl::StrCat(path, ": ", what)); }
  bool empty() const { return list_.empty(); }
  absl::Status ToStatus() const {
    return absl::InvalidArgumentError(absl::StrCat("invalid ModelDeployment (", list_.size(),
                                                   list_.size() == 1 ? " error): " : " errors): ",
                                                   absl::StrJoin(list_, "; ")));
  }

 private:
  std::vector<std::string> list_;
};

// How much of a nested object (spec.batching, spec.responseCache) is converted: YAML aliases can
// make a small document name the same node exponentially often, and nesting can go deep.
constexpr int kMaxNestedNodes = 10000;
constexpr int kMaxNestedDepth = 16;

// A YAML node as JSON text; plain scalars that read as numbers, booleans or null stay so. False
// (and `out` incomplete) past the limits above.
bool AppendJson(const YAML::Node& node, std::string* out, int depth, int* budget) {
  if (--*budget < 0 || depth > kMaxNestedDepth) return false;
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      out->push_back('{');
      bool first = true;
      for (const auto& kv : node) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonQuoted(out, kv.first.Scalar());
        out->push_back(':');
        if (!AppendJson(kv.second, out, depth + 1, budget)) return false;
      }
      out->push_back('}');
      return true;
    }
    case YAML::NodeType::Sequence: {
      out->push_back('[');
      for (size_t i = 0; i < node.size(); ++i) {
        if (i > 0) out->push_back(',');
        if (!AppendJson(node[i], out, depth + 1, budget)) return false;
      }
      out->push_back(']');
      return true;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      double number = 0;
      if (node.Tag() != "!" && (s == "true" || s == "false" || s == "null")) {
        out->append(s);
      } else if (node.Tag() != "!" && !s.empty() && absl::SimpleAtod(s, &number) && std::isfinite(number) &&
                 s.find_first_not_of("0123456789+-.eE") == std::string::npos) {
        out->append(s);
      } else {
        AppendJsonQuoted(out, s);
      }
      return true;
    }
    default:
      out->append("null");
      return true;
  }
}

// The object at `path` as JSON, or an error for one too large or too deep.
std::optional<std::string> NestedJson(const YAML::Node& node, const std::string& path, Errors& errors) {
  std::string json;
  int budget = kMaxNestedNodes;
  if (!AppendJson(node, &json, 0, &budget)) {
    errors.Add(path, absl::StrCat("is too large or too deeply nested (at most ", kMaxNestedNodes, " values, ",
                                  kMaxNestedDepth, " levels)"));
    return std::nullopt;
  }
  return json;
}

class SpecReader {
 public:
  explicit SpecReader(Errors* errors) : errors_(errors) {}

  // Reports fields of `node` outside `allowed`.
  bool Map(const YAML::Node& node, const std::string& path, std::initializer_list<const char*> allowed) {
    if (!node.IsMap()) {
      errors_->Add(path, "must be an object");
      return false;
    }
    std::set<std::string> known(allowed.begin(), allowed.end());
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      if (!known.contains(key)) {
        errors_->Add(absl::StrCat(path, ".", key),
                     absl::StrCat("unknown field (", path, " has: ", absl::StrJoin(allowed, ", "), ")"));
      }
    }
    return true;
  }

  std::optional<std::string> String(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar()) {
      errors_->Add(path, "must be a string");
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<int64_t> Int(const YAML::Node& node, const std::string& path, int64_t min, int64_t max) {
    int64_t v = 0;
    if (!node.IsScalar() || !absl::SimpleAtoi(node.Scalar(), &v)) {
      errors_->Add(path, "must be an integer");
      return std::nullopt;
    }
    if (v < min || v > max) {
      errors_->Add(path, absl::StrCat("must be between ", min, " and ", max, " (is ", v, ")"));
      return std::nullopt;
    }
    return v;
  }

  std::optional<double> Number(const YAML::Node& node, const std::string& path, double min, double max) {
    double v = 0;
    if (!node.IsScalar() || !absl::SimpleAtod(node.Scalar(), &v) || !std::isfinite(v)) {
      errors_->Add(path, "must be a number");
      return std::nullopt;
    }
    if (v < min || v > max) {
      errors_->Add(path, absl::StrCat("must be between ", min, " and ", max, " (is ", v, ")"));
      return std::nullopt;
    }
    return v;
  }

  std::optional<absl::Duration> Duration(const YAML::Node& node, const std::string& path, bool allow_zero) {
    absl::Duration d;
    double seconds = 0;
    if (node.IsScalar() && absl::SimpleAtod(node.Scalar(), &seconds) && std::isfinite(seconds)) {
      d = absl::Seconds(seconds);
    } else if (!node.IsScalar() || !absl::ParseDuration(node.Scalar(), &d)) {
      errors_->Add(path, "must be a duration such as \"30s\", \"500ms\" or \"5m\"");
      return std::nullopt;
    }
    if (d < absl::ZeroDuration() || (!allow_zero && d == absl::ZeroDuration())) {
      errors_->Add(path, allow_zero ? "must not be negative" : "must be positive");
      return std::nullopt;
    }
    return d;
  }

  std::map<std::string, std::string> StringMap(const YAML::Node& node, const std::string& path) {
    std::map<std::string, std::string> out;
    if (!node.IsMap()) {
      errors_->Add(path, "must be an object of strings");
      return out;
    }
    for (const auto& kv : node) {
      if (!kv.second.IsScalar()) {
        errors_->Add(absl::StrCat(path, ".", kv.first.Scalar()), "must be a string");
        continue;
      }
      out[kv.first.Scalar()] = kv.second.Scalar();
    }
    return out;
  }

  // A version reference: SemVer, range, alias name or "latest".
  std::optional<std::string> VersionRef(const YAML::Node& node, const std::string& path) {
    std::optional<std::string> ref = String(node, path);
    if (!ref) return std::nullopt;
    if (ref->empty()) {
      errors_->Add(path, "must not be empty");
      return std::nullopt;
    }
    if (SemVer::Parse(*ref).ok() || *ref == "latest") return ref;
    if (SemVerRange::LooksLikeRange(*ref)) {
      if (absl::Status s = SemVerRange::Parse(*ref).status(); !s.ok()) {
        errors_->Add(path, s.message());
        return std::nullopt;
      }
      return ref;
    }
    if (absl::Status s = registry::ValidateAliasName(*ref); !s.ok()) {
      errors_->Add(path, absl::StrCat("is neither a version (1.2.0), a range (^1.2) nor an alias: ", s.message()));
      return std::nullopt;
    }
    return ref;
  }

  void Resources(const YAML::Node& node, const std::string& path, ResourceAmounts* out) {
    if (!Map(node, path, {"cpu", "memory", "nvidia.com/gpu"})) return;
    if (node["cpu"]) Quantity(node["cpu"], path + ".cpu", ParseMilliQuantity, &out->cpu_milli);
    if (node["memory"]) Quantity(node["memory"], path + ".memory", ParseByteQuantity, &out->memory_bytes);
    if (node["nvidia.com/gpu"]) {
      int64_t milli = 0;
      const std::string gpu_path = path + ".nvidia.com/gpu";
      if (Quantity(node["nvidia.com/gpu"], gpu_path, ParseMilliQuantity, &milli)) {
        if (milli > 1000 && milli % 1000 != 0) {
          errors_->Add(gpu_path, "must be a whole number of GPUs, or a share of one GPU below 1 (e.g. 0.5)");
        } else if (milli > 64000) {
          errors_->Add(gpu_path, "must be at most 64");
        } else {
          out->gpu_milli = static_cast<int32_t>(milli);
        }
      }
    }
  }

  void Canary(const YAML::Node& node, CanarySpec* out) {
    const std::string path = "spec.canary";
    if (!Map(node, path, {"version", "weight", "steps", "analysis"})) return;
    if (!node["version"]) {
      errors_->Add(path + ".version", "is required");
    } else if (auto v = VersionRef(node["version"], path + ".version")) {
      out->version = *v;
    }
    if (node["weight"]) {
      if (auto w = Int(node["weight"], path + ".weight", 0, 100)) out->weight = static_cast<int>(*w);
    }
    if (const YAML::Node steps = node["steps"]) {
      if (!steps.IsSequence()) errors_->Add(path + ".steps", "must be a list of {weight, duration}");
      for (size_t i = 0; steps.IsSequence() && i < steps.size(); ++i) {
        const std::string step_path = absl::StrCat(path, ".steps[", i, "]");
        CanaryStep step;
        if (!Map(steps[i], step_path, {"weight", "duration"})) continue;
        if (!steps[i]["weight"]) errors_->Add(step_path + ".weight", "is required");
        if (steps[i]["weight"]) {
          if (auto w = Int(steps[i]["weight"], step_path + ".weight", 1, 100)) step.weight = static_cast<int>(*w);
        }
        if (steps[i]["duration"]) {
          if (auto d = Duration(steps[i]["duration"], step_path + ".duration", false)) step.duration = *d;
        }
        out->steps.push_back(step);
      }
    }
    if (const YAML::Node a = node["analysis"]) {
      const std::string apath = path + ".analysis";
      if (Map(a, apath, {"maxErrorRate", "maxLatencyP95", "maxLatencyRatio", "minRequests"})) {
        if (a["maxErrorRate"]) {
          if (auto v = Number(a["maxErrorRate"], apath + ".maxErrorRate", 0, 1)) out->analysis.max_error_rate = *v;
        }
        if (a["maxLatencyP95"]) {
          if (auto v = Duration(a["maxLatencyP95"], apath + ".maxLatencyP95", true)) out->analysis.max_latency_p95 = *v;
        }
        if (a["maxLatencyRatio"]) {
          if (auto v = Number(a["maxLatencyRatio"], apath + ".maxLatencyRatio", 0, 1000)) {
            out->analysis.max_latency_ratio = *v;
          }
        }
        if (a["minRequests"]) {
          if (auto v = Int(a["minRequests"], apath + ".minRequests", 1, 1000000000)) out->analysis.min_requests = *v;
        }
      }
    }
  }

  void Scaling(const YAML::Node& node, const std::string& path, control::ScalingRules* rules) {
    if (!Map(node, path, {"stabilizationWindow", "selectPolicy", "policies"})) return;
    if (node["stabilizationWindow"]) {
      if (auto d = Duration(node["stabilizationWindow"], path + ".stabilizationWindow", true)) {
        rules->stabilization_window = *d;
      }
    }
    if (node["selectPolicy"]) {
      const std::string s = node["selectPolicy"].Scalar();
      if (s == "Max") rules->select = control::SelectPolicy::kMax;
      else if (s == "Min") rules->select = control::SelectPolicy::kMin;
      else if (s == "Disabled") rules->select = control::SelectPolicy::kDisabled;
      else errors_->Add(path + ".selectPolicy", "must be Max, Min or Disabled");
    }
    if (const YAML::Node policies = node["policies"]) {
      rules->policies.clear();
      if (!policies.IsSequence()) errors_->Add(path + ".policies", "must be a list of {type, value, period}");
      for (size_t i = 0; policies.IsSequence() && i < policies.size(); ++i) {
        const std::string ppath = absl::StrCat(path, ".policies[", i, "]");
        if (!Map(policies[i], ppath, {"type", "value", "period"})) continue;
        control::ScalingPolicy p;
        const std::string type = policies[i]["type"] ? policies[i]["type"].Scalar() : "";
        if (type == "Pods") p.type = control::ScalingPolicy::Type::kPods;
        else if (type == "Percent") p.type = control::ScalingPolicy::Type::kPercent;
        else errors_->Add(ppath + ".type", "must be Pods or Percent");
        if (!policies[i]["value"]) errors_->Add(ppath + ".value", "is required");
        else if (auto v = Int(policies[i]["value"], ppath + ".value", 1, 100000)) p.value = static_cast<int>(*v);
        p.period = absl::Seconds(15);
        if (policies[i]["period"]) {
          if (auto d = Duration(policies[i]["period"], ppath + ".period", false)) p.period = *d;
        }
        rules->policies.push_back(p);
      }
    }
  }

  void Autoscaling(const YAML::Node& node, AutoscalingSpec* out) {
    const std::string path = "spec.autoscaling";
    if (!Map(node, path, {"metrics", "tolerance", "scaleUp", "scaleDown", "interval"})) return;
    if (const YAML::Node metrics = node["metrics"]) {
      if (!metrics.IsSequence()) errors_->Add(path + ".metrics", "must be a list of {type, target}");
      for (size_t i = 0; metrics.IsSequence() && i < metrics.size(); ++i) {
        const std::string mpath = absl::StrCat(path, ".metrics[", i, "]");
        if (!Map(metrics[i], mpath, {"type", "target"})) continue;
        AutoscalingMetric m;
        m.type = metrics[i]["type"] ? metrics[i]["type"].Scalar() : "";
        if (m.type == "gpu") {
          // Refused rather than accepted and never measured: scaling on it would silently not happen.
          errors_->Add(mpath + ".type", "gpu utilization needs a GPU metrics source (NVML or DCGM), which this "
                                        "server does not have; use concurrency, cpu, memory or latency");
        } else if (m.type != "concurrency" && m.type != "cpu" && m.type != "memory" && m.type != "latency") {
          errors_->Add(mpath + ".type", "must be concurrency, cpu, memory or latency");
        }
        if (!metrics[i]["target"]) errors_->Add(mpath + ".target", "is required");
        else if (auto t = Number(metrics[i]["target"], mpath + ".target", 1e-9, 1e9)) m.target = *t;
        out->metrics.push_back(m);
      }
    }
    if (node["tolerance"]) {
      if (auto t = Number(node["tolerance"], path + ".tolerance", 0, 1)) out->tolerance = *t;
    }
    if (node["scaleUp"]) Scaling(node["scaleUp"], path + ".scaleUp", &out->scale_up);
    if (node["scaleDown"]) Scaling(node["scaleDown"], path + ".scaleDown", &out->scale_down);
    if (node["interval"]) {
      if (auto d = Duration(node["interval"], path + ".interval", false)) out->interval = *d;
    }
  }

  void Placement(const YAML::Node& node, ModelDeploymentSpec* out) {
    const std::string path = "spec.placement";
    if (!Map(node, path, {"nodeSelector", "tolerations", "affinity"})) return;
    if (node["nodeSelector"]) out->node_selector = StringMap(node["nodeSelector"], path + ".nodeSelector");
    if (const YAML::Node tolerations = node["tolerations"]) {
      if (!tolerations.IsSequence()) errors_->Add(path + ".tolerations", "must be a list");
      for (size_t i = 0; tolerations.IsSequence() && i < tolerations.size(); ++i) {
        const std::string tpath = absl::StrCat(path, ".tolerations[", i, "]");
        const YAML::Node t = tolerations[i];
        if (!Map(t, tpath, {"key", "operator", "value", "effect"})) continue;
        Toleration tol;
        if (t["key"]) tol.key = t["key"].Scalar();
        const std::string op = t["operator"] ? t["operator"].Scalar() : "Equal";
        if (op == "Exists") tol.op = Toleration::Operator::kExists;
        else if (op != "Equal") errors_->Add(tpath + ".operator", "must be Equal or Exists");
        if (t["value"]) tol.value = t["value"].Scalar();
        if (t["effect"] && !t["effect"].Scalar().empty()) {
          tol.any_effect = false;
          const std::string effect = t["effect"].Scalar();
          if (effect == "NoSchedule") tol.effect = TaintEffect::kNoSchedule;
          else if (effect == "PreferNoSchedule") tol.effect = TaintEffect::kPreferNoSchedule;
          else if (effect == "NoExecute") tol.effect = TaintEffect::kNoExecute;
          else errors_->Add(tpath + ".effect", "must be NoSchedule, PreferNoSchedule or NoExecute");
        }
        out->tolerations.push_back(tol);
      }
    }
    if (const YAML::Node affinity = node["affinity"]) {
      const std::string apath = path + ".affinity";
      if (!Map(affinity, apath, {"nodeAffinity"})) return;
      const YAML::Node na = affinity["nodeAffinity"];
      const std::string napath = apath + ".nodeAffinity";
      if (!na || !Map(na, napath, {"requiredDuringSchedulingIgnoredDuringExecution"})) return;
      const YAML::Node required = na["requiredDuringSchedulingIgnoredDuringExecution"];
      const std::string rpath = napath + ".requiredDuringSchedulingIgnoredDuringExecution";
      if (!required || !Map(required, rpath, {"nodeSelectorTerms"})) return;
      const YAML::Node terms = required["nodeSelectorTerms"];
      if (!terms || !terms.IsSequence()) {
        errors_->Add(rpath + ".nodeSelectorTerms", "must be a list of {matchExpressions}");
        return;
      }
      for (size_t i = 0; i < terms.size(); ++i) {
        const std::string term_path = absl::StrCat(rpath, ".nodeSelectorTerms[", i, "]");
        if (!Map(terms[i], term_path, {"matchExpressions"})) continue;
        scheduler::NodeSelectorTerm term;
        const YAML::Node exprs = terms[i]["matchExpressions"];
        for (size_t j = 0; exprs && exprs.IsSequence() && j < exprs.size(); ++j) {
          const std::string epath = absl::StrCat(term_path, ".matchExpressions[", j, "]");
          if (!Map(exprs[j], epath, {"key", "operator", "values"})) continue;
          NodeSelectorRequirement req;
          req.key = exprs[j]["key"] ? exprs[j]["key"].Scalar() : "";
          if (req.key.empty()) errors_->Add(epath + ".key", "is required");
          const std::string op = exprs[j]["operator"] ? exprs[j]["operator"].Scalar() : "";
          static const std::map<std::string, NodeSelectorRequirement::Operator> kOps = {
              {"In", NodeSelectorRequirement::Operator::kIn},         {"NotIn", NodeSelectorRequirement::Operator::kNotIn},
              {"Exists", NodeSelectorRequirement::Operator::kExists}, {"DoesNotExist", NodeSelectorRequirement::Operator::kDoesNotExist},
              {"Gt", NodeSelectorRequirement::Operator::kGt},         {"Lt", NodeSelectorRequirement::Operator::kLt}};
          if (auto it = kOps.find(op); it != kOps.end()) req.op = it->second;
          else errors_->Add(epath + ".operator", "must be In, NotIn, Exists, DoesNotExist, Gt or Lt");
          if (const YAML::Node values = exprs[j]["values"]) {
            for (const auto& v : values) req.values.push_back(v.Scalar());
          }
          term.match_expressions.push_back(req);
        }
        out->required_node_affinity.push_back(term);
      }
    }
  }

  void Replicas(const YAML::Node& node, ModelDeploymentSpec* out) {
    const std::string path = "spec.replicas";
    if (node.IsScalar()) {
      if (auto n = Int(node, path, 0, 1000)) out->min_replicas = out->max_replicas = static_cast<int>(*n);
      return;
    }
    if (!Map(node, path, {"min", "max"})) return;
    if (node["min"]) {
      if (auto n = Int(node["min"], path + ".min", 0, 1000)) out->min_replicas = static_cast<int>(*n);
    }
    out->max_replicas = out->min_replicas;
    if (node["max"]) {
      if (auto n = Int(node["max"], path + ".max", 0, 1000)) out->max_replicas = static_cast<int>(*n);
    }
    if (out->max_replicas < out->min_replicas) errors_->Add(path + ".max", "must be at least min");
  }

 private:
  bool Quantity(const YAML::Node& node, const std::string& path,
                const std::function<absl::StatusOr<int64_t>(absl::string_view)>& parse, int64_t* out) {
    if (!node.IsScalar()) {
      errors_->Add(path, "must be a quantity");
      return false;
    }
    absl::StatusOr<int64_t> v = parse(node.Scalar());
    if (!v.ok()) {
      errors_->Add(path, v.status().message());
      return false;
    }
    *out = *v;
    return true;
  }

  Errors* errors_;
};

void ParseSpec(const YAML::Node& spec, SpecReader& r, Errors& errors, ModelDeploymentSpec* out) {
  if (!r.Map(spec, "spec",
             {"model", "version", "replicas", "resources", "priorityClassName", "autoscaling", "batching",
              "placement", "strategy", "canary", "shadow", "responseCache"})) {
    return;
  }
  if (!spec["model"]) {
    errors.Add("spec.model", "is required");
  } else if (auto model = r.String(spec["model"], "spec.model")) {
    if (absl::Status s = registry::ValidateModelName(*model); !s.ok()) errors.Add("spec.model", s.message());
    out->model = *model;
  }
  if (spec["version"]) {
    if (auto v = r.VersionRef(spec["version"], "spec.version")) out->version = *v;
  }
  if (spec["replicas"]) r.Replicas(spec["replicas"], out);
  if (const YAML::Node res = spec["resources"]) {
    if (r.Map(res, "spec.resources", {"requests", "limits"})) {
      if (res["requests"]) r.Resources(res["requests"], "spec.resources.requests", &out->requests);
      if (res["limits"]) r.Resources(res["limits"], "spec.resources.limits", &out->limits);
      auto below = [&](int64_t limit, int64_t request, const char* name) {
        if (limit > 0 && request > limit) {
          errors.Add(absl::StrCat("spec.resources.requests.", name), "must not exceed the limit");
        }
      };
      below(out->limits.cpu_milli, out->requests.cpu_milli, "cpu");
      below(out->limits.memory_bytes, out->requests.memory_bytes, "memory");
    }
  }
  if (spec["priorityClassName"]) {
    if (auto p = r.String(spec["priorityClassName"], "spec.priorityClassName")) out->priority_class = *p;
  }
  if (spec["autoscaling"]) r.Autoscaling(spec["autoscaling"], &out->autoscaling);
  if (const YAML::Node batching = spec["batching"]) {
    if (!batching.IsMap()) {
      errors.Add("spec.batching", "must be an object");
    } else if (std::optional<std::string> json = NestedJson(batching, "spec.batching", errors)) {
      absl::StatusOr<serving::BatchingConfig> parsed =
          serving::BatchingFromMetadata(absl::StrCat("{\"batching\":", *json, "}"), serving::BatchingConfig{});
      if (!parsed.ok()) errors.Add("spec.batching", absl::StripPrefix(parsed.status().message(), "metadata "));
      else out->batching_json = *json;
    }
  }
  if (const YAML::Node cache = spec["responseCache"]) {
    if (!cache.IsMap()) {
      errors.Add("spec.responseCache", "must be an object");
    } else if (std::optional<std::string> json = NestedJson(cache, "spec.responseCache", errors)) {
      absl::StatusOr<serving::ResponseCacheSettings> parsed =
          serving::ResponseCacheFromMetadata(absl::StrCat("{\"responseCache\":", *json, "}"));
      if (!parsed.ok()) errors.Add("spec.responseCache", absl::StripPrefix(parsed.status().message(), "metadata "));
      else out->response_cache_json = *json;
    }
  }
  if (spec["placement"]) r.Placement(spec["placement"], out);
  if (const YAML::Node strategy = spec["strategy"]) {
    if (r.Map(strategy, "spec.strategy", {"maxUnavailable", "maxSurge"})) {
      if (strategy["maxUnavailable"]) {
        if (auto v = r.Int(strategy["maxUnavailable"], "spec.strategy.maxUnavailable", 0, 1000)) {
          out->strategy.max_unavailable = static_cast<int>(*v);
        }
      }
      if (strategy["maxSurge"]) {
        if (auto v = r.Int(strategy["maxSurge"], "spec.strategy.maxSurge", 0, 1000)) out->strategy.max_surge = static_cast<int>(*v);
      }
      if (out->strategy.max_unavailable == 0 && out->strategy.max_surge == 0) {
        errors.Add("spec.strategy", "maxUnavailable and maxSurge cannot both be 0 (an update could never progress)");
      }
    }
  }
  if (spec["canary"]) {
    out->canary.emplace();
    r.Canary(spec["canary"], &*out->canary);
  }
  if (const YAML::Node shadow = spec["shadow"]) {
    out->shadow.emplace();
    if (r.Map(shadow, "spec.shadow", {"version", "percent"})) {
      if (!shadow["version"]) errors.Add("spec.shadow.version", "is required");
      else if (auto v = r.VersionRef(shadow["version"], "spec.shadow.version")) out->shadow->version = *v;
      if (shadow["percent"]) {
        if (auto p = r.Number(shadow["percent"], "spec.shadow.percent", 0, 100)) out->shadow->percent = *p;
      }
    }
  }
  if (out->autoscaling.metrics.empty() && out->max_replicas > out->min_replicas) {
    errors.Add("spec.autoscaling.metrics", "are required when spec.replicas.max is above min");
  }
}

}  // namespace

absl::StatusOr<ModelDeploymentSpec> ParseModelDeployment(absl::string_view text, absl::string_view default_namespace) {
  absl::StatusOr<YAML::Node> parsed = ParseYamlDocument(text);
  if (!parsed.ok()) return parsed.status();
  const YAML::Node doc = *parsed;
  Errors errors;
  SpecReader r(&errors);
  ModelDeploymentSpec out;
  out.namespace_name = std::string(default_namespace);
  if (!r.Map(doc, "(document)", {"apiVersion", "kind", "metadata", "spec", "status"})) return errors.ToStatus();
  if (!doc["apiVersion"] || doc["apiVersion"].Scalar() != kApiVersion) {
    errors.Add("apiVersion", absl::StrCat("must be ", kApiVersion));
  }
  if (!doc["kind"] || doc["kind"].Scalar() != kKind) errors.Add("kind", absl::StrCat("must be ", kKind));
  const YAML::Node metadata = doc["metadata"];
  if (!metadata) {
    errors.Add("metadata.name", "is required");
  } else if (r.Map(metadata, "metadata", {"name", "namespace", "labels", "annotations"})) {
    if (!metadata["name"]) {
      errors.Add("metadata.name", "is required");
    } else if (auto name = r.String(metadata["name"], "metadata.name")) {
      if (absl::Status s = registry::ValidateDnsLabel("deployment name", *name); !s.ok()) {
        errors.Add("metadata.name", s.message());
      }
      out.name = *name;
    }
    if (metadata["namespace"]) {
      if (auto ns = r.String(metadata["namespace"], "metadata.namespace")) {
        if (absl::Status s = registry::ValidateDnsLabel("namespace", *ns); !s.ok()) {
          errors.Add("metadata.namespace", s.message());
        }
        out.namespace_name = *ns;
      }
    }
    if (metadata["labels"]) out.labels = r.StringMap(metadata["labels"], "metadata.labels");
  }
  if (!doc["spec"]) {
    errors.Add("spec", "is required");
  } else {
    ParseSpec(doc["spec"], r, errors, &out);
  }
  if (!errors.empty()) return errors.ToStatus();
  return out;
}

}  // namespace meridian::deploy
