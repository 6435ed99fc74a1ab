#include "common/status_codes.h"

#include <string>

#include "absl/strings/numbers.h"

namespace meridian {
namespace {

constexpr absl::string_view kHttpStatusPayload = "meridian.dev/http-status";

absl::Status WithHttpStatus(absl::Status status, int http_status) {
  status.SetPayload(kHttpStatusPayload, absl::Cord(std::to_string(http_status)));
  return status;
}

}  // namespace

int ToHttpStatus(const absl::Status& status) {
  if (auto payload = status.GetPayload(kHttpStatusPayload); payload.has_value()) {
    int code = 0;
    if (absl::SimpleAtoi(std::string(*payload), &code) && code >= 400 && code < 600) return code;
  }
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    // The request is fine but the state forbids it (e.g. deleting a version an alias points
    // at): Kubernetes and most REST APIs answer 409 Conflict.
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kCancelled:
      return 499;  // client closed request (nginx convention); never reaches a live client
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    default:
      return 500;
  }
}

int ToGrpcCode(const absl::Status& status) {
  // absl::StatusCode uses the same numbering as grpc::StatusCode (both follow google.rpc.Code).
  return static_cast<int>(status.code());
}

absl::Status MethodNotAllowedError(absl::string_view message) {
  return WithHttpStatus(absl::InvalidArgumentError(message), 405);
}

absl::Status PayloadTooLargeError(absl::string_view message) {
  return WithHttpStatus(absl::ResourceExhaustedError(message), 413);
}

absl::Status UnsupportedMediaTypeError(absl::string_view message) {
  return WithHttpStatus(absl::InvalidArgumentError(message), 415);
}

absl::Status HeaderFieldsTooLargeError(absl::string_view message) {
  return WithHttpStatus(absl::ResourceExhaustedError(message), 431);
}

}  // namespace meridian
