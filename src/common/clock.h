#pragma once

// An injectable source of wall-clock time. Code that needs "now" takes a Clock* so that tests can
// use FakeClock (src/testing/fake_clock.h). Implementations are thread-safe.

#include "absl/time/time.h"

namespace meridian {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The process-wide real clock; never null, never destroyed.
  static Clock* Real();
};

}  // namespace meridian
