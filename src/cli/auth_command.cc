// meridian token|role|rolebinding|auth|audit: the security API from the CLI.

#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "auth/api_token.h"
#include "cli/cli.h"
#include "cli/client_options.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "rapidjson/document.h"

namespace meridian::cli {
namespace {

using http::HttpMethod;

using CommonOptions = ClientCommandOptions;

void RunClient(int& exit_code, const CommonOptions& options, const ClientCommandBody& body) {
  RunClientCommand(exit_code, options, body);
}

CLI::App* Command(CLI::App* parent, const char* name, const char* help, std::shared_ptr<CommonOptions> options) {
  return AddClientSubcommand(parent, name, help, options);
}

std::string JsonStringList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ",";
    AppendJsonQuoted(&out, items[i]);
  }
  return out + "]";
}

const std::vector<Column> kTokenColumns = {{"ID", "id"},           {"KIND", "kind"},         {"SUBJECT", "subject"},
                                           {"STATE", "state"},     {"EXPIRES", "expiresAt"}, {"CREATED BY", "createdBy"},
                                           {"DESCRIPTION", "description"}};
const std::vector<Column> kBindingColumns = {{"NAME", "name"}, {"NAMESPACE", "namespace"}, {"ROLE", "role"}};
const std::vector<Column> kAuditColumns = {{"ID", "id"},         {"TIME", "time"},     {"SUBJECT", "subject"},
                                           {"METHOD", "method"}, {"TARGET", "target"}, {"VERB", "verb"},
                                           {"STATUS", "status"}, {"RESULT", "result"}};

void AddTokenCommands(CLI::App& app, int& exit_code) {
  CLI::App* token = app.add_subcommand("token", "API tokens: create (shown once), list, revoke, generate");
  token->require_subcommand(1, 1);
  auto options = std::make_shared<CommonOptions>();

  struct Create {
    std::string subject, description, expires_in;
    bool service_account = false;
  };
  auto create = std::make_shared<Create>();
  CLI::App* c = Command(token, "create", "Create a token for yourself or for another user or service account", options);
  c->add_option("--subject", create->subject, "who the token is for (default: you)");
  c->add_flag("--service-account", create->service_account, "the subject is a service account, not a user");
  c->add_option("--description", create->description, "what the token is for");
  c->add_option("--expires-in", create->expires_in, "lifetime, e.g. 24h or 720h (default: never expires)");
  c->callback([&exit_code, options, create] {
    RunClient(exit_code, *options, [create](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      std::string body = "{\"kind\":";
      AppendJsonQuoted(&body, create->service_account ? "serviceaccount" : "user");
      for (const auto& [key, value] : {std::pair<const char*, const std::string*>{"subject", &create->subject},
                                       {"description", &create->description},
                                       {"expiresIn", &create->expires_in}}) {
        if (value->empty()) continue;
        absl::StrAppend(&body, ",\"", key, "\":");
        AppendJsonQuoted(&body, *value);
      }
      ASSIGN_OR_RETURN(std::string created, CallApi(client, HttpMethod::kPost, "/api/v1/tokens", body + "}"));
      if (format != OutputFormat::kTable) return Render(created, format, "", kTokenColumns);
      rapidjson::Document doc;
      doc.Parse(created.c_str());
      if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("token")) return created;
      return absl::StrCat("token ", doc["id"].GetString(), " for ", doc["kind"].GetString(), " ",
                          doc["subject"].GetString(), " (shown only now; store it safely):\n", doc["token"].GetString(),
                          "\n");
    });
  });

  c = Command(token, "list", "List tokens (never their secrets)", options);
  c->callback([&exit_code, options] {
    RunClient(exit_code, *options, [](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string body, CallApi(client, HttpMethod::kGet, "/api/v1/tokens"));
      return Render(body, format, "tokens", kTokenColumns);
    });
  });

  auto id = std::make_shared<std::string>();
  c = Command(token, "revoke", "Revoke a token at once", options);
  c->add_option("id", *id, "token id (the part after mrd_, as `token list` shows it)")->required();
  c->callback([&exit_code, options, id] {
    RunClient(exit_code, *options, [id](http::HttpClient& client, OutputFormat) -> absl::StatusOr<std::string> {
      RETURN_IF_ERROR(CallApi(client, HttpMethod::kDelete, "/api/v1/tokens/" + PercentEncode(*id)).status());
      return absl::StrCat("token ", *id, " revoked\n");
    });
  });

  c = token->add_subcommand("generate", "Print a new random token, e.g. for MERIDIAN_ADMIN_TOKEN (no server needed)");
  c->callback([&exit_code] {
    auto issued = auth::IssueToken();
    if (!issued.ok()) {
      std::cerr << "meridian: " << issued.status().message() << "\n";
      exit_code = kExitFailure;
      return;
    }
    std::cout << issued->token << "\n";
    exit_code = kExitOk;
  });
}

