#include "http/router.h"

#include "gtest/gtest.h"

namespace meridian::http {
namespace {

Route MakeRoute(HttpMethod method, std::string pattern) {
  return Route{.method = method,
               .pattern = std::move(pattern),
               .resource = "test",
               .verb = "get",
               .handler = Sync([](const HttpRequest&) { return HttpResponse::Json(200, "{}"); })};
}

TEST(RouterTest, MatchesLiteralsAndParameters) {
  Router router;
  ASSERT_TRUE(router.Add(MakeRoute(HttpMethod::kGet, "/v2/models/{name}")).ok());
  ASSERT_TRUE(router.Add(MakeRoute(HttpMethod::kGet, "/v2/models/{name}/versions/{version}")).ok());
  ASSERT_TRUE(router.Add(MakeRoute(HttpMethod::kPost, "/v2/models/{name}/versions/{version}/infer")).ok());

  RouteMatch m = router.Match(HttpMethod::kGet, "/v2/models/resnet/versions/1.0.0");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->pattern, "/v2/models/{name}/versions/{version}");
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>("name", "resnet")));
  EXPECT_EQ(m.params[1], (std::pair<std::string, std::string>("version", "1.0.0")));

  EXPECT_EQ(router.Match(HttpMethod::kGet, "/v2/models").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(HttpMethod::kGet, "/v2/models/").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(HttpMethod::kGet, "/v2/models/a/b").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(HttpMethod::kGet, "/v2/models/a/").kind, RouteMatch::Kind::kNotFound);
}

TEST(RouterTest, LiteralWinsButFallsBackToParameter) {
  Router router;
  ASSERT_TRUE(router.Add(MakeRoute(HttpMethod::kGet, "/m/ready")).ok());
  ASSERT_TRUE(router.Add(MakeRoute(HttpMethod::kGet, "/m/{name}/ready")).ok());
  EXPECT_EQ(router.Match(HttpMethod::kGet, "/m/ready").route->pattern, "/m/ready");
  RouteMatch m = router.Match(HttpMethod::kGet, "/m/ready/ready");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->pattern, "/m/{name}/ready");
  EXPECT_EQ(m.params.at(0).second, "ready");
}

TEST(RouterTest, WrongMethodListsAllowedMethods) {
  Router router;
  ASSERT_TRUE(router.Add(MakeRoute(HttpMethod::kGet, "/things/{id}")).ok());
  ASSERT_TRUE(router.Add(MakeRoute(HttpMethod::kDelete, "/things/{id}")).ok());
  RouteMatch m = router.Match(HttpMethod::kPost, "/things/7");
  EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, DELETE");
}

TEST(RouterTest, RejectsBadRoutes) {
  Router router;
  EXPECT_FALSE(router.Add(MakeRoute(HttpMethod::kGet, "relative")).ok());
  EXPECT_FALSE(router.Add(MakeRoute(HttpMethod::kGet, "/a/{b")).ok());
  Route no_verb = MakeRoute(HttpMethod::kGet, "/x");
  no_verb.verb.clear();
  EXPECT_FALSE(router.Add(no_verb).ok());
  Route no_handler = MakeRoute(HttpMethod::kGet, "/x");
  no_handler.handler = nullptr;
  EXPECT_FALSE(router.Add(no_handler).ok());
  ASSERT_TRUE(router.Add(MakeRoute(HttpMethod::kGet, "/a/{id}")).ok());
  EXPECT_EQ(router.Add(MakeRoute(HttpMethod::kGet, "/a/{id}")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(router.Add(MakeRoute(HttpMethod::kPost, "/a/{name}")).ok());  // renamed parameter
}

}  // namespace
}  // namespace meridian::http
