// ModelDeploymentToJson: the canonical form of a spec (model_deployment_parser.h).

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/json.h"
#include "deploy/model_deployment_parser.h"

namespace meridian::deploy {
namespace {

// Appends "key":value pairs to an object under construction, commas included.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  void Raw(absl::string_view key, absl::string_view json) {
    if (!first_) out_->push_back(',');
    first_ = false;
    AppendJsonQuoted(out_, key);
    out_->push_back(':');
    out_->append(json.data(), json.size());
  }
  void String(absl::string_view key, absl::string_view value) { Raw(key, JsonQuote(value)); }
  void Number(absl::string_view key, double value) { Raw(key, absl::StrCat(value)); }
  void Duration(absl::string_view key, absl::Duration d) { String(key, absl::FormatDuration(d)); }
  void Bool(absl::string_view key, bool value) { Raw(key, value ? "true" : "false"); }
  void End() { out_->push_back('}'); }

 private:
  std::string* out_;
  bool first_ = true;
};

std::string StringMapJson(const std::map<std::string, std::string>& map) {
  std::string out;
  ObjectWriter w(&out);
  for (const auto& [k, v] : map) w.String(k, v);
  w.End();
  return out;
}

std::string Milli(int64_t milli) {
  return milli % 1000 == 0 ? absl::StrCat(milli / 1000) : absl::StrCat(milli, "m");
}

std::string Bytes(int64_t bytes) {
  for (auto [suffix, shift] : {std::pair{"Gi", 30}, {"Mi", 20}, {"Ki", 10}}) {
    if (bytes != 0 && bytes % (int64_t{1} << shift) == 0) return absl::StrCat(bytes >> shift, suffix);
  }
  return absl::StrCat(bytes);
}

std::string ResourcesJson(const ResourceAmounts& r) {
  std::string out;
  ObjectWriter w(&out);
  if (r.cpu_milli > 0) w.String("cpu", Milli(r.cpu_milli));
  if (r.memory_bytes > 0) w.String("memory", Bytes(r.memory_bytes));
  if (r.gpu_milli > 0) w.String("nvidia.com/gpu", Milli(r.gpu_milli));
  w.End();
  return out;
}

std::string ScalingJson(const control::ScalingRules& rules) {
  std::string out;
  ObjectWriter w(&out);
  w.Duration("stabilizationWindow", rules.stabilization_window);
  w.String("selectPolicy", rules.select == control::SelectPolicy::kMax   ? "Max"
                           : rules.select == control::SelectPolicy::kMin ? "Min"
                                                                         : "Disabled");
  std::string policies = "[";
  for (const control::ScalingPolicy& p : rules.policies) {
    if (policies.size() > 1) policies += ",";
    ObjectWriter pw(&policies);
    pw.String("type", p.type == control::ScalingPolicy::Type::kPods ? "Pods" : "Percent");
    pw.Number("value", p.value);
    pw.Duration("period", p.period);
    pw.End();
  }
  w.Raw("policies", policies + "]");
  w.End();
  return out;
}

const char* EffectName(scheduler::TaintEffect e) {
  switch (e) {
    case scheduler::TaintEffect::kNoSchedule: return "NoSchedule";
    case scheduler::TaintEffect::kPreferNoSchedule: return "PreferNoSchedule";
    case scheduler::TaintEffect::kNoExecute: return "NoExecute";
  }
  return "NoSchedule";
}

const char* OperatorName(scheduler::NodeSelectorRequirement::Operator op) {
  using Op = scheduler::NodeSelectorRequirement::Operator;
  switch (op) {
    case Op::kIn: return "In";
    case Op::kNotIn: return "NotIn";
    case Op::kExists: return "Exists";
    case Op::kDoesNotExist: return "DoesNotExist";
    case Op::kGt: return "Gt";
    case Op::kLt: return "Lt";
  }
  return "In";
}

std::string PlacementJson(const ModelDeploymentSpec& spec) {
  std::string out;
  ObjectWriter w(&out);
  w.Raw("nodeSelector", StringMapJson(spec.node_selector));
  std::string tolerations = "[";
  for (const scheduler::Toleration& t : spec.tolerations) {
    if (tolerations.size() > 1) tolerations += ",";
    ObjectWriter tw(&tolerations);
    tw.String("key", t.key);
    tw.String("operator", t.op == scheduler::Toleration::Operator::kExists ? "Exists" : "Equal");
    if (!t.value.empty()) tw.String("value", t.value);
    if (!t.any_effect) tw.String("effect", EffectName(t.effect));
    tw.End();
  }
  w.Raw("tolerations", tolerations + "]");
  if (!spec.required_node_affinity.empty()) {
    std::string terms = "[";
    for (const scheduler::NodeSelectorTerm& term : spec.required_node_affinity) {
      if (terms.size() > 1) terms += ",";
      std::string exprs = "[";
      for (const auto& req : term.match_expressions) {
        if (exprs.size() > 1) exprs += ",";
        ObjectWriter ew(&exprs);
        ew.String("key", req.key);
        ew.String("operator", OperatorName(req.op));
        std::string values = "[";
        for (const std::string& v : req.values) {
          if (values.size() > 1) values += ",";
          AppendJsonQuoted(&values, v);
        }
        ew.Raw("values", values + "]");
        ew.End();
      }
      terms += absl::StrCat("{\"matchExpressions\":", exprs, "]}");
    }
    w.Raw("affinity", absl::StrCat("{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":",
                                   "{\"nodeSelectorTerms\":", terms, "]}}}"));
  }
  w.End();
  return out;
}

}  // namespace

