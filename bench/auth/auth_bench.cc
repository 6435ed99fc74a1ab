// What authentication and authorization add to every request: the request gate's check of a valid
// token (parse, SHA-256 of the secret, constant-time compare, expiry, lock-out bookkeeping) and the
// RBAC decision, for a few and for many tokens and bindings. Results: docs/benchmarks.md.

#include <benchmark/benchmark.h>

#include "absl/strings/str_cat.h"
#include "auth/access_control.h"
#include "auth/request_authorizer.h"
#include "store/sqlite/sqlite_store.h"

namespace meridian::auth {
namespace {

struct World {
  std::unique_ptr<store::SqliteStore> store;
  std::unique_ptr<AccessControl> access;
  std::string token;  // a valid one, bound to the predictor role
};

World MakeWorld(int tokens, int bindings) {
  World w;
  w.store = *store::SqliteStore::Open({.path = ":memory:"});
  w.access = *AccessControl::Create({.store = w.store.get(), .refresh_interval = absl::ZeroDuration()});
  const Principal admin{{SubjectKind::kUser, "admin"}, ""};
  for (int i = 0; i < bindings; ++i) {
    (void)w.access->PutBinding({absl::StrCat("b", i), absl::StrCat("team-", i), "viewer",
                                {{SubjectKind::kUser, absl::StrCat("user-", i)}}});
  }
  (void)w.access->PutBinding({"caller", "", "predictor", {{SubjectKind::kServiceAccount, "caller"}}});
  for (int i = 1; i < tokens; ++i) (void)w.access->CreateToken({.subject = {SubjectKind::kUser, absl::StrCat("u", i)}}, admin);
  w.token = w.access->CreateToken({.subject = {SubjectKind::kServiceAccount, "caller"}}, admin)->token;
  return w;
}

void BM_AuthenticateValidToken(benchmark::State& state) {
  World w = MakeWorld(static_cast<int>(state.range(0)), 1);
  const std::string header = "Bearer " + w.token;
  for (auto _ : state) benchmark::DoNotOptimize(w.access->Authenticate(header, "127.0.0.1"));
}
BENCHMARK(BM_AuthenticateValidToken)->Arg(1)->Arg(1000);

void BM_AuthorizePredict(benchmark::State& state) {
  World w = MakeWorld(1, static_cast<int>(state.range(0)));
  const Principal caller{{SubjectKind::kServiceAccount, "caller"}, ""};
  for (auto _ : state) benchmark::DoNotOptimize(w.access->Authorize(caller, "default", "predictions", "predict"));
}
BENCHMARK(BM_AuthorizePredict)->Arg(1)->Arg(100);

// The whole gate, as the HTTP server and the gRPC endpoint call it for an inference request.
void BM_RequestGateCheck(benchmark::State& state) {
  World w = MakeWorld(100, 10);
  RequestAuthorizer gate({.access = w.access.get(), .audit = nullptr, .open_resources = {"health", "metrics"}});
  const std::string header = "Bearer " + w.token;
  const http::GateRequest request{.resource = "predictions", .verb = "predict", .namespace_name = "default",
                                  .authorization = header, .client_address = "127.0.0.1", .method = "POST",
                                  .target = "/v2/models/m/infer"};
  for (auto _ : state) benchmark::DoNotOptimize(gate.Check(request));
}
BENCHMARK(BM_RequestGateCheck);

}  // namespace
}  // namespace meridian::auth

BENCHMARK_MAIN();
