// meridian model push|list|get|versions|alias|rollback|pull|delete: the registry from the CLI.

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/cli.h"
#include "cli/client_options.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/progress_bar.h"
#include "common/json.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace meridian::cli {
namespace {

using http::HttpMethod;

struct ModelOptions {
  ClientOptions client;
  std::string output = "table";
};

// Thrown-free plumbing: every step returns a Status; the command prints it and picks the exit code.
class Api {
 public:
  static absl::StatusOr<Api> Connect(const ModelOptions& options) {
    Api api;
    api.progress_ = std::make_shared<std::unique_ptr<ProgressBar>>();
    ASSIGN_OR_RETURN(auto client, options.client.MakeClient([bar = api.progress_](uint64_t done, uint64_t total) {
      if (*bar) (*bar)->Update(done, total);
    }));
    api.client_ = std::shared_ptr<http::HttpClient>(std::move(client));
    return api;
  }

  // A JSON request; a non-2xx answer becomes an error carrying the server's message.
  absl::StatusOr<std::string> Call(HttpMethod method, const std::string& path, const std::string& body = "") {
    http::HeaderList headers = headers_;
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    ASSIGN_OR_RETURN(http::ClientResponse r, client_->Send(method, path, body, headers));
    return Check(r);
  }

  absl::StatusOr<std::string> Upload(const std::string& file, const std::string& digest) {
    http::HeaderList headers = headers_;
    headers.emplace_back("Content-Type", "application/octet-stream");
    headers.emplace_back("X-Content-Digest", digest);
    *progress_ = std::make_unique<ProgressBar>("upload  ");
    auto r = client_->SendFile(HttpMethod::kPost, "/api/v1/artifacts", file, headers);
    progress_->reset();
    if (!r.ok()) return r.status();
    return Check(*r);
  }

  absl::StatusOr<http::ClientResponse> Download(const std::string& path, const std::string& file) {
    *progress_ = std::make_unique<ProgressBar>("download");
    auto r = client_->Download(path, file, headers_);
    progress_->reset();
    if (!r.ok()) return r.status();
    RETURN_IF_ERROR(Check(*r).status());
    return *r;
  }

 private:
  static absl::StatusOr<std::string> Check(const http::ClientResponse& r) { return CheckApiResponse(r); }

  std::shared_ptr<http::HttpClient> client_;
  http::HeaderList headers_;
  std::shared_ptr<std::unique_ptr<ProgressBar>> progress_;  // the transfer in progress, if any
};

std::string Path(std::initializer_list<absl::string_view> parts) {
  std::string out = "/api/v1/models";
  for (absl::string_view p : parts) {
    out.push_back('/');
    // Names are validated server-side; escape what would change the path's meaning.
    for (char c : p) {
      if (c == '/' || c == '?' || c == '#' || c == '%' || c == ' ') {
        absl::StrAppend(&out, "%", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
      } else {
        out.push_back(c);
      }
    }
  }
  return out;
}

absl::StatusOr<std::string> FileDigest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  Sha256 hash;
  std::vector<char> buffer(1 << 20);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    hash.Update(absl::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
  }
  return absl::StrCat("sha256:", hash.FinishHex());
}

absl::StatusOr<std::string> KeyValuesJson(const std::vector<std::string>& pairs, bool numbers, const char* what) {
  std::string out = "{";
  for (size_t i = 0; i < pairs.size(); ++i) {
    std::pair<std::string, std::string> kv = absl::StrSplit(pairs[i], absl::MaxSplits('=', 1));
    if (kv.first.empty() || pairs[i].find('=') == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(what, " \"", pairs[i], "\" must look like key=value"));
    }
    if (i > 0) out.push_back(',');
    AppendJsonQuoted(&out, kv.first);
    out.push_back(':');
    double number = 0;
    if (numbers && absl::SimpleAtod(kv.second, &number) && std::isfinite(number)) {
      absl::StrAppend(&out, number);  // canonical JSON number ("1e3" -> 1000)
    } else {
      AppendJsonQuoted(&out, kv.second);
    }
  }
  out.push_back('}');
  return out;
}

