#include "common/allocator.h"

#include <malloc.h>

#include <cstddef>

// jemalloc's control interface; null when the process runs on glibc's malloc.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace meridian {

absl::string_view AllocatorName() { return mallctl != nullptr ? "jemalloc" : "glibc"; }

void ReleaseFreedMemory() {
  if (mallctl != nullptr) {
    // 4096 is MALLCTL_ARENAS_ALL: purge the unused dirty pages of every arena.
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
    return;
  }
  malloc_trim(0);
}

}  // namespace meridian
