#pragma once

// Names the calling thread as `top -H`, `ps -L`, perf and debuggers show it. Linux keeps 15 bytes
// of a name; longer names are cut there.

#include <string>

#include "absl/strings/string_view.h"

namespace meridian {

void NameThisThread(absl::string_view name);

// The calling thread's name ("" when it cannot be read).
std::string ThisThreadName();

}  // namespace meridian
