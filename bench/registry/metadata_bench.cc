// bench/registry: registry metadata throughput and latency on SQLite and PostgreSQL.
//
// Registers MODELS x VERSIONS versions through the Registry (each one transaction, as the API
// does it), reporting versions registered per second, then measures GetVersion latency
// (p50/p99) for random versions of the full data set.
//
// Usage: metadata_bench MODELS VERSIONS [postgres]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "registry/registry.h"
#include "store/blob_store.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/postgres_server.h"

using namespace meridian;
using SteadyClock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: metadata_bench MODELS VERSIONS [postgres]\n");
    return 2;
  }
  const int models = std::atoi(argv[1]);
  const int versions = std::atoi(argv[2]);
  const bool postgres = argc > 3 && std::string(argv[3]) == "postgres";
  const std::string dir = absl::StrCat("/tmp/meridian-metadata-bench-", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  std::unique_ptr<testing::PostgresServer> server;
  std::unique_ptr<store::MetadataStore> metadata;
  if (postgres) {
    auto started = testing::PostgresServer::Start();
    if (!started.ok()) {
      std::fprintf(stderr, "%s\n", std::string(started.status().message()).c_str());
      return 1;
    }
    server = std::move(*started);
    auto url = server->CreateDatabase("bench");
    metadata = std::move(*store::PostgresStore::Open({.url = *url}));
  } else {
    metadata = std::move(*store::SqliteStore::Open({.path = dir + "/meridian.db"}));
  }
  auto blobs = std::move(*store::BlobStore::Open({.root = dir + "/blobs"}));
  auto writer = *blobs->NewWriter();
  (void)writer->Write("weights");
  const std::string digest = (*writer->Commit(std::nullopt)).digest;
  auto registry = std::move(*registry::Registry::Create({metadata.get(), blobs.get()}));

  const auto load_start = SteadyClock::now();
  for (int m = 0; m < models; ++m) {
    const std::string name = absl::StrCat("model-", m);
    if (!registry->CreateModel({.name = name}, "bench").ok()) return 1;
    for (int v = 0; v < versions; ++v) {
      auto r = registry->RegisterVersion({.model = name, .version = absl::StrCat("1.", v, ".0"), .framework = "onnx",
                                          .artifact_digest = digest},
                                         "bench");
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", std::string(r.status().message()).c_str());
        return 1;
      }
    }
  }
  const double load_seconds = std::chrono::duration<double>(SteadyClock::now() - load_start).count();

  std::mt19937 rng(1);
  std::vector<double> latencies_us;
  const int gets = 20000;
  for (int i = 0; i < gets; ++i) {
    const std::string name = absl::StrCat("model-", rng() % models);
    const std::string version = absl::StrCat("1.", rng() % versions, ".0");
    const auto start = SteadyClock::now();
    auto r = registry->GetVersion(name, version);
    latencies_us.push_back(std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count());
    if (!r.ok()) return 1;
  }
  std::sort(latencies_us.begin(), latencies_us.end());
  std::printf("| %s | %d x %d | %.0f | %.1f | %.1f |\n", postgres ? "PostgreSQL" : "SQLite", models, versions,
              models * versions / load_seconds, latencies_us[gets / 2], latencies_us[gets * 99 / 100]);
  std::filesystem::remove_all(dir);
  return 0;
}
