#pragma once

// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's pick for port 0), for
// test servers that must be told their port up front.

namespace meridian::testing {

int FreePort();

}  // namespace meridian::testing
