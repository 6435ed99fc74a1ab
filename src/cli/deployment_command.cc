// meridian apply|get|describe|rollout|delete: deployments from the CLI, as kubectl spells them.

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/client_options.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "deploy/model_deployment_parser.h"
#include "deploy/resource_quota_spec.h"
#include "deploy/yaml_document.h"
#include "rapidjson/document.h"

namespace meridian::cli {
namespace {

using http::HttpMethod;

struct DeploymentOptions : ClientCommandOptions {
  std::string namespace_name = "default";
};

std::string DeploymentPath(const std::string& ns, const std::string& name = "") {
  std::string path = absl::StrCat("/api/v1/namespaces/", PercentEncode(ns), "/deployments");
  if (!name.empty()) absl::StrAppend(&path, "/", PercentEncode(name));
  return path;
}

CLI::App* DeploymentSubcommand(CLI::App* parent, const char* name, const char* help,
                               const std::shared_ptr<DeploymentOptions>& options) {
  CLI::App* c = AddClientSubcommand(parent, name, help, options);
  c->add_option("-n,--namespace", options->namespace_name, "the deployment's namespace")->capture_default_str();
  return c;
}

absl::StatusOr<std::string> ReadSpecFile(const std::string& file) {
  std::stringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(file);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", file));
    text << in.rdbuf();
  }
  return text.str();
}

std::string StringAt(const rapidjson::Value& v, std::initializer_list<const char*> path) {
  const rapidjson::Value* at = &v;
  for (const char* key : path) {
    if (!at->IsObject() || !at->HasMember(key)) return "";
    at = &(*at)[key];
  }
  if (at->IsString()) return at->GetString();
  if (at->IsInt64()) return absl::StrCat(at->GetInt64());
  if (at->IsNumber()) return absl::StrCat(at->GetDouble());
  return "";
}

std::string QuotaPath(const std::string& ns, const std::string& name = "") {
  std::string path = absl::StrCat("/api/v1/namespaces/", PercentEncode(ns), "/resourcequotas");
  if (!name.empty()) absl::StrAppend(&path, "/", PercentEncode(name));
  return path;
}

// The document's kind ("" when it cannot tell; the parser then says what is wrong).
std::string KindOf(const std::string& text) {
  absl::StatusOr<YAML::Node> doc = deploy::ParseYamlDocument(text);
  if (doc.ok() && doc->IsMap() && (*doc)["kind"] && (*doc)["kind"].IsScalar()) return (*doc)["kind"].Scalar();
  return "";
}

// One row per quota and resource: how much is used of the limit.
absl::StatusOr<std::string> QuotaTable(const std::string& body) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(ParseUntrustedJson(body, doc));
  std::string out = absl::StrFormat("%-14s%-16s%-26s%-10s%s\n", "NAMESPACE", "NAME", "RESOURCE", "USED", "HARD");
  for (const auto& q : doc["items"].GetArray()) {
    for (const auto& hard : q["status"]["hard"].GetObject()) {
      const std::string resource = hard.name.GetString();
      const auto& used = q["status"]["used"];
      absl::StrAppend(&out, absl::StrFormat("%-14s%-16s%-26s%-10s%s\n", StringAt(q, {"metadata", "namespace"}),
                                            StringAt(q, {"metadata", "name"}), resource,
                                            used.HasMember(resource.c_str()) ? used[resource.c_str()].GetString() : "0",
                                            hard.value.GetString()));
    }
  }
  return out;
}

