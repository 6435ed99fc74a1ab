#include "common/memory_limits.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace meridian {
namespace {

std::optional<std::string> ReadSmallFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace

uint64_t AllocatedResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0, file_backed_pages = 0;  // "shared": file-backed and shmem
  if (!(statm >> size_pages >> resident_pages >> file_backed_pages)) return 0;
  const uint64_t anonymous_pages = resident_pages > file_backed_pages ? resident_pages - file_backed_pages : 0;
  return anonymous_pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

std::optional<uint64_t> ParseCgroupMemoryLimit(absl::string_view content) {
  content = absl::StripAsciiWhitespace(content);
  uint64_t bytes = 0;
  if (content == "max" || !absl::SimpleAtoi(content, &bytes)) return std::nullopt;
  if (bytes >= (uint64_t{1} << 62)) return std::nullopt;  // cgroup v1's "unlimited"
  return bytes;
}

uint64_t MemoryLimitBytes() {
  const uint64_t physical = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    if (std::optional<std::string> content = ReadSmallFile(path)) {
      if (std::optional<uint64_t> limit = ParseCgroupMemoryLimit(*content)) return std::min(*limit, physical);
    }
  }
  return physical;
}

}  // namespace meridian
