#pragma once

// A real redis-server for tests, on 127.0.0.1 and a free port, without persistence; stopped when
// this object goes. Stop() and Restart() let a test take Redis away mid-run and bring it back on
// the same port. Needs Debian's `redis-server` package, which scripts/setup installs.

#include <sys/types.h>

#include <memory>

#include "absl/status/statusor.h"

namespace meridian::testing {

class RedisServer {
 public:
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start();
  ~RedisServer();

  int port() const { return port_; }
  void Stop();
  absl::Status Restart();

 private:
  explicit RedisServer(int port) : port_(port) {}
  absl::Status Launch();
  int port_;
  pid_t pid_ = -1;
};

}  // namespace meridian::testing
