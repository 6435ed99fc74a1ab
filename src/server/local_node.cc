#include "server/local_node.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "common/cpu_limits.h"
#include "common/memory_limits.h"

namespace meridian::server {
namespace {

int CountNvidiaDevices() {
  int count = 0;
  std::error_code ec;
  static const std::regex kDevice("nvidia[0-9]+");
  for (const auto& entry : std::filesystem::directory_iterator("/dev", ec)) {
    if (std::regex_match(entry.path().filename().string(), kDevice)) ++count;
  }
  return count;
}

}  // namespace

scheduler::NodeSpec DescribeLocalNode(const LocalNodeOptions& options) {
  const int gpus = options.gpus;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof(host), "localhost");
  utsname uts{};
  uname(&uts);
  std::string arch = uts.machine;
  if (arch == "x86_64") arch = "amd64";
  if (arch == "aarch64") arch = "arm64";
  scheduler::NodeSpec node{.name = host,
                           .cpu_milli = options.cpus > 0 ? static_cast<int64_t>(options.cpus * 1000)
                                                         : int64_t{AvailableCpus()} * 1000,
                           .memory_bytes = static_cast<int64_t>(options.memory_bytes > 0 ? options.memory_bytes
                                                                                          : MemoryLimitBytes()),
                           .gpu_count = gpus >= 0 ? gpus : CountNvidiaDevices(),
                           .labels = {{"kubernetes.io/hostname", host},
                                      {"kubernetes.io/os", "linux"},
                                      {"kubernetes.io/arch", arch}}};
  if (node.gpu_count > 0) node.gpu_model = "nvidia";
  return node;
}

}  // namespace meridian::server