// kubectl describe's layout: the essentials of spec and status, then conditions and replicas.
std::string Describe(const rapidjson::Value& d) {
  std::string out;
  auto line = [&](const char* label, const std::string& value) {
    absl::StrAppend(&out, absl::StrFormat("%-20s%s\n", absl::StrCat(label, ":"), value));
  };
  line("Name", StringAt(d, {"metadata", "name"}));
  line("Namespace", StringAt(d, {"metadata", "namespace"}));
  line("Revision", StringAt(d, {"metadata", "revision"}));
  line("Created", StringAt(d, {"metadata", "creationTimestamp"}));
  line("Model", StringAt(d, {"spec", "model"}));
  line("Version", absl::StrCat(StringAt(d, {"spec", "version"}), " -> ", StringAt(d, {"status", "version"})));
  line("Replicas", absl::StrCat(StringAt(d, {"status", "replicas", "ready"}), " ready, ",
                                StringAt(d, {"status", "replicas", "updated"}), " updated, ",
                                StringAt(d, {"status", "replicas", "desired"}), " desired (min ",
                                StringAt(d, {"spec", "replicas", "min"}), ", max ", StringAt(d, {"spec", "replicas", "max"}),
                                ")"));
  const std::string priority = StringAt(d, {"spec", "priorityClassName"});
  line("Priority class", priority.empty() ? "(default)" : priority);
  line("Node", absl::StrCat(StringAt(d, {"status", "placement", "node"}), " (",
                            StringAt(d, {"status", "placement", "admitted"}), " admitted)"));
  const rapidjson::Value& status = d["status"];
  if (status.HasMember("traffic")) {
    std::string traffic;
    for (const auto& t : status["traffic"].GetArray()) {
      if (!traffic.empty()) traffic += ", ";
      absl::StrAppend(&traffic, StringAt(t, {"percent"}), "% ", StringAt(t, {"track"}), " ", StringAt(t, {"version"}));
    }
    line("Traffic", traffic);
  }
  if (status.HasMember("canary")) {
    line("Canary", absl::StrCat(StringAt(status, {"canary", "version"}), " ", StringAt(status, {"canary", "phase"}),
                                " step ", StringAt(status, {"canary", "step"}), "/", StringAt(status, {"canary", "steps"}),
                                ": ", StringAt(status, {"canary", "message"})));
  }
  if (status.HasMember("shadow")) {
    line("Shadow", absl::StrCat(StringAt(status, {"shadow", "version"}), " (",
                                StringAt(status, {"shadow", "percent"}), "% of requests copied)"));
  }
  if (status.HasMember("autoscaling")) {
    line("Autoscaling", absl::StrCat(StringAt(status, {"autoscaling", "desiredReplicas"}), " replicas: ",
                                     StringAt(status, {"autoscaling", "reason"})));
  }
  out += "Conditions:\n";
  absl::StrAppend(&out, absl::StrFormat("  %-12s%-8s%-28s%s\n", "TYPE", "STATUS", "REASON", "MESSAGE"));
  for (const auto& c : status["conditions"].GetArray()) {
    absl::StrAppend(&out, absl::StrFormat("  %-12s%-8s%-28s%s\n", StringAt(c, {"type"}), StringAt(c, {"status"}),
                                          StringAt(c, {"reason"}), StringAt(c, {"message"})));
  }
  out += "Replicas:\n";
  absl::StrAppend(&out, absl::StrFormat("  %-8s%-10s%-16s%s\n", "ID", "TRACK", "VERSION", "REVISION"));
  for (const auto& r : status["replicaSet"].GetArray()) {
    absl::StrAppend(&out, absl::StrFormat("  %-8s%-10s%-16s%s\n", StringAt(r, {"id"}), StringAt(r, {"track"}),
                                          StringAt(r, {"version"}), StringAt(r, {"revision"})));
  }
  return out;
}

absl::StatusOr<rapidjson::Document> GetDeployment(http::HttpClient& client, const DeploymentOptions& o,
                                                  const std::string& name) {
  ASSIGN_OR_RETURN(std::string body, CallApi(client, HttpMethod::kGet, DeploymentPath(o.namespace_name, name)));
  rapidjson::Document doc;
  RETURN_IF_ERROR(ParseUntrustedJson(body, doc));
  return doc;
}