// GETs `path` (which has a query) page after page and joins the `key` arrays into one document.
absl::StatusOr<std::string> FetchAllPages(Api& api, const std::string& path, const char* key) {
  std::string all = absl::StrCat("{\"", key, "\":[");
  std::string token;
  bool first = true;
  do {
    ASSIGN_OR_RETURN(std::string page, api.Call(HttpMethod::kGet, absl::StrCat(path, "&pageToken=", token)));
    rapidjson::Document doc;
    doc.Parse(page.c_str());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(key) || !doc[key].IsArray()) {
      return absl::InternalError(absl::StrCat("the server's answer has no \"", key, "\" list"));
    }
    for (const auto& item : doc[key].GetArray()) {
      rapidjson::StringBuffer buffer;
      rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
      item.Accept(w);
      absl::StrAppend(&all, first ? "" : ",", buffer.GetString());
      first = false;
    }
    token = doc.HasMember("nextPageToken") && doc["nextPageToken"].IsString() ? doc["nextPageToken"].GetString() : "";
  } while (!token.empty());
  absl::StrAppend(&all, "]}");
  return all;
}

const std::vector<Column> kModelColumns = {{"NAME", "name"}, {"NAMESPACE", "namespace"}, {"OWNER", "owner"},
                                           {"UPDATED", "updatedAt"}, {"DESCRIPTION", "description"}};
const std::vector<Column> kVersionColumns = {{"MODEL", "model"},         {"VERSION", "version"},
                                             {"FRAMEWORK", "framework"}, {"STATUS", "status"},
                                             {"SIZE", "artifact.size"},  {"DIGEST", "artifact.digest"},
                                             {"CREATED", "createdAt"}};
const std::vector<Column> kAliasColumns = {{"MODEL", "model"}, {"ALIAS", "alias"}, {"VERSION", "version"},
                                           {"UPDATED BY", "updatedBy"}, {"UPDATED", "updatedAt"}};
const std::vector<Column> kHistoryColumns = {{"TIME", "time"}, {"FROM", "previousVersion"}, {"TO", "version"},
                                             {"BY", "actor"}, {"REASON", "reason"}};

// Runs a command body, prints its output or error, and sets the exit code.
void Run(int& exit_code, const ModelOptions& options, const std::function<absl::StatusOr<std::string>(Api&, OutputFormat)>& body) {
  auto format = ParseOutputFormat(options.output);
  if (!format.ok()) {
    std::cerr << "meridian: " << format.status().message() << "\n";
    exit_code = kExitUsage;
    return;
  }
  auto api = Api::Connect(options);
  if (!api.ok()) {
    std::cerr << "meridian: " << api.status().message() << "\n";
    exit_code = kExitUsage;
    return;
  }
  FinishCommand(exit_code, body(*api, *format));
}

}  // namespace

