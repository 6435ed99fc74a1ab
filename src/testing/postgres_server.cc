#include "testing/postgres_server.h"
#include "testing/free_port.h"

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <pqxx/pqxx>
#include <random>

#include "absl/strings/str_cat.h"

namespace meridian::testing {
namespace {

namespace fs = std::filesystem;


std::string FindBinDir() {
  std::string best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = entry.path() / "bin";
    if (fs::exists(bin / "initdb") && bin.string() > best) best = bin.string();
  }
  return best;
}

int Run(const std::string& command) { return std::system(command.c_str()); }

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  const std::string bin = FindBinDir();
  if (bin.empty()) {
    return absl::FailedPreconditionError(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); run scripts/setup");
  }
  std::random_device rd;
  const std::string dir = absl::StrCat("/tmp/meridian-pg-", getpid(), "-", rd() % 1000000);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string run_as;
  if (geteuid() == 0) {
    passwd* pw = getpwnam("postgres");
    if (pw == nullptr) return absl::FailedPreconditionError("running as root needs the postgres user to exist");
    if (chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) return absl::InternalError("cannot chown " + dir);
    run_as = "runuser -u postgres -- ";
  }
  const int port = FreePort();
  auto server = std::unique_ptr<PostgresServer>(new PostgresServer(dir, bin, run_as, port));
  const std::string initdb = absl::StrCat(run_as, bin, "/initdb -D ", dir, "/data -U meridian -A trust -E UTF8 --no-sync > ",
                                          dir, "/initdb.log 2>&1");
  if (Run(initdb) != 0) return absl::InternalError(absl::StrCat("initdb failed; see ", dir, "/initdb.log"));
  const std::string start = absl::StrCat(
      run_as, bin, "/pg_ctl -D ", dir, "/data -l ", dir, "/server.log -w -t 30 -o \"-c listen_addresses=127.0.0.1 -p ",
      port, " -k ", dir, " -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start > /dev/null 2>&1");
  if (Run(start) != 0) return absl::InternalError(absl::StrCat("pg_ctl start failed; see ", dir, "/server.log"));
  return server;
}

PostgresServer::~PostgresServer() {
  Run(absl::StrCat(run_as_, bin_, "/pg_ctl -D ", dir_, "/data -m immediate -w stop > /dev/null 2>&1"));
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase(const std::string& name) {
  const std::string base = absl::StrCat("postgresql://meridian@127.0.0.1:", port_, "/");
  try {
    pqxx::connection admin(base + "postgres");
    pqxx::nontransaction tx(admin);
    tx.exec0("CREATE DATABASE " + tx.quote_name(name));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot create database ", name, ": ", e.what()));
  }
  return base + name;
}

}  // namespace meridian::testing