void AddRoleCommands(CLI::App& app, int& exit_code) {
  CLI::App* role = app.add_subcommand("role", "Roles: lists of resources x verbs (built-in: viewer, predictor, "
                                              "model-manager, deployer, admin)");
  role->require_subcommand(1, 1);
  auto options = std::make_shared<CommonOptions>();
  const std::vector<Column> columns = {{"NAME", "name"}, {"BUILT IN", "builtIn"}};

  CLI::App* c = Command(role, "list", "List roles", options);
  c->callback([&exit_code, options, columns] {
    RunClient(exit_code, *options, [columns](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string body, CallApi(client, HttpMethod::kGet, "/api/v1/roles"));
      return Render(body, format, "roles", columns);
    });
  });

  auto name = std::make_shared<std::string>();
  c = Command(role, "get", "Show a role and its rules (use -o yaml to see the rules)", options);
  c->add_option("name", *name, "role name")->required();
  c->callback([&exit_code, options, name] {
    RunClient(exit_code, *options, [name](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string body, CallApi(client, HttpMethod::kGet, "/api/v1/roles/" + PercentEncode(*name)));
      return Render(body, format == OutputFormat::kTable ? OutputFormat::kYaml : format, "", {});
    });
  });

  struct Create {
    std::string name;
    std::vector<std::string> resources, verbs;
  };
  auto create = std::make_shared<Create>();
  c = Command(role, "create", "Create or replace a role with one rule (more rules: PUT /api/v1/roles/NAME)", options);
  c->add_option("name", create->name, "role name")->required();
  c->add_option("--resource", create->resources, "resource the rule covers (repeat; * for all)")->required();
  c->add_option("--verb", create->verbs, "verb the rule allows (repeat; * for all)")->required();
  c->callback([&exit_code, options, create] {
    RunClient(exit_code, *options, [create](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      const std::string body = absl::StrCat("{\"rules\":[{\"resources\":", JsonStringList(create->resources),
                                            ",\"verbs\":", JsonStringList(create->verbs), "}]}");
      ASSIGN_OR_RETURN(std::string answer,
                       CallApi(client, HttpMethod::kPut, "/api/v1/roles/" + PercentEncode(create->name), body));
      return format == OutputFormat::kTable ? absl::StrCat("role ", create->name, " saved\n")
                                            : Render(answer, format, "", {});
    });
  });

  c = Command(role, "delete", "Delete a role (no binding may use it)", options);
  c->add_option("name", *name, "role name")->required();
  c->callback([&exit_code, options, name] {
    RunClient(exit_code, *options, [name](http::HttpClient& client, OutputFormat) -> absl::StatusOr<std::string> {
      RETURN_IF_ERROR(CallApi(client, HttpMethod::kDelete, "/api/v1/roles/" + PercentEncode(*name)).status());
      return absl::StrCat("role ", *name, " deleted\n");
    });
  });
}

