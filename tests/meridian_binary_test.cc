// End-to-end tests of the `meridian` binary: command line, configuration precedence and errors,
// serving health and metrics, and shutdown on signals.

#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "boost/asio/ip/tcp.hpp"
#include "common/blas_kernels.h"
#include "common/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_client.h"
#include "rapidjson/document.h"
#include "tests/child_process.h"
#include "tests/test_server.h"
#include "testing/raw_connection.h"

namespace meridian {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::ChildProcess;
using testing::MeridianBinary;
using testing::RunMeridian;
using namespace std::chrono_literals;

std::string FreshDir(const std::string& name) { return testing::FreshTestDir("e2e-" + name); }

std::string WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
  return path;
}

// A `meridian serve` child on a free port with JSON logs, its data in DIR/data.
class Server : public testing::TestServer {
 public:
  explicit Server(const std::string& dir) : TestServer(dir, dir + "/data") {}
};

std::unique_ptr<http::HttpClient> ClientFor(uint16_t port) {
  return *http::HttpClient::Create("http://127.0.0.1:" + std::to_string(port));
}

TEST(MeridianBinaryTest, VersionPrintsBuildDetails) {
  auto r = RunMeridian({"version"});
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_THAT(r.out, AllOf(HasSubstr("meridian 0.1.0"), HasSubstr("commit:"), HasSubstr("build type:"),
                           HasSubstr("blas:"), HasSubstr("backends:")));
}

TEST(MeridianBinaryTest, HelpListsCommandsAndEveryServeOptionWithItsDefault) {
  auto top = RunMeridian({"--help"});
  EXPECT_EQ(top.exit_status, 0);
  EXPECT_THAT(top.out, AllOf(HasSubstr("serve"), HasSubstr("version"), HasSubstr("health")));

  auto serve = RunMeridian({"serve", "--help"});
  EXPECT_EQ(serve.exit_status, 0);
  EXPECT_THAT(serve.out, HasSubstr("--config FILE"));
  for (const ConfigOption& option : ConfigOptions()) {
    EXPECT_THAT(serve.out, HasSubstr("--" + option.flag + " " + option.value_name));
    EXPECT_THAT(serve.out, HasSubstr("(default: " + (option.default_value.empty() ? std::string("none")
                                                                                  : option.default_value)));
    EXPECT_THAT(serve.out, HasSubstr(EnvVarName(option.key)));
  }
}

