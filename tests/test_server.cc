#include "tests/test_server.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace meridian::testing {

std::string FreshTestDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("meridian-test-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

TestServer::TestServer(const std::string& work_dir, const std::string& data_dir, std::vector<std::string> extra,
                       std::map<std::string, std::string> env) {
  std::vector<std::string> args = {MeridianBinary(), "serve", "--port", "0", "--grpc-port", "0", "--log-format", "json",
                                   "--data-dir", data_dir};
  // Tests of other features run without tokens; security tests turn it on with "--auth", "true".
  if (std::find(extra.begin(), extra.end(), "--auth") == extra.end()) {
    args.insert(args.end(), {"--auth", "false"});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  child_ = std::make_unique<ChildProcess>(args, env, work_dir);
}

TestServer::~TestServer() {
  if (!::testing::Test::HasFailure()) return;
  constexpr size_t kTailLines = 60;
  std::vector<std::string> lines = absl::StrSplit(child_->Stderr(), '\n', absl::SkipEmpty());
  const size_t first = lines.size() > kTailLines ? lines.size() - kTailLines : 0;
  const std::optional<int> exit_status = child_->Wait(std::chrono::milliseconds(0));
  std::cerr << "--- the server's log (pid " << child_->pid() << ", "
            << (exit_status ? "exited with status " + std::to_string(*exit_status) : std::string("still running"))
            << "), last " << lines.size() - first << " of " << lines.size() << " lines ---\n"
            << absl::StrJoin(lines.begin() + static_cast<std::ptrdiff_t>(first), lines.end(), "\n")
            << "\n--- end of the server's log ---" << std::endl;
}

uint16_t TestServer::WaitUntilStarted() {
  for (int i = 0; i < 1000; ++i) {
    for (absl::string_view line : absl::StrSplit(child_->Stderr(), '\n')) {
      rapidjson::Document doc;
      doc.Parse(line.data(), line.size());
      if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("msg") &&
          std::string(doc["msg"].GetString()) == "meridian started") {
        port_ = static_cast<uint16_t>(doc["port"].GetInt());
        grpc_port_ = static_cast<uint16_t>(doc["grpc_port"].GetInt());
        return port_;
      }
    }
    if (child_->Wait(std::chrono::milliseconds(10)).has_value()) return 0;
  }
  return 0;
}

}  // namespace meridian::testing
