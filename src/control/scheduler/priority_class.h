#pragma once

// Priority classes, as Kubernetes' PriorityClass: a name maps to an integer priority; one class
// may be the global default; classes above 1,000,000,000 are reserved for the system ones.

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace meridian::scheduler {

struct PriorityClass {
  std::string name;
  int32_t value = 0;
  bool global_default = false;
  bool preempts = true;  // preemptionPolicy PreemptLowerPriority (false: Never)
};

inline constexpr int32_t kHighestUserPriority = 1000000000;

class PriorityClasses {
 public:
  // Starts with Kubernetes' system-cluster-critical and system-node-critical.
  PriorityClasses();
  absl::Status Add(const PriorityClass& priority_class);
  // The class's value; an empty name is the global default (0 if there is none).
  absl::StatusOr<int32_t> Resolve(const std::string& name) const;
  absl::StatusOr<PriorityClass> Find(const std::string& name) const;

 private:
  std::map<std::string, PriorityClass> classes_;
};

}  // namespace meridian::scheduler