// "/api/v1/namespaces/NS/rolebindings" or "/api/v1/clusterrolebindings".
std::string BindingsPath(const std::string& namespace_name) {
  return namespace_name.empty() ? "/api/v1/clusterrolebindings"
                                : absl::StrCat("/api/v1/namespaces/", PercentEncode(namespace_name), "/rolebindings");
}

void AddRoleBindingCommands(CLI::App& app, int& exit_code) {
  CLI::App* binding = app.add_subcommand("rolebinding", "Grant a role to users and service accounts, in one namespace "
                                                        "(--namespace) or in all (--cluster)");
  binding->require_subcommand(1, 1);
  auto options = std::make_shared<CommonOptions>();
  struct Scope {
    std::string namespace_name = "default";
    bool cluster = false;
    std::string Namespace() const { return cluster ? "" : namespace_name; }
  };
  auto scope = std::make_shared<Scope>();
  auto add_scope = [scope](CLI::App* c) {
    c->add_option("-n,--namespace", scope->namespace_name, "namespace of the binding")->capture_default_str();
    c->add_flag("--cluster", scope->cluster, "a cluster-wide binding (every namespace)");
  };

  struct Create {
    std::string name, role;
    std::vector<std::string> users, service_accounts;
  };
  auto create = std::make_shared<Create>();
  CLI::App* c = Command(binding, "create", "Create or replace a role binding", options);
  c->add_option("name", create->name, "binding name")->required();
  c->add_option("--role", create->role, "role to grant")->required();
  c->add_option("--user", create->users, "user to bind (repeat)");
  c->add_option("--serviceaccount", create->service_accounts, "service account to bind (repeat)");
  add_scope(c);
  c->callback([&exit_code, options, create, scope] {
    RunClient(exit_code, *options, [create, scope](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      if (create->users.empty() && create->service_accounts.empty()) {
        return absl::InvalidArgumentError("name at least one --user or --serviceaccount");
      }
      std::string body = "{\"role\":";
      AppendJsonQuoted(&body, create->role);
      body += ",\"subjects\":[";
      bool first = true;
      for (const auto& [kind, names] : {std::pair<const char*, const std::vector<std::string>*>{"user", &create->users},
                                        {"serviceaccount", &create->service_accounts}}) {
        for (const std::string& n : *names) {
          if (!first) body += ",";
          first = false;
          absl::StrAppend(&body, "{\"kind\":\"", kind, "\",\"name\":");
          AppendJsonQuoted(&body, n);
          body += "}";
        }
      }
      body += "]}";
      ASSIGN_OR_RETURN(std::string answer,
                       CallApi(client, HttpMethod::kPut,
                               absl::StrCat(BindingsPath(scope->Namespace()), "/", PercentEncode(create->name)), body));
      return Render(answer, format, "", kBindingColumns);
    });
  });

  c = Command(binding, "list", "List role bindings of a namespace, or the cluster-wide ones", options);
  add_scope(c);
  c->callback([&exit_code, options, scope] {
    RunClient(exit_code, *options, [scope](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string body, CallApi(client, HttpMethod::kGet, BindingsPath(scope->Namespace())));
      return Render(body, format, "bindings", kBindingColumns);
    });
  });

  auto name = std::make_shared<std::string>();
  c = Command(binding, "delete", "Delete a role binding", options);
  c->add_option("name", *name, "binding name")->required();
  add_scope(c);
  c->callback([&exit_code, options, scope, name] {
    RunClient(exit_code, *options, [scope, name](http::HttpClient& client, OutputFormat) -> absl::StatusOr<std::string> {
      RETURN_IF_ERROR(CallApi(client, HttpMethod::kDelete,
                              absl::StrCat(BindingsPath(scope->Namespace()), "/", PercentEncode(*name)))
                          .status());
      return absl::StrCat("role binding ", *name, " deleted\n");
    });
  });
}

