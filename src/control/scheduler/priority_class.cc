#include "control/scheduler/priority_class.h"

#include "absl/strings/str_cat.h"

namespace meridian::scheduler {

PriorityClasses::PriorityClasses() {
  classes_["system-cluster-critical"] = {"system-cluster-critical", 2000000000, false, true};
  classes_["system-node-critical"] = {"system-node-critical", 2000001000, false, true};
}

absl::Status PriorityClasses::Add(const PriorityClass& pc) {
  if (pc.name.empty()) return absl::InvalidArgumentError("a priority class needs a name");
  if (pc.name.rfind("system-", 0) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("priority class ", pc.name, ": the system- prefix is reserved"));
  }
  if (pc.value > kHighestUserPriority) {
    return absl::InvalidArgumentError(absl::StrCat("priority class ", pc.name, ": value ", pc.value,
                                                   " is above the highest user priority ", kHighestUserPriority));
  }
  if (classes_.count(pc.name) > 0) {
    return absl::AlreadyExistsError(absl::StrCat("priority class ", pc.name, " already exists"));
  }
  if (pc.global_default) {
    for (const auto& [name, existing] : classes_) {
      if (existing.global_default) {
        return absl::InvalidArgumentError(
            absl::StrCat("priority class ", pc.name, ": ", name, " is already the global default"));
      }
    }
  }
  classes_[pc.name] = pc;
  return absl::OkStatus();
}

absl::StatusOr<PriorityClass> PriorityClasses::Find(const std::string& name) const {
  if (name.empty()) {
    for (const auto& [n, pc] : classes_) {
      if (pc.global_default) return pc;
    }
    return PriorityClass{.name = "", .value = 0};
  }
  auto it = classes_.find(name);
  if (it == classes_.end()) return absl::NotFoundError(absl::StrCat("no priority class named ", name));
  return it->second;
}

absl::StatusOr<int32_t> PriorityClasses::Resolve(const std::string& name) const {
  auto pc = Find(name);
  if (!pc.ok()) return pc.status();
  return pc->value;
}

}  // namespace meridian::scheduler
