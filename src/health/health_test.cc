#include "gtest/gtest.h"
#include "health/health_routes.h"
#include "health/health_state.h"

namespace meridian::health {
namespace {

http::HttpResponse Call(const http::Router& router, const std::string& path) {
  http::RouteMatch m = router.Match(http::HttpMethod::kGet, path);
  EXPECT_EQ(m.kind, http::RouteMatch::Kind::kFound) << path;
  http::HttpResponse out;
  m.route->handler(http::HttpRequest{}, http::Responder([&out](http::HttpResponse r) { out = r; }));
  return out;
}

TEST(HealthStateTest, ReadyOnlyWhenEveryComponentIsAndNotDraining) {
  HealthState state;
  EXPECT_TRUE(state.Ready());
  state.AddComponent("store");
  state.AddComponent("models", "loading demo");
  EXPECT_FALSE(state.Ready());
  state.SetReady("store");
  EXPECT_FALSE(state.Ready());
  state.SetReady("models");
  EXPECT_TRUE(state.Ready());
  state.SetNotReady("store", "disk full");
  EXPECT_FALSE(state.Ready());
  state.SetReady("store");
  state.SetDraining();
  EXPECT_FALSE(state.Ready());
  EXPECT_TRUE(state.Live());
}

TEST(HealthStateTest, AnOptionalComponentIsReportedButNeverMakesTheServerUnready) {
  HealthState state;
  state.AddComponent("store");
  state.AddOptionalComponent("responseCache");
  state.SetReady("store");
  state.SetNotReady("responseCache", "Redis at 127.0.0.1:6379 is unavailable");
  EXPECT_TRUE(state.Ready());
  http::Router router;
  ASSERT_TRUE(AddHealthRoutes(&state, router).ok());
  EXPECT_EQ(Call(router, "/health/ready").status, 200);
  EXPECT_NE(Call(router, "/health").body.find(
                R"("responseCache":{"ready":false,"required":false,"reason":"Redis at 127.0.0.1:6379 is unavailable"})"),
            std::string::npos)
      << Call(router, "/health").body;
  state.SetReady("responseCache");
  EXPECT_NE(Call(router, "/health").body.find(R"("responseCache":{"ready":true,"required":false})"), std::string::npos);
  state.SetNotReady("store", "disk full");
  EXPECT_FALSE(state.Ready());
}

TEST(HealthRoutesTest, AnswerWithStatusCodesAndReasons) {
  HealthState state;
  state.AddComponent("store", "opening database");
  http::Router router;
  ASSERT_TRUE(AddHealthRoutes(&state, router).ok());

  EXPECT_EQ(Call(router, "/health/live").status, 200);
  EXPECT_EQ(Call(router, "/v2/health/live").body, R"({"live":true})");
  http::HttpResponse ready = Call(router, "/health/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, R"({"status":"not ready","reasons":["store: opening database"]})");
  EXPECT_EQ(Call(router, "/v2/health/ready").status, 503);
  EXPECT_EQ(Call(router, "/health").status, 200);

  state.SetReady("store");
  EXPECT_EQ(Call(router, "/health/ready").status, 200);
  EXPECT_EQ(Call(router, "/v2/health/ready").body, R"({"ready":true})");

  state.SetDraining();
  EXPECT_EQ(Call(router, "/health/ready").body,
            R"({"status":"not ready","reasons":["shutting down"]})");
  EXPECT_NE(Call(router, "/health").body.find(R"("draining":true)"), std::string::npos);
}

}  // namespace
}  // namespace meridian::health
