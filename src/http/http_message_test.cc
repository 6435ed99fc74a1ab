#include "http/http_message.h"

#include "common/status_codes.h"
#include "gtest/gtest.h"

namespace meridian::http {
namespace {

TEST(HttpMessageTest, HeaderLookupIgnoresCase) {
  HttpRequest r;
  r.headers = {{"Content-Type", "application/json"}};
  EXPECT_EQ(*r.Header("content-type"), "application/json");
  EXPECT_FALSE(r.Header("accept").has_value());
}

TEST(HttpMessageTest, QueryParametersAreDecoded) {
  HttpRequest r;
  r.query = "pageSize=10&name=a%20b+c&empty=&flag";
  EXPECT_EQ(*r.QueryParam("pageSize"), "10");
  EXPECT_EQ(*r.QueryParam("name"), "a b c");
  EXPECT_EQ(*r.QueryParam("empty"), "");
  EXPECT_EQ(*r.QueryParam("flag"), "");
  EXPECT_FALSE(r.QueryParam("missing").has_value());
}

TEST(HttpMessageTest, PercentDecode) {
  EXPECT_EQ(*PercentDecode("a%2Fb+c", false), "a/b+c");
  EXPECT_FALSE(PercentDecode("%G1", false).ok());
  EXPECT_FALSE(PercentDecode("abc%2", false).ok());
  EXPECT_FALSE(PercentDecode("%", false).ok());
}

TEST(HttpMessageTest, ErrorBodiesAreJsonWithMappedStatus) {
  HttpResponse r = HttpResponse::Error(absl::NotFoundError("model \"x\" not found"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"error":"model \"x\" not found"})");
  EXPECT_EQ(HttpResponse::Error(PayloadTooLargeError("big")).status, 413);
}

TEST(HttpMessageTest, MethodNames) {
  EXPECT_EQ(*ParseMethod("DELETE"), HttpMethod::kDelete);
  EXPECT_FALSE(ParseMethod("delete").has_value());
  EXPECT_EQ(MethodName(HttpMethod::kPatch), "PATCH");
}

}  // namespace
}  // namespace meridian::http
