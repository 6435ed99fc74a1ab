#pragma once

// Propagation macros for absl::Status and absl::StatusOr, the error convention of the whole code
// base (see ARCHITECTURE.md: our code does not throw).

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MERIDIAN_STATUS_CONCAT_INNER(a, b) a##b
#define MERIDIAN_STATUS_CONCAT(a, b) MERIDIAN_STATUS_CONCAT_INNER(a, b)

// Returns the status of `expr` from the enclosing function when it is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status meridian_status_ = (expr);          \
    if (!meridian_status_.ok()) return meridian_status_; \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, otherwise moves the value
// into `lhs`, which may be a declaration such as `auto x` or an existing variable.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  MERIDIAN_ASSIGN_OR_RETURN_IMPL(MERIDIAN_STATUS_CONCAT(meridian_statusor_, __LINE__), lhs, rexpr)

#define MERIDIAN_ASSIGN_OR_RETURN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = std::move(statusor).value()