// Done when every replica runs the current revision's version, the deployment is available and
// no canary is still being analysed. A canary that was rolled back is an error.
absl::StatusOr<bool> RolledOut(const rapidjson::Value& d, std::string* message) {
  const std::string canary = StringAt(d, {"status", "canary", "phase"});
  const bool spec_has_canary = d["spec"].HasMember("canary");
  if (spec_has_canary && canary == "RolledBack") {
    return absl::FailedPreconditionError(absl::StrCat(StringAt(d, {"status", "canary", "message"}),
                                                      "; apply a new spec to try again"));
  }
  for (const auto& c : d["status"]["conditions"].GetArray()) {
    if (spec_has_canary && StringAt(c, {"type"}) == "Canary" && StringAt(c, {"reason"}) == "ReplicaFailed") {
      return absl::FailedPreconditionError(absl::StrCat("the canary cannot start: ", StringAt(c, {"message"})));
    }
  }
  // A canary without steps keeps its share until the spec changes: nothing to wait for.
  if (spec_has_canary && canary == "Progressing" && StringAt(d, {"status", "canary", "steps"}) != "0") {
    *message = absl::StrCat("canary ", StringAt(d, {"status", "canary", "version"}), " at ",
                            StringAt(d, {"status", "canary", "weight"}), "%, step ", StringAt(d, {"status", "canary", "step"}),
                            " of ", StringAt(d, {"status", "canary", "steps"}), ": ",
                            StringAt(d, {"status", "canary", "message"}));
    return false;
  }
  bool available = false;
  bool progressed = false;
  for (const auto& c : d["status"]["conditions"].GetArray()) {
    const std::string type = StringAt(c, {"type"});
    if (type == "Available") available = StringAt(c, {"status"}) == "True";
    if (type == "Progressing") {
      progressed = StringAt(c, {"reason"}) == "NewRevisionAvailable";
      *message = StringAt(c, {"message"});
      if (StringAt(c, {"reason"}) == "ReplicaFailed" || StringAt(c, {"reason"}) == "VersionNotFound") {
        *message = absl::StrCat(StringAt(c, {"reason"}), ": ", *message);
      }
    }
  }
  return available && progressed;
}

void AddApply(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DeploymentOptions>();
  auto file = std::make_shared<std::string>();
  CLI::App* c = AddClientSubcommand(&app, "apply", "Create or update a ModelDeployment or ResourceQuota from a file",
                                    options);
  c->add_option("-f,--filename", *file, "the YAML or JSON file ('-' for standard input)")->required();
  c->add_option("-n,--namespace", options->namespace_name, "namespace when the file names none")->capture_default_str();
  c->callback([&exit_code, options, file] {
    RunClientCommand(exit_code, *options, [&](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string text, ReadSpecFile(*file));
      if (KindOf(text) == "ResourceQuota") {
        ASSIGN_OR_RETURN(deploy::ResourceQuotaSpec quota, deploy::ParseResourceQuota(text, options->namespace_name));
        ASSIGN_OR_RETURN(std::string body, CallApi(client, HttpMethod::kPut, QuotaPath(quota.namespace_name, quota.name),
                                                   absl::StrCat("{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\","
                                                                "\"metadata\":{\"name\":", JsonQuote(quota.name),
                                                                ",\"namespace\":", JsonQuote(quota.namespace_name),
                                                                "},\"spec\":{\"hard\":",
                                                                deploy::QuotaAmountsJson(quota.hard), "}}")));
        if (format != OutputFormat::kTable) return Render(body, format, "", {});
        return absl::StrCat("resourcequota/", quota.name, " configured\n");
      }
      // Checked here too, so that every mistake is listed before anything is sent.
      ASSIGN_OR_RETURN(deploy::ModelDeploymentSpec spec, deploy::ParseModelDeployment(text, options->namespace_name));
      ASSIGN_OR_RETURN(std::string body, CallApi(client, HttpMethod::kPut, DeploymentPath(spec.namespace_name, spec.name),
                                                 deploy::ModelDeploymentToJson(spec)));
      if (format != OutputFormat::kTable) return Render(body, format, "", {});
      rapidjson::Document doc;
      RETURN_IF_ERROR(ParseUntrustedJson(body, doc));
      return absl::StrCat("modeldeployment/", spec.name, " ", StringAt(doc, {"result"}), " (revision ",
                          StringAt(doc, {"revision"}), ")\n");
    });
  });
}

