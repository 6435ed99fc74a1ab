#pragma once

// A real PostgreSQL server for tests: initdb into a temporary directory, started with pg_ctl on
// 127.0.0.1 and a free port, stopped and removed when this object goes. As root, the server
// runs as the `postgres` user (PostgreSQL refuses to run as root). Needs Debian's `postgresql`
// package, which scripts/setup installs.

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace meridian::testing {

class PostgresServer {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();
  ~PostgresServer();

  // Creates an empty database and returns its libpq URL.
  absl::StatusOr<std::string> CreateDatabase(const std::string& name);
  int port() const { return port_; }

 private:
  PostgresServer(std::string dir, std::string bin, std::string run_as, int port)
      : dir_(std::move(dir)), bin_(std::move(bin)), run_as_(std::move(run_as)), port_(port) {}
  std::string dir_;
  std::string bin_;     // e.g. /usr/lib/postgresql/15/bin
  std::string run_as_;  // "runuser -u postgres -- " when root, else ""
  int port_;
};

}  // namespace meridian::testing
