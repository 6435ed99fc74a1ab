#include "tests/layering/layering_rules.h"

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace meridian::layering {
namespace {

struct Include {
  std::string path;
  bool quoted = false;  // "ours.h" rather than <system.h>
  int line = 0;
};

std::vector<Include> ParseIncludes(absl::string_view content) {
  std::vector<Include> out;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++line_number;
    absl::string_view l = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&l, "#")) continue;
    l = absl::StripLeadingAsciiWhitespace(l);
    if (!absl::ConsumePrefix(&l, "include")) continue;
    l = absl::StripLeadingAsciiWhitespace(l);
    if (l.empty()) continue;
    const char open = l.front();
    const char close = open == '"' ? '"' : '>';
    if (open != '"' && open != '<') continue;
    const size_t end = l.find(close, 1);
    if (end == absl::string_view::npos) continue;
    out.push_back({std::string(l.substr(1, end - 1)), open == '"', line_number});
  }
  return out;
}

std::string FirstSegment(absl::string_view path) {
  return std::string(path.substr(0, path.find('/')));
}

// Top-level folders under src/ that are ours.
const std::set<std::string>& OurModules() {
  static const auto* const modules = new std::set<std::string>{
      "auth",  "backends", "backup",   "cli",     "common",  "control", "deploy",
      "health", "http",    "kube",     "metrics", "protocol", "registry", "server",
      "serving", "store",  "testing", "ui"};
  return *modules;
}

// Modules that may include only the listed modules of ours (ARCHITECTURE.md, layering 1-2).
const std::map<std::string, std::set<std::string>>& RestrictedModules() {
  static const auto* const rules = new std::map<std::string, std::set<std::string>>{
      {"common", {"common"}},
      {"store", {"common", "store"}},
      {"http", {"common", "http"}},
      {"metrics", {"common", "metrics"}},
      {"control", {"common", "control"}},
  };
  return *rules;
}

// Framework headers and the one backend folder allowed to include each (layering 3).
struct Framework {
  const char* prefix;
  const char* backend;
};
constexpr Framework kFrameworks[] = {
    {"torch/", "torchscript"}, {"ATen/", "torchscript"}, {"c10/", "torchscript"},
    {"opencv2/", "onnx"},      {"onnx/", "onnx"},        {"onnxruntime", "onnx"},
    {"xgboost/", "xgboost"},
};

// Things a pure decision core must not touch: sockets, files, threads, clocks (layering 2).
constexpr const char* kImpureHeaders[] = {
    "thread",        "fstream",        "filesystem",     "future",        "condition_variable",
    "unistd.h",      "fcntl.h",        "sys/",           "netinet/",      "arpa/",
    "boost/asio",    "boost/beast",    "absl/time/clock.h", "absl/synchronization/",
    "sqlite3.h",     "pqxx/",          "hiredis/",       "curl/",
};

// Storage drivers that only store/ may use (layering 4).
constexpr const char* kStorageDrivers[] = {"sqlite3.h", "pqxx/", "libpq-fe.h", "hiredis/"};

}  // namespace

std::vector<Violation> CheckFile(absl::string_view path, absl::string_view content) {
  std::vector<Violation> out;
  const std::string module = absl::StrContains(path, '/') ? FirstSegment(path) : "";
  const bool is_test = absl::EndsWith(path, "_test.cc");
  auto add = [&](const Include& inc, std::string rule) {
    out.push_back({std::string(path), inc.line, inc.path, std::move(rule)});
  };

  for (const Include& inc : ParseIncludes(content)) {
    const std::string target = FirstSegment(inc.path);
    const bool ours = inc.quoted && OurModules().contains(target) && absl::StrContains(inc.path, '/');

    for (const Framework& fw : kFrameworks) {
      if (!absl::StartsWith(inc.path, fw.prefix)) continue;
      const std::string allowed = absl::StrCat("backends/", fw.backend, "/");
      if (!absl::StartsWith(path, allowed)) {
        add(inc, absl::StrCat("framework header ", inc.path, " may only be included in src/", allowed));
      }
    }

    if (ours) {
      if (target == "testing" && !is_test && module != "testing") {
        add(inc, "testing/ fakes are for tests only");
      }
      if (auto rule = RestrictedModules().find(module); rule != RestrictedModules().end()) {
        if (!rule->second.contains(target) && !(is_test && target == "testing")) {
          add(inc, absl::StrCat(module, "/ may not include ", target, "/"));
        }
      }
      if (target == "server" && module != "server" && module != "cli" && path != "main.cc") {
        add(inc, "nothing but cli/ and main.cc includes server/ (the composition root)");
      }
      if (target == "backends" && module != "backends" && module != "server") {
        add(inc, "backends are wired in by server/ only; others go through serving/ interfaces");
      }
      // Tests are composition roots of their own and may pick a concrete store.
      if ((module == "registry" || module == "deploy" || module == "auth") && !is_test &&
          (absl::StartsWith(inc.path, "store/sqlite/") || absl::StartsWith(inc.path, "store/postgres/"))) {
        add(inc, absl::StrCat(module, "/ must use the store/ interfaces, not a concrete store"));
      }
    }

    if (module == "control" && !is_test) {
      for (const char* impure : kImpureHeaders) {
        if (absl::StartsWith(inc.path, impure)) {
          add(inc, "control/ is pure: no sockets, files, threads, locks or clocks");
        }
      }
    }
    if (module != "store" && module != "testing" && !is_test) {
      for (const char* driver : kStorageDrivers) {
        if (absl::StartsWith(inc.path, driver)) {
          add(inc, "storage drivers are used only inside store/");
        }
      }
    }
  }
  return out;
}

}  // namespace meridian::layering