void AddGet(CLI::App& app, int& exit_code) {
  CLI::App* get = app.add_subcommand("get", "List resources (deployments, resourcequotas)");
  get->require_subcommand(1, 1);
  auto options = std::make_shared<DeploymentOptions>();
  auto all = std::make_shared<bool>(false);
  auto name = std::make_shared<std::string>();
  auto quota_options = std::make_shared<DeploymentOptions>();
  auto quota_all = std::make_shared<bool>(false);
  CLI::App* q = DeploymentSubcommand(get, "resourcequotas", "Namespaces' quotas: used and hard limits", quota_options);
  q->alias("resourcequota")->alias("quota");
  q->add_flag("-A,--all-namespaces", *quota_all, "every namespace");
  q->callback([&exit_code, quota_options, quota_all] {
    RunClientCommand(exit_code, *quota_options, [&](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      const std::string path = *quota_all ? std::string("/api/v1/resourcequotas") : QuotaPath(quota_options->namespace_name);
      ASSIGN_OR_RETURN(std::string body, CallApi(client, HttpMethod::kGet, path));
      if (format != OutputFormat::kTable) return Render(body, format, "items", {});
      return QuotaTable(body);
    });
  });
  CLI::App* c = DeploymentSubcommand(get, "deployments", "Deployments with their version and replicas", options);
  c->alias("deployment");
  c->add_option("name", *name, "one deployment (default: all in the namespace)");
  c->add_flag("-A,--all-namespaces", *all, "every namespace");
  c->callback([&exit_code, options, all, name] {
    RunClientCommand(exit_code, *options, [&](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      const std::string path = !name->empty() ? DeploymentPath(options->namespace_name, *name)
                               : *all         ? std::string("/api/v1/deployments")
                                              : DeploymentPath(options->namespace_name);
      ASSIGN_OR_RETURN(std::string body, CallApi(client, HttpMethod::kGet, path));
      return Render(body, format, name->empty() ? "items" : "",
                    {{"NAMESPACE", "metadata.namespace"},
                     {"NAME", "metadata.name"},
                     {"MODEL", "spec.model"},
                     {"VERSION", "status.version"},
                     {"READY", "status.replicas.ready"},
                     {"DESIRED", "status.replicas.desired"},
                     {"REVISION", "metadata.revision"}});
    });
  });
}

void AddDescribe(CLI::App& app, int& exit_code) {
  CLI::App* describe = app.add_subcommand("describe", "Show a resource in detail (deployment)");
  describe->require_subcommand(1, 1);
  auto options = std::make_shared<DeploymentOptions>();
  auto name = std::make_shared<std::string>();
  CLI::App* c = DeploymentSubcommand(describe, "deployment", "A deployment: spec, status, conditions, replicas", options);
  c->alias("deployments");
  c->add_option("name", *name, "the deployment")->required();
  c->callback([&exit_code, options, name] {
    RunClientCommand(exit_code, *options, [&](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string body, CallApi(client, HttpMethod::kGet, DeploymentPath(options->namespace_name, *name)));
      if (format != OutputFormat::kTable) return Render(body, format, "", {});
      rapidjson::Document doc;
      RETURN_IF_ERROR(ParseUntrustedJson(body, doc));
      return Describe(doc);
    });
  });
}