void AddModelCommand(CLI::App& app, int& exit_code) {
  CLI::App* model = app.add_subcommand("model", "Manage the model registry: push, list, alias, roll back, pull");
  model->require_subcommand(1, 1);
  auto options = std::make_shared<ModelOptions>();
  auto add_common = [options](CLI::App* c) {
    options->client.AddTo(*c);
    c->add_option("-o,--output", options->output, "output format: table, json or yaml")->capture_default_str();
  };

  // push
  struct Push {
    std::string file, name, version, bump, framework, description, metadata_file, source_uri, parent_version, run_id;
    std::vector<std::string> metrics, tags;
  };
  auto push = std::make_shared<Push>();
  CLI::App* c = model->add_subcommand("push", "Upload a model file as a new version (creating the model if needed)");
  c->add_option("file", push->file, "model file (TorchScript .pt, ONNX .onnx, XGBoost .json/.ubj)")->required();
  c->add_option("--name", push->name, "model name")->required();
  c->add_option("--version", push->version, "semantic version; default: bump the highest existing one");
  c->add_option("--bump", push->bump, "with no --version: major, minor or patch (default patch)");
  c->add_option("--framework", push->framework, "torchscript, onnx or xgboost")->required();
  c->add_option("--metric", push->metrics, "metric to record in metadata.metrics, e.g. accuracy=0.95 (repeatable)");
  c->add_option("--tag", push->tags, "tag key=value (repeatable)");
  c->add_option("--metadata-file", push->metadata_file, "JSON object to store as the version's metadata");
  c->add_option("--description", push->description, "model description, when the model is created");
  c->add_option("--source-uri", push->source_uri, "lineage: where the model came from");
  c->add_option("--parent-version", push->parent_version, "lineage: the version this one derives from");
  c->add_option("--run-id", push->run_id, "lineage: training run id");
  add_common(c);
  c->callback([&exit_code, options, push] {
    Run(exit_code, *options, [push](Api& api, OutputFormat format) -> absl::StatusOr<std::string> {
      if (!std::filesystem::is_regular_file(push->file)) {
        return absl::InvalidArgumentError(absl::StrCat(push->file, " is not a readable file"));
      }
      std::string metadata = "{}";
      if (!push->metadata_file.empty()) {
        std::ifstream in(push->metadata_file);
        if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", push->metadata_file));
        metadata.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
      rapidjson::Document meta;
      meta.Parse(metadata.c_str());
      if (meta.HasParseError() || !meta.IsObject()) {
        return absl::InvalidArgumentError(absl::StrCat(push->metadata_file, " must hold a JSON object"));
      }
      ASSIGN_OR_RETURN(std::string metrics, KeyValuesJson(push->metrics, true, "--metric"));
      if (!push->metrics.empty()) {
        // Merge metrics into metadata.metrics.
        rapidjson::Document parsed;
        parsed.Parse(metrics.c_str());
        meta.RemoveMember("metrics");
        rapidjson::Value value(parsed, meta.GetAllocator());
        meta.AddMember("metrics", value, meta.GetAllocator());
        rapidjson::StringBuffer buffer;
        rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
        meta.Accept(w);
        metadata = buffer.GetString();
      }
      ASSIGN_OR_RETURN(std::string tags, KeyValuesJson(push->tags, false, "--tag"));

      std::string create = absl::StrCat(R"({"name":)", JsonQuote(push->name), R"(,"description":)",
                                        JsonQuote(push->description), "}");
      auto created = api.Call(HttpMethod::kPost, "/api/v1/models", create);
      if (!created.ok() && created.status().message().find("HTTP 409") == absl::string_view::npos) {
        return created.status();
      }
      ASSIGN_OR_RETURN(std::string digest, FileDigest(push->file));
      ASSIGN_OR_RETURN(std::string uploaded, api.Upload(push->file, digest));
      std::string body = absl::StrCat(R"({"framework":)", JsonQuote(push->framework), R"(,"artifactDigest":)",
                                      JsonQuote(digest), R"(,"metadata":)", metadata, R"(,"tags":)", tags,
                                      R"(,"lineage":{"sourceUri":)", JsonQuote(push->source_uri),
                                      R"(,"parentVersion":)", JsonQuote(push->parent_version), R"(,"runId":)",
                                      JsonQuote(push->run_id), "}");
      if (!push->version.empty()) absl::StrAppend(&body, R"(,"version":)", JsonQuote(push->version));
      if (!push->bump.empty()) absl::StrAppend(&body, R"(,"bump":)", JsonQuote(push->bump));
      body.push_back('}');
      ASSIGN_OR_RETURN(std::string version, api.Call(HttpMethod::kPost, Path({push->name, "versions"}), body));
      return Render(version, format, "", kVersionColumns);
    });
  });

  // list
  auto list = std::make_shared<std::pair<std::string, std::string>>();  // prefix, tag
  c = model->add_subcommand("list", "List models");
  c->add_option("--prefix", list->first, "only names starting with this");
  c->add_option("--tag", list->second, "only models with this tag, key=value");
  add_common(c);
  c->callback([&exit_code, options, list] {
    Run(exit_code, *options, [list](Api& api, OutputFormat format) -> absl::StatusOr<std::string> {
      const std::string query = absl::StrCat("/api/v1/models?pageSize=500&namePrefix=", PercentEncode(list->first),
                                             "&tag=", PercentEncode(list->second));
      ASSIGN_OR_RETURN(std::string all, FetchAllPages(api, query, "models"));
      return Render(all, format, "models", kModelColumns);
    });
  });

  // get
  auto name = std::make_shared<std::string>();
  c = model->add_subcommand("get", "Show a model");
  c->add_option("name", *name, "model name")->required();
  add_common(c);
  c->callback([&exit_code, options, name] {
    Run(exit_code, *options, [name](Api& api, OutputFormat format) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string body, api.Call(HttpMethod::kGet, Path({*name})));
      return Render(body, format, "", kModelColumns);
    });
  });

  // versions
  struct Versions {
    std::string model, filter, tag;
    bool descending = false;
  };
  auto versions_of = std::make_shared<Versions>();
  c = model->add_subcommand("versions", "List a model's versions in semantic-version order");
  c->add_option("name", versions_of->model, "model name")->required();
  c->add_flag("--desc", versions_of->descending, "newest first");
  c->add_option("--filter", versions_of->filter,
                "metadata conditions, e.g. 'metrics.accuracy>=0.9,dataset=imagenet' (ops: = != >= <= > <)");
  c->add_option("--tag", versions_of->tag, "only versions with this tag, key=value");
  add_common(c);
  c->callback([&exit_code, options, versions_of] {
    Run(exit_code, *options, [versions_of](Api& api, OutputFormat format) -> absl::StatusOr<std::string> {
      const std::string query = absl::StrCat("?pageSize=1000&order=", versions_of->descending ? "desc" : "asc",
                                             "&filter=", PercentEncode(versions_of->filter),
                                             "&tag=", PercentEncode(versions_of->tag));
      ASSIGN_OR_RETURN(std::string all, FetchAllPages(api, Path({versions_of->model, "versions"}) + query, "versions"));
      return Render(all, format, "versions", kVersionColumns);
    });
  });

  // alias
  struct Alias {
    std::string model, alias, version, reason;
    bool history = false, remove = false;
  };
  auto alias = std::make_shared<Alias>();
  c = model->add_subcommand("alias", "Point an alias at a version, or list, show history, delete");
  c->add_option("name", alias->model, "model name")->required();
  c->add_option("alias", alias->alias, "alias, e.g. production (omit to list all)");
  c->add_option("version", alias->version, "version (or alias, or latest) to point at");
  c->add_option("--reason", alias->reason, "why, for the history");
  c->add_flag("--history", alias->history, "show every move of the alias");
  c->add_flag("--delete", alias->remove, "delete the alias");
  add_common(c);
  c->callback([&exit_code, options, alias] {
    Run(exit_code, *options, [alias](Api& api, OutputFormat format) -> absl::StatusOr<std::string> {
      if (alias->alias.empty()) {
        ASSIGN_OR_RETURN(std::string body, api.Call(HttpMethod::kGet, Path({alias->model, "aliases"})));
        return Render(body, format, "aliases", kAliasColumns);
      }
      if (alias->history) {
        ASSIGN_OR_RETURN(std::string body, api.Call(HttpMethod::kGet, Path({alias->model, "aliases", alias->alias, "history"})));
        return Render(body, format, "events", kHistoryColumns);
      }
      if (alias->remove) {
        ASSIGN_OR_RETURN(std::string body, api.Call(HttpMethod::kDelete, Path({alias->model, "aliases", alias->alias})));
        return absl::StrCat("deleted alias ", alias->alias, "\n");
      }
      if (alias->version.empty()) {
        ASSIGN_OR_RETURN(std::string body, api.Call(HttpMethod::kGet, Path({alias->model, "aliases", alias->alias})));
        return Render(body, format, "", kAliasColumns);
      }
      ASSIGN_OR_RETURN(std::string body,
                       api.Call(HttpMethod::kPut, Path({alias->model, "aliases", alias->alias}),
                                absl::StrCat(R"({"version":)", JsonQuote(alias->version), R"(,"reason":)",
                                             JsonQuote(alias->reason), "}")));
      return Render(body, format, "", kAliasColumns);
    });
  });

  // rollback
  auto rollback = std::make_shared<Alias>();
  rollback->alias = "production";
  c = model->add_subcommand("rollback", "Point an alias back where it was before its last move");
  c->add_option("name", rollback->model, "model name")->required();
  c->add_option("alias", rollback->alias, "alias to roll back")->capture_default_str();
  c->add_option("--reason", rollback->reason, "why, for the history");
  add_common(c);
  c->callback([&exit_code, options, rollback] {
    Run(exit_code, *options, [rollback](Api& api, OutputFormat format) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string body,
                       api.Call(HttpMethod::kPost, Path({rollback->model, "aliases", rollback->alias, "rollback"}),
                                absl::StrCat(R"({"reason":)", JsonQuote(rollback->reason), "}")));
      return Render(body, format, "", kAliasColumns);
    });
  });

  // pull
  struct Pull {
    std::string model, ref = "latest", dest;
  };
  auto pull = std::make_shared<Pull>();
  c = model->add_subcommand("pull", "Download a version's artifact and verify its digest");
  c->add_option("name", pull->model, "model name")->required();
  c->add_option("ref", pull->ref, "version, alias or latest")->capture_default_str();
  c->add_option("--dest", pull->dest, "file to write (default: NAME-VERSION.artifact in this directory)");
  add_common(c);
  c->callback([&exit_code, options, pull] {
    Run(exit_code, *options, [pull](Api& api, OutputFormat format) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string version_json, api.Call(HttpMethod::kGet, Path({pull->model, "versions", pull->ref})));
      rapidjson::Document doc;
      doc.Parse(version_json.c_str());
      if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("version") || !doc["version"].IsString() ||
          !doc.HasMember("artifact") || !doc["artifact"].IsObject() || !doc["artifact"].HasMember("digest") ||
          !doc["artifact"]["digest"].IsString()) {
        return absl::InternalError("the server's answer does not describe a version");
      }
      const std::string version = doc["version"].GetString();
      const std::string digest = doc["artifact"]["digest"].GetString();
      const std::string dest = pull->dest.empty() ? absl::StrCat(pull->model, "-", version, ".artifact") : pull->dest;
      const std::string partial = dest + ".partial";
      auto downloaded = api.Download(Path({pull->model, "versions", version, "artifact"}), partial);
      if (!downloaded.ok()) {
        std::remove(partial.c_str());
        return downloaded.status();
      }
      ASSIGN_OR_RETURN(std::string actual, FileDigest(partial));
      if (actual != digest) {
        std::remove(partial.c_str());
        return absl::DataLossError(absl::StrCat("downloaded bytes hash to ", actual, ", expected ", digest,
                                                "; nothing was written"));
      }
      std::filesystem::rename(partial, dest);
      if (format == OutputFormat::kTable) return absl::StrCat("pulled ", pull->model, " ", version, " to ", dest, " (", digest, ")\n");
      return Render(version_json, format, "", kVersionColumns);
    });
  });

  // delete
  auto del = std::make_shared<std::pair<std::string, std::string>>();
  c = model->add_subcommand("delete", "Delete a version (and its artifact if unused), or a model without versions");
  c->add_option("name", del->first, "model name")->required();
  c->add_option("version", del->second, "version to delete; omit to delete the model");
  add_common(c);
  c->callback([&exit_code, options, del] {
    Run(exit_code, *options, [del](Api& api, OutputFormat) -> absl::StatusOr<std::string> {
      if (del->second.empty()) {
        RETURN_IF_ERROR(api.Call(HttpMethod::kDelete, Path({del->first})).status());
        return absl::StrCat("deleted model ", del->first, "\n");
      }
      RETURN_IF_ERROR(api.Call(HttpMethod::kDelete, Path({del->first, "versions", del->second})).status());
      return absl::StrCat("deleted ", del->first, " ", del->second, "\n");
    });
  });
}

}  // namespace meridian::cli
