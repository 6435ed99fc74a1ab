#pragma once

// A `meridian serve` child process on a free port, for end-to-end tests.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/child_process.h"

namespace meridian::testing {

// An empty directory under the test temp dir, named after `name` (removed first if it exists).
std::string FreshTestDir(const std::string& name);

class TestServer {
 public:
  // Runs `meridian serve --port 0 --grpc-port 0 --log-format json --data-dir DATA_DIR EXTRA...` in `work_dir`,
  // with `--auth false` unless EXTRA sets --auth.
  TestServer(const std::string& work_dir, const std::string& data_dir, std::vector<std::string> extra = {},
             std::map<std::string, std::string> env = {});
  // When the running test has failed, prints the end of the server's log to stderr first: the
  // log file goes with the server, and a CI failure must be diagnosable from the CI log alone.
  ~TestServer();

  // Waits for the "meridian started" log line; returns the HTTP port, or 0 if the server exited
  // or did not start within 10 s.
  uint16_t WaitUntilStarted();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  std::string grpc_target() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  ChildProcess& child() { return *child_; }
  // Whether the server process has exited (crashed, or stopped by the test).
  bool exited() { return child_->Wait(std::chrono::milliseconds(0)).has_value(); }

 private:
  std::unique_ptr<ChildProcess> child_;
  uint16_t port_ = 0;
  uint16_t grpc_port_ = 0;
};

}  // namespace meridian::testing