void AddRollout(CLI::App& app, int& exit_code) {
  CLI::App* rollout = app.add_subcommand("rollout", "Follow, list or undo a deployment's rollouts");
  rollout->require_subcommand(1, 1);
  auto options = std::make_shared<DeploymentOptions>();
  auto name = std::make_shared<std::string>();
  auto timeout = std::make_shared<std::string>("5m");
  auto revision = std::make_shared<int64_t>(0);

  CLI::App* status = DeploymentSubcommand(rollout, "status", "Wait until the current revision is rolled out", options);
  status->add_option("name", *name, "the deployment")->required();
  status->add_option("--timeout", *timeout, "give up after this long")->capture_default_str();
  status->callback([&exit_code, options, name, timeout] {
    RunClientCommand(exit_code, *options, [&](http::HttpClient& client, OutputFormat) -> absl::StatusOr<std::string> {
      absl::Duration limit;
      if (!absl::ParseDuration(*timeout, &limit)) return absl::InvalidArgumentError("--timeout must be a duration, e.g. 5m");
      const absl::Time deadline = absl::Now() + limit;
      std::string last;
      while (true) {
        ASSIGN_OR_RETURN(rapidjson::Document doc, GetDeployment(client, *options, *name));
        std::string message;
        ASSIGN_OR_RETURN(bool done, RolledOut(doc, &message));
        if (done) {
          return absl::StrCat("deployment \"", *name, "\" successfully rolled out (revision ",
                              StringAt(doc, {"metadata", "revision"}), ", version ", StringAt(doc, {"status", "version"}),
                              ")\n");
        }
        if (message != last) std::cerr << "Waiting for deployment \"" << *name << "\": " << message << "\n";
        last = message;
        if (absl::Now() > deadline) {
          return absl::DeadlineExceededError(absl::StrCat("deployment \"", *name, "\" not rolled out after ", *timeout,
                                                          ": ", message));
        }
        absl::SleepFor(absl::Milliseconds(500));
      }
    });
  });

  CLI::App* history = DeploymentSubcommand(rollout, "history", "The deployment's revisions", options);
  history->add_option("name", *name, "the deployment")->required();
  history->callback([&exit_code, options, name] {
    RunClientCommand(exit_code, *options, [&](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string body, CallApi(client, HttpMethod::kGet,
                                                 DeploymentPath(options->namespace_name, *name) + "/revisions"));
      return Render(body, format, "revisions",
                    {{"REVISION", "revision"}, {"VERSION", "version"}, {"CREATED", "createdAt"}, {"ACTOR", "actor"},
                     {"REASON", "reason"}});
    });
  });

  CLI::App* undo = DeploymentSubcommand(rollout, "undo", "Go back to the previous (or a named) revision", options);
  undo->add_option("name", *name, "the deployment")->required();
  undo->add_option("--to-revision", *revision, "the revision to go back to (default: the previous one)");
  undo->callback([&exit_code, options, name, revision] {
    RunClientCommand(exit_code, *options, [&](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      const std::string body = *revision > 0 ? absl::StrCat("{\"revision\":", *revision, "}") : "{}";
      ASSIGN_OR_RETURN(std::string answer, CallApi(client, HttpMethod::kPost,
                                                   DeploymentPath(options->namespace_name, *name) + ":rollback", body));
      if (format != OutputFormat::kTable) return Render(answer, format, "", {});
      rapidjson::Document doc;
      RETURN_IF_ERROR(ParseUntrustedJson(answer, doc));
      return absl::StrCat("modeldeployment/", *name, " rolled back: ", StringAt(doc, {"message"}), " (now revision ",
                          StringAt(doc, {"revision"}), ")\n");
    });
  });
}

void AddDelete(CLI::App& app, int& exit_code) {
  CLI::App* del = app.add_subcommand("delete", "Delete a resource (deployment, resourcequota)");
  del->require_subcommand(1, 1);
  auto quota_options = std::make_shared<DeploymentOptions>();
  auto quota = std::make_shared<std::string>();
  CLI::App* q = DeploymentSubcommand(del, "resourcequota", "Delete a namespace's quota", quota_options);
  q->alias("quota");
  q->add_option("name", *quota, "the quota")->required();
  q->callback([&exit_code, quota_options, quota] {
    RunClientCommand(exit_code, *quota_options, [&](http::HttpClient& client, OutputFormat) -> absl::StatusOr<std::string> {
      RETURN_IF_ERROR(CallApi(client, HttpMethod::kDelete, QuotaPath(quota_options->namespace_name, *quota)).status());
      return absl::StrCat("resourcequota/", *quota, " deleted\n");
    });
  });
  auto options = std::make_shared<DeploymentOptions>();
  auto name = std::make_shared<std::string>();
  CLI::App* c = DeploymentSubcommand(del, "deployment", "Stop and delete a deployment and its history", options);
  c->alias("deployments");
  c->add_option("name", *name, "the deployment")->required();
  c->callback([&exit_code, options, name] {
    RunClientCommand(exit_code, *options, [&](http::HttpClient& client, OutputFormat) -> absl::StatusOr<std::string> {
      RETURN_IF_ERROR(CallApi(client, HttpMethod::kDelete, DeploymentPath(options->namespace_name, *name)).status());
      return absl::StrCat("modeldeployment/", *name, " deleted\n");
    });
  });
}

}  // namespace

void AddDeploymentCommands(CLI::App& app, int& exit_code) {
  AddApply(app, exit_code);
  AddGet(app, exit_code);
  AddDescribe(app, exit_code);
  AddRollout(app, exit_code);
  AddDelete(app, exit_code);
}

}  // namespace meridian::cli