TEST(MeridianBinaryTest, UsageErrorsExitWith2) {
  EXPECT_EQ(RunMeridian({}).exit_status, 2);
  EXPECT_EQ(RunMeridian({"frobnicate"}).exit_status, 2);
  auto r = RunMeridian({"serve", "--no-such-flag"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_THAT(r.err, HasSubstr("--no-such-flag"));
}

TEST(MeridianBinaryTest, ServesHealthAndMetricsThenExitsCleanlyOnSigterm) {
  const std::string dir = FreshDir("serve");
  Server server(dir);
  const uint16_t port = server.WaitUntilStarted();
  ASSERT_NE(port, 0) << server.child().Stderr();
  auto client = ClientFor(port);
  for (const char* path : {"/health", "/health/live", "/health/ready", "/v2/health/live", "/v2/health/ready"}) {
    auto r = client->Get(path);
    ASSERT_TRUE(r.ok()) << path << ": " << r.status();
    EXPECT_EQ(r->status, 200) << path;
  }
  EXPECT_EQ(client->Get("/v2/health/ready")->body, R"({"ready":true})");
  auto metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_THAT(*metrics->Header("Content-Type"), HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(metrics->body,
              AllOf(HasSubstr("process_resident_memory_bytes "), HasSubstr("process_cpu_seconds_total "),
                    HasSubstr("process_open_fds "), HasSubstr("process_start_time_seconds "),
                    HasSubstr(R"(meridian_http_requests_total{code="200",method="GET",route="/health/ready"} 1)"),
                    HasSubstr("meridian_http_request_duration_seconds_bucket"),
                    HasSubstr("meridian_build_info{")));
  EXPECT_TRUE(std::filesystem::exists(dir + "/data/meridian.lock"));

  server.child().Signal(SIGTERM);
  auto status = server.child().Wait(10s);
  ASSERT_TRUE(status.has_value()) << "did not exit after SIGTERM";
  EXPECT_EQ(*status, 0);
  EXPECT_THAT(server.child().Stderr(), HasSubstr("shutdown complete"));
}

TEST(MeridianBinaryTest, ConnectionsPastTheLimitAreRefusedOnEitherPortAndCounted) {
  const std::string dir = FreshDir("connection-limit");
  testing::TestServer server(dir, dir + "/data", {"--max-connections", "2"});
  const uint16_t port = server.WaitUntilStarted();
  ASSERT_NE(port, 0) << server.child().Stderr();
  const uint16_t grpc_port =
      static_cast<uint16_t>(std::stoi(std::string(absl::StripPrefix(server.grpc_target(), "127.0.0.1:"))));
  // One keep-alive HTTP connection, answered; one HTTP/2 connection (gRPC's port), whose SETTINGS
  // came back: both places taken.
  testing::RawConnection http(port);
  ASSERT_TRUE(http.Send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_THAT(http.ReadUntil("\r\n\r\n"), HasSubstr("200 OK"));
  auto grpc = std::make_unique<testing::RawConnection>(grpc_port);
  ASSERT_TRUE(grpc->Send(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string("\0\0\0\4\0\0\0\0\0", 9)));
  ASSERT_FALSE(grpc->ReadUntil(std::string("\4\0\0\0\0\0", 6)).empty());  // the server's SETTINGS

  for (uint16_t refused_port : {port, grpc_port}) {
    testing::RawConnection third(refused_port);
    EXPECT_TRUE(third.ClosedByPeerWithin(10s)) << refused_port;
  }

  // The gRPC connection goes: its place is free for the next client (here, a scrape, which finds
  // the HTTP connection still open beside it).
  grpc.reset();
  absl::StatusOr<http::ClientResponse> metrics;
  for (int attempt = 0; attempt < 100; ++attempt) {
    metrics = ClientFor(port)->Get("/metrics");
    if (metrics.ok()) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(metrics->body, AllOf(HasSubstr("http_connections_max 2"), HasSubstr("http_connections_open 2"),
                                   HasSubstr("http_connections_refused_total ")));
  EXPECT_THAT(metrics->body, ::testing::Not(HasSubstr("http_connections_refused_total 0")));
  EXPECT_THAT(server.child().Stderr(), AllOf(HasSubstr("connection limit"), HasSubstr("--max-connections")));
}

TEST(MeridianBinaryTest, TheDefaultConnectionLimitIsThreeQuartersOfTheOpenFileLimit) {
  const std::string dir = FreshDir("connection-limit-default");
  Server server(dir);
  const uint16_t port = server.WaitUntilStarted();
  ASSERT_NE(port, 0) << server.child().Stderr();
  rlimit files{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &files), 0);  // `meridian serve` raises its soft limit to this
  const uint64_t open_files = files.rlim_max == RLIM_INFINITY ? uint64_t{1} << 40 : files.rlim_max;  // as capped
  auto metrics = ClientFor(port)->Get("/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(metrics->body, HasSubstr("http_connections_max " + std::to_string(open_files / 4 * 3) + "\n"));
}

TEST(MeridianBinaryTest, SigintAlsoShutsDownGracefully) {
  Server server(FreshDir("sigint"));
  ASSERT_NE(server.WaitUntilStarted(), 0);
  server.child().Signal(SIGINT);
  EXPECT_EQ(server.child().Wait(10s), 0);
}

TEST(MeridianBinaryTest, JsonLogsAreOneJsonObjectPerLine) {
  Server server(FreshDir("jsonlogs"));
  const uint16_t port = server.WaitUntilStarted();
  ASSERT_NE(port, 0);
  ASSERT_TRUE(ClientFor(port)->Get("/missing?x=\"quoted\"").ok());
  server.child().Signal(SIGTERM);
  ASSERT_EQ(server.child().Wait(10s), 0);
  int lines = 0;
  bool saw_access_line = false;
  for (absl::string_view line : absl::StrSplit(server.child().Stderr(), '\n', absl::SkipEmpty())) {
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    ASSERT_FALSE(doc.HasParseError()) << line;
    EXPECT_TRUE(doc.HasMember("time") && doc.HasMember("level") && doc.HasMember("msg")) << line;
    if (std::string(doc["msg"].GetString()) == "http request") {
      saw_access_line = true;
      EXPECT_EQ(doc["status"].GetInt(), 404);
      EXPECT_EQ(std::string(doc["route"].GetString()), "unmatched");
    }
    ++lines;
  }
  EXPECT_GE(lines, 3);
  EXPECT_TRUE(saw_access_line);
}

TEST(MeridianBinaryTest, PortInUseExitsWith2AndSaysSo) {
  boost::asio::io_context ctx;
  boost::asio::ip::tcp::acceptor taken(
      ctx, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const std::string port = std::to_string(taken.local_endpoint().port());
  const std::string dir = FreshDir("port-in-use");
  auto r = RunMeridian({"serve", "--port", port, "--grpc-port", "0", "--data-dir", dir + "/data"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("127.0.0.1:" + port), HasSubstr("in use")));
}

TEST(MeridianBinaryTest, ConfigFileErrorsExitWith2NamingKeyAndFile) {
  const std::string dir = FreshDir("config-errors");
  auto missing = RunMeridian({"serve", "--config", dir + "/nope.yaml"});
  EXPECT_EQ(missing.exit_status, 2);
  EXPECT_THAT(missing.err, HasSubstr(dir + "/nope.yaml"));

  const std::string unknown = WriteFile(dir + "/unknown.yaml", "http:\n  prot: 1\n");
  auto r1 = RunMeridian({"serve", "--config", unknown});
  EXPECT_EQ(r1.exit_status, 2);
  EXPECT_THAT(r1.err, AllOf(HasSubstr(unknown), HasSubstr("http.prot")));

  const std::string invalid = WriteFile(dir + "/invalid.yaml", "shutdown:\n  drainTimeout: forever\n");
  auto r2 = RunMeridian({"serve", "--config", invalid});
  EXPECT_EQ(r2.exit_status, 2);
  EXPECT_THAT(r2.err, AllOf(HasSubstr(invalid), HasSubstr("shutdown.drainTimeout"), HasSubstr("forever")));

  const std::string unreadable = WriteFile(dir + "/dir.yaml", "");
  std::filesystem::remove(unreadable);
  std::filesystem::create_directory(unreadable);  // a directory cannot be read as a file
  auto r3 = RunMeridian({"serve", "--config", unreadable});
  EXPECT_EQ(r3.exit_status, 2);
  EXPECT_THAT(r3.err, HasSubstr(unreadable));
}

TEST(MeridianBinaryTest, EnvironmentErrorsExitWith2NamingTheVariable) {
  auto bad = RunMeridian({"serve"}, {{"MERIDIAN_HTTP_PORT", "eighty"}});
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_THAT(bad.err, AllOf(HasSubstr("MERIDIAN_HTTP_PORT"), HasSubstr("eighty")));
  auto unknown = RunMeridian({"serve"}, {{"MERIDIAN_HTTP_PROT", "1"}});
  EXPECT_EQ(unknown.exit_status, 2);
  EXPECT_THAT(unknown.err, HasSubstr("MERIDIAN_HTTP_PROT"));
}

TEST(MeridianBinaryTest, FlagsOverrideEnvironmentWhichOverridesTheFile) {
  const std::string dir = FreshDir("precedence");
  // The file asks for a port that is taken and text logs; the environment moves to a free port
  // (port 0), so starting at all proves env beat the file; the flag's JSON logs beat env's text.
  boost::asio::io_context ctx;
  boost::asio::ip::tcp::acceptor taken(
      ctx, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const std::string config = WriteFile(
      dir + "/meridian.yaml",
      "http:\n  port: " + std::to_string(taken.local_endpoint().port()) + "\nlog:\n  format: text\n");
  ChildProcess child({MeridianBinary(), "serve", "--config", config, "--log-format", "json",
                      "--data-dir", dir + "/data"},
                     {{"MERIDIAN_HTTP_PORT", "0"}, {"MERIDIAN_LOG_FORMAT", "text"}}, dir);
  std::string err;
  for (int i = 0; i < 500 && err.find("meridian started") == std::string::npos; ++i) {
    std::this_thread::sleep_for(10ms);
    err = child.Stderr();
  }
  EXPECT_THAT(err, HasSubstr(R"("msg":"meridian started")"));
  child.Signal(SIGTERM);
  EXPECT_EQ(child.Wait(10s), 0);
}

// The kernels a server's startup log names ("blas_kernels"); empty when it did not start.
std::string StartedServersBlasKernels(const std::string& name, std::map<std::string, std::string> env = {}) {
  const std::string dir = FreshDir(name);
  testing::TestServer server(dir, dir + "/data", {}, std::move(env));
  if (server.WaitUntilStarted() == 0) return "";
  const std::string err = server.child().Stderr();
  server.child().Signal(SIGTERM);
  EXPECT_EQ(server.child().Wait(10s), 0);
  const std::string key = R"("blas_kernels":")";
  const size_t at = err.find(key);
  if (at == std::string::npos) return "";
  return err.substr(at + key.size(), err.find('"', at + key.size()) - at - key.size());
}

// common/blas_kernels.h: where OpenBLAS does not recognise the CPU and falls back to its generic
// kernels, the server restarts itself once with the kernels the CPU's vector units run. The
// startup log names the kernels in use. (On a CPU that OpenBLAS recognises this passes either
// way; on one it does not, such as Intel's Emerald Rapids, it fails without the restart.)
TEST(MeridianBinaryTest, TheServerRunsOpenBlasKernelsForItsCpuNotTheGenericFallback) {
  unsetenv("OPENBLAS_CORETYPE");  // the servers started here inherit this process's environment
  const std::string kernels = StartedServersBlasKernels("blas-kernels");
  ASSERT_NE(kernels, "");
  EXPECT_NE(kernels, "none loaded");
  if (DetectCpuVectorFeatures().avx2_fma) {
    EXPECT_FALSE(absl::StartsWithIgnoreCase(kernels, "prescott")) << kernels;
  }
  // `meridian version` names the kernels the server runs (for a peer benchmarked against it).
  auto version = RunMeridian({"version"});
  EXPECT_THAT(version.out, HasSubstr("blas:       OpenBLAS, " + kernels.substr(0, kernels.find(' ')) + " kernels"));
}

TEST(MeridianBinaryTest, KernelsTheUserChoseAreKeptEvenTheGenericOnes) {
  unsetenv("OPENBLAS_CORETYPE");
  EXPECT_EQ(StartedServersBlasKernels("blas-user-choice", {{"OPENBLAS_CORETYPE", "Prescott"}}),
            "Prescott (OPENBLAS_CORETYPE=Prescott)");
}

TEST(MeridianBinaryTest, SecondServerOnTheSameDataDirIsRefused) {
  const std::string dir = FreshDir("data-dir-lock");
  Server first(dir);
  ASSERT_NE(first.WaitUntilStarted(), 0);
  auto second = RunMeridian({"serve", "--port", "0", "--grpc-port", "0", "--data-dir", dir + "/data"});
  EXPECT_EQ(second.exit_status, 2);
  EXPECT_THAT(second.err, HasSubstr("in use by another meridian process"));
  first.child().Signal(SIGTERM);
  EXPECT_EQ(first.child().Wait(10s), 0);
}

TEST(MeridianBinaryTest, HealthCommandFindsTheServerFromFlagOrEnvironment) {
  Server server(FreshDir("health-cmd"));
  const uint16_t port = server.WaitUntilStarted();
  ASSERT_NE(port, 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto by_env = RunMeridian({"health"}, {{"MERIDIAN_SERVER", url}});
  EXPECT_EQ(by_env.exit_status, 0) << by_env.err;
  EXPECT_THAT(by_env.out, HasSubstr(R"("ready":true)"));
  auto by_flag = RunMeridian({"health", "--server", url}, {{"MERIDIAN_SERVER", "http://127.0.0.1:1"}});
  EXPECT_EQ(by_flag.exit_status, 0) << by_flag.err;

  auto unreachable = RunMeridian({"health", "--server", "http://127.0.0.1:1"});
  EXPECT_EQ(unreachable.exit_status, 1);
  EXPECT_THAT(unreachable.err, HasSubstr("cannot connect to http://127.0.0.1:1"));
  auto bad_url = RunMeridian({"health", "--server", "127.0.0.1:8080"});
  EXPECT_EQ(bad_url.exit_status, 2);
  EXPECT_THAT(bad_url.err, HasSubstr("http://"));
  server.child().Signal(SIGTERM);
  EXPECT_EQ(server.child().Wait(10s), 0);
}

TEST(MeridianBinaryTest, SecurityCommandsUseTheLocalAdminTokenOrTheGivenOne) {
  const std::string dir = FreshDir("security-cmd");
  testing::TestServer server(dir, dir + "/data", {"--auth", "true"});
  const uint16_t port = server.WaitUntilStarted();
  ASSERT_NE(port, 0) << server.child().Stderr();
  const std::map<std::string, std::string> local = {{"MERIDIAN_SERVER", "http://127.0.0.1:" + std::to_string(port)},
                                                    {"MERIDIAN_DATA_DIR", dir + "/data"}};
  // The first start's admin token, from the data directory.
  auto whoami = RunMeridian({"auth", "whoami"}, local);
  EXPECT_EQ(whoami.exit_status, 0) << whoami.err;
  EXPECT_THAT(whoami.out, HasSubstr("user:admin"));

  auto created = RunMeridian({"token", "create", "--subject", "ci", "--service-account", "--expires-in", "1h", "-o",
                              "json"},
                             local);
  ASSERT_EQ(created.exit_status, 0) << created.err;
  rapidjson::Document doc;
  doc.Parse(created.out.c_str());
  ASSERT_TRUE(doc.IsObject() && doc.HasMember("token")) << created.out;
  const std::string ci_token = doc["token"].GetString();
  EXPECT_THAT(server.child().Stderr(), ::testing::Not(HasSubstr(ci_token))) << "secrets never reach the log";

  auto bound = RunMeridian({"rolebinding", "create", "ci-views", "--role", "viewer", "--serviceaccount", "ci", "--cluster"},
                           local);
  EXPECT_EQ(bound.exit_status, 0) << bound.err;
  std::map<std::string, std::string> as_ci = {{"MERIDIAN_SERVER", local.at("MERIDIAN_SERVER")}};
  auto can = RunMeridian({"auth", "can-i", "list", "models", "--token", ci_token}, as_ci);
  EXPECT_EQ(can.exit_status, 0) << can.err;
  EXPECT_THAT(can.out, HasSubstr("yes"));
  auto cannot = RunMeridian({"auth", "can-i", "delete", "models", "--token", ci_token}, as_ci);
  EXPECT_EQ(cannot.exit_status, 1);
  EXPECT_THAT(cannot.err, HasSubstr("models/delete"));

  auto listed = RunMeridian({"token", "list"}, local);
  EXPECT_THAT(listed.out, AllOf(HasSubstr("serviceaccount"), HasSubstr("active")));
  auto revoked = RunMeridian({"token", "revoke", ci_token.substr(4, 12)}, local);
  EXPECT_EQ(revoked.exit_status, 0) << revoked.err;
  auto after = RunMeridian({"model", "list", "--token", ci_token}, as_ci);
  EXPECT_EQ(after.exit_status, 1);
  EXPECT_THAT(after.err, AllOf(HasSubstr("revoked"), HasSubstr("401")));

  // Without any token: the 401 says how to give one.
  auto anonymous = RunMeridian({"model", "list"}, as_ci);
  EXPECT_EQ(anonymous.exit_status, 1);
  EXPECT_THAT(anonymous.err, HasSubstr("MERIDIAN_TOKEN"));
  auto audit = RunMeridian({"audit", "--resource", "tokens"}, local);
  EXPECT_EQ(audit.exit_status, 0) << audit.err;
  EXPECT_THAT(audit.out, AllOf(HasSubstr("create"), HasSubstr("delete")));
  auto generated = RunMeridian({"token", "generate"});
  EXPECT_THAT(generated.out, ::testing::MatchesRegex("mrd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n"));
}

TEST(MeridianBinaryTest, SimAutoscaleWritesTableCsvAndPlotAndRejectsBadInput) {
  const std::string dir = FreshDir("sim");
  auto r = RunMeridian({"sim", "autoscale", "--duration", "2m", "--trace", "step", "--out", dir + "/out"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  for (const char* policy : {"hpa", "kpa", "slo", "step"}) {
    EXPECT_THAT(r.out, HasSubstr(std::string("| step | ") + policy + " |"));
    EXPECT_TRUE(std::filesystem::exists(dir + "/out/step-" + policy + ".csv")) << policy;
  }
  EXPECT_GT(std::filesystem::file_size(dir + "/out/step.png"), 1000u);

  WriteFile(dir + "/trace.csv", "second,rps\n0,10\nnot,a number\n");
  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
           {"--trace", "nope"},
           {"--trace", "csv:" + dir + "/missing.csv"},
           {"--trace", "csv:" + dir + "/trace.csv"},
           {"--policy", "magic"},
           {"--duration", "10s"},
           {"--duration", "soon"},
           {"--base-rps", "-1"},
           {"--peak-rps", "1e9"},
           {"--hpa-target", "0"}}) {
    std::vector<std::string> args = {"sim", "autoscale"};
    args.insert(args.end(), bad.begin(), bad.end());
    auto result = RunMeridian(args);
    EXPECT_EQ(result.exit_status, 2) << bad[0] << " " << bad[1] << ": " << result.err;
    EXPECT_THAT(result.err, HasSubstr("meridian: ")) << bad[0];
  }
}

TEST(MeridianBinaryTest, SimScheduleComparesWithPublishedCurvesAndRejectsBadInput) {
  const std::string dir = FreshDir("sim-schedule");
  WriteFile(dir + "/nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,65536,4,A10\nn1,32000,65536,4,A10\n");
  std::string pods = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n";
  for (int i = 0; i < 12; ++i) pods += "p" + std::to_string(i) + ",2000,1024,1," + (i % 3 ? "1000" : "400") + ",\n";
  WriteFile(dir + "/work.csv", pods);
  // A published curve of 50 % everywhere for fgd on this workload: ours differs, and --max-diff
  // turns that into a failure.
  std::string expected = "workload,sc_policy,tune,seed,total_gpus";
  for (int k = 0; k <= 130; ++k) expected += "," + std::to_string(k);
  expected += "\nwork,06-FGD,1.3,42,8";
  for (int k = 0; k <= 130; ++k) expected += ",50";
  WriteFile(dir + "/expected.csv", expected + "\n");
  auto r = RunMeridian({"sim", "schedule", "--nodes", dir + "/nodes.csv", "--pods", dir + "/work.csv", "--seeds",
                        "42..43", "--expected", dir + "/expected.csv", "--out", dir + "/out"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  for (const char* policy : {"random", "best-fit", "fgd", "fgd-pack", "fgd-lookahead"}) {
    EXPECT_THAT(r.out, HasSubstr(std::string("| work | ") + policy + " |")) << r.out;
  }
  EXPECT_THAT(r.out, HasSubstr("| 50.00 % |"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/out/work-allocation.csv"));
  EXPECT_GT(std::filesystem::file_size(dir + "/out/work-allocation.png"), 1000u);
  auto strict = RunMeridian({"sim", "schedule", "--nodes", dir + "/nodes.csv", "--pods", dir + "/work.csv", "--seeds",
                             "42", "--policy", "fgd", "--expected", dir + "/expected.csv", "--max-diff", "1"});
  EXPECT_EQ(strict.exit_status, 1);
  EXPECT_THAT(strict.err, HasSubstr("above --max-diff"));

  WriteFile(dir + "/bad.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\np0,1,1,2,500,\n");
  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
           {"--pods", dir + "/work.csv"},  // no --nodes
           {"--nodes", dir + "/nodes.csv", "--pods", dir + "/missing.csv"},
           {"--nodes", dir + "/nodes.csv", "--pods", dir + "/bad.csv"},
           {"--nodes", dir + "/nodes.csv", "--pods", dir + "/work.csv", "--policy", "magic"},
           {"--nodes", dir + "/nodes.csv", "--pods", dir + "/work.csv", "--seeds", "9..1"},
           {"--nodes", dir + "/nodes.csv", "--pods", dir + "/work.csv", "--tune", "0"},
           {"--nodes", dir + "/nodes.csv", "--pods", dir + "/work.csv", "--synthetic-nodes", "-5"},
           {"--nodes", dir + "/nodes.csv", "--pods", dir + "/work.csv", "--synthetic-nodes", "99999999"},
           {"--nodes", dir + "/nodes.csv", "--pods", dir + "/work.csv", "--max-pods", "-1"}}) {
    std::vector<std::string> args = {"sim", "schedule"};
    args.insert(args.end(), bad.begin(), bad.end());
    auto result = RunMeridian(args);
    EXPECT_EQ(result.exit_status, 2) << bad.back() << ": " << result.err;
    EXPECT_THAT(result.err, HasSubstr("meridian: ")) << bad.back();
  }
}

}  // namespace
}  // namespace meridian
