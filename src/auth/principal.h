#pragma once

// Who a request comes from, once its token has been checked.

#include <string>

#include "absl/strings/str_cat.h"
#include "auth/rbac.h"

namespace meridian::auth {

struct Principal {
  Subject subject;
  std::string token_id;

  // "user:alice", "serviceaccount:ci": how audit records and version histories name it.
  std::string Name() const {
    return absl::StrCat(subject.kind == SubjectKind::kUser ? "user:" : "serviceaccount:", subject.name);
  }
};

inline constexpr const char* kAnonymous = "anonymous";

}  // namespace meridian::auth