std::string ModelDeploymentSpecJson(const ModelDeploymentSpec& spec) {
  std::string out;
  ObjectWriter w(&out);
  w.String("model", spec.model);
  w.String("version", spec.version);
  w.Raw("replicas", absl::StrCat("{\"min\":", spec.min_replicas, ",\"max\":", spec.max_replicas, "}"));
  w.Raw("resources", absl::StrCat("{\"requests\":", ResourcesJson(spec.requests),
                                  ",\"limits\":", ResourcesJson(spec.limits), "}"));
  if (!spec.priority_class.empty()) w.String("priorityClassName", spec.priority_class);
  {
    std::string a;
    ObjectWriter aw(&a);
    std::string metrics = "[";
    for (const AutoscalingMetric& m : spec.autoscaling.metrics) {
      if (metrics.size() > 1) metrics += ",";
      ObjectWriter mw(&metrics);
      mw.String("type", m.type);
      mw.Number("target", m.target);
      mw.End();
    }
    aw.Raw("metrics", metrics + "]");
    aw.Number("tolerance", spec.autoscaling.tolerance);
    aw.Raw("scaleUp", ScalingJson(spec.autoscaling.scale_up));
    aw.Raw("scaleDown", ScalingJson(spec.autoscaling.scale_down));
    aw.Duration("interval", spec.autoscaling.interval);
    aw.End();
    w.Raw("autoscaling", a);
  }
  if (!spec.batching_json.empty()) w.Raw("batching", spec.batching_json);
  if (!spec.response_cache_json.empty()) w.Raw("responseCache", spec.response_cache_json);
  w.Raw("placement", PlacementJson(spec));
  w.Raw("strategy", absl::StrCat("{\"maxUnavailable\":", spec.strategy.max_unavailable,
                                 ",\"maxSurge\":", spec.strategy.max_surge, "}"));
  if (spec.canary) {
    std::string c;
    ObjectWriter cw(&c);
    cw.String("version", spec.canary->version);
    cw.Number("weight", spec.canary->weight);
    std::string steps = "[";
    for (const CanaryStep& step : spec.canary->steps) {
      if (steps.size() > 1) steps += ",";
      steps += absl::StrCat("{\"weight\":", step.weight, ",\"duration\":", JsonQuote(absl::FormatDuration(step.duration)), "}");
    }
    cw.Raw("steps", steps + "]");
    std::string a;
    ObjectWriter aw(&a);
    aw.Number("maxErrorRate", spec.canary->analysis.max_error_rate);
    if (spec.canary->analysis.max_latency_p95 > absl::ZeroDuration()) {
      aw.Duration("maxLatencyP95", spec.canary->analysis.max_latency_p95);
    }
    if (spec.canary->analysis.max_latency_ratio > 0) aw.Number("maxLatencyRatio", spec.canary->analysis.max_latency_ratio);
    aw.Number("minRequests", static_cast<double>(spec.canary->analysis.min_requests));
    aw.End();
    cw.Raw("analysis", a);
    cw.End();
    w.Raw("canary", c);
  }
  if (spec.shadow) {
    w.Raw("shadow", absl::StrCat("{\"version\":", JsonQuote(spec.shadow->version), ",\"percent\":", spec.shadow->percent, "}"));
  }
  w.End();
  return out;
}

std::string ModelDeploymentToJson(const ModelDeploymentSpec& spec) {
  std::string out;
  ObjectWriter w(&out);
  w.String("apiVersion", kApiVersion);
  w.String("kind", kKind);
  std::string metadata;
  ObjectWriter mw(&metadata);
  mw.String("name", spec.name);
  mw.String("namespace", spec.namespace_name);
  if (!spec.labels.empty()) mw.Raw("labels", StringMapJson(spec.labels));
  mw.End();
  w.Raw("metadata", metadata);
  w.Raw("spec", ModelDeploymentSpecJson(spec));
  w.End();
  return out;
}

}  // namespace meridian::deploy
