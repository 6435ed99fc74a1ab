#pragma once

// The one place where an absl::Status maps to an HTTP status code and a gRPC code.
//
// absl's canonical codes cover most cases. A few HTTP answers have no canonical code of their own
// (405, 413, 415, 431); errors for them are made with the helpers below, which attach the HTTP
// status as a payload that ToHttpStatus honours.

#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace meridian {

// HTTP status code for `status` (200 for OK).
int ToHttpStatus(const absl::Status& status);

// gRPC status code (grpc::StatusCode numbering) for `status`.
int ToGrpcCode(const absl::Status& status);

// Errors that only HTTP distinguishes; they map to kInvalidArgument (or kResourceExhausted) for
// gRPC.
absl::Status MethodNotAllowedError(absl::string_view message);         // 405
absl::Status PayloadTooLargeError(absl::string_view message);          // 413
absl::Status UnsupportedMediaTypeError(absl::string_view message);     // 415
absl::Status HeaderFieldsTooLargeError(absl::string_view message);     // 431

}  // namespace meridian
