#include "common/status_codes.h"

#include "common/status_macros.h"
#include "gtest/gtest.h"

namespace meridian {
namespace {

TEST(StatusCodesTest, MapsCanonicalCodesToHttp) {
  EXPECT_EQ(ToHttpStatus(absl::OkStatus()), 200);
  EXPECT_EQ(ToHttpStatus(absl::InvalidArgumentError("x")), 400);
  EXPECT_EQ(ToHttpStatus(absl::UnauthenticatedError("x")), 401);
  EXPECT_EQ(ToHttpStatus(absl::PermissionDeniedError("x")), 403);
  EXPECT_EQ(ToHttpStatus(absl::NotFoundError("x")), 404);
  EXPECT_EQ(ToHttpStatus(absl::AlreadyExistsError("x")), 409);
  EXPECT_EQ(ToHttpStatus(absl::FailedPreconditionError("x")), 409);
  EXPECT_EQ(ToHttpStatus(absl::ResourceExhaustedError("x")), 429);
  EXPECT_EQ(ToHttpStatus(absl::InternalError("x")), 500);
  EXPECT_EQ(ToHttpStatus(absl::UnavailableError("x")), 503);
  EXPECT_EQ(ToHttpStatus(absl::DeadlineExceededError("x")), 504);
}

TEST(StatusCodesTest, HttpOnlyErrorsKeepTheirStatus) {
  EXPECT_EQ(ToHttpStatus(MethodNotAllowedError("x")), 405);
  EXPECT_EQ(ToHttpStatus(PayloadTooLargeError("x")), 413);
  EXPECT_EQ(ToHttpStatus(UnsupportedMediaTypeError("x")), 415);
  EXPECT_EQ(ToHttpStatus(HeaderFieldsTooLargeError("x")), 431);
  EXPECT_EQ(PayloadTooLargeError("too big").message(), "too big");
}

TEST(StatusCodesTest, GrpcCodesFollowGoogleRpcNumbering) {
  EXPECT_EQ(ToGrpcCode(absl::OkStatus()), 0);
  EXPECT_EQ(ToGrpcCode(absl::InvalidArgumentError("x")), 3);
  EXPECT_EQ(ToGrpcCode(absl::NotFoundError("x")), 5);
  EXPECT_EQ(ToGrpcCode(absl::ResourceExhaustedError("x")), 8);
  EXPECT_EQ(ToGrpcCode(absl::UnavailableError("x")), 14);
  EXPECT_EQ(ToGrpcCode(absl::UnauthenticatedError("x")), 16);
}

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int half, Half(x));
  ASSIGN_OR_RETURN(half, Half(half));
  return half;
}

absl::Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, Propagate) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_FALSE(CheckEven(3).ok());
}

}  // namespace
}  // namespace meridian