void AddAuthCommands(CLI::App& app, int& exit_code) {
  CLI::App* auth = app.add_subcommand("auth", "Who you are and what you may do");
  auth->require_subcommand(1, 1);
  auto options = std::make_shared<CommonOptions>();

  struct CanI {
    std::string verb, resource, namespace_name = "default";
  };
  auto can_i = std::make_shared<CanI>();
  CLI::App* c = Command(auth, "can-i", "Whether your token may VERB RESOURCE (exit 0 yes, 1 no)", options);
  c->add_option("verb", can_i->verb, "get, list, create, update, delete, predict, rollback, promote")->required();
  c->add_option("resource", can_i->resource, "models, versions, aliases, deployments, predictions, tokens, ...")
      ->required();
  c->add_option("-n,--namespace", can_i->namespace_name, "namespace")->capture_default_str();
  c->callback([&exit_code, options, can_i] {
    RunClient(exit_code, *options, [can_i](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string body,
                       CallApi(client, HttpMethod::kGet,
                               absl::StrCat("/api/v1/auth/can-i?verb=", PercentEncode(can_i->verb),
                                            "&resource=", PercentEncode(can_i->resource),
                                            "&namespace=", PercentEncode(can_i->namespace_name))));
      rapidjson::Document doc;
      doc.Parse(body.c_str());
      const bool allowed = !doc.HasParseError() && doc.IsObject() && doc.HasMember("allowed") && doc["allowed"].IsTrue();
      if (format != OutputFormat::kTable) return Render(body, format, "", {});
      if (!allowed) {
        return absl::PermissionDeniedError(
            absl::StrCat("no: ", doc.IsObject() && doc.HasMember("reason") ? doc["reason"].GetString() : ""));
      }
      return std::string("yes\n");
    });
  });

  c = Command(auth, "whoami", "The user or service account your token belongs to", options);
  c->callback([&exit_code, options] {
    RunClient(exit_code, *options, [](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string body, CallApi(client, HttpMethod::kGet, "/api/v1/auth/whoami"));
      return Render(body, format, "", {{"SUBJECT", "subject"}});
    });
  });
}

void AddAuditCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<CommonOptions>();
  struct Filters {
    std::string subject, resource, verb, result, namespace_name, since;
    int limit = 100;
  };
  auto f = std::make_shared<Filters>();
  CLI::App* c = Command(&app, "audit", "Read the audit log: every change and every denied request", options);
  c->add_option("--subject", f->subject, "e.g. user:alice or anonymous");
  c->add_option("--resource", f->resource, "e.g. models");
  c->add_option("--verb", f->verb, "e.g. delete");
  c->add_option("--result", f->result, "allowed, denied or failed");
  c->add_option("-n,--namespace", f->namespace_name, "namespace");
  c->add_option("--since", f->since, "RFC 3339 time, e.g. 2026-11-28T00:00:00Z");
  c->add_option("--limit", f->limit, "at most this many records")->capture_default_str();
  c->callback([&exit_code, options, f] {
    RunClient(exit_code, *options, [f](http::HttpClient& client, OutputFormat format) -> absl::StatusOr<std::string> {
      std::string query = absl::StrCat("/api/v1/audit?limit=", f->limit);
      for (const auto& [key, value] : {std::pair<const char*, const std::string*>{"subject", &f->subject},
                                       {"resource", &f->resource},
                                       {"verb", &f->verb},
                                       {"result", &f->result},
                                       {"namespace", &f->namespace_name},
                                       {"since", &f->since}}) {
        if (!value->empty()) absl::StrAppend(&query, "&", key, "=", PercentEncode(*value));
      }
      ASSIGN_OR_RETURN(std::string body, CallApi(client, HttpMethod::kGet, query));
      return Render(body, format, "events", kAuditColumns);
    });
  });
}

}  // namespace

void AddSecurityCommands(CLI::App& app, int& exit_code) {
  AddTokenCommands(app, exit_code);
  AddRoleCommands(app, exit_code);
  AddRoleBindingCommands(app, exit_code);
  AddAuthCommands(app, exit_code);
  AddAuditCommand(app, exit_code);
}

}  // namespace meridian::cli
