#include "http/url.h"

#include "gtest/gtest.h"

namespace meridian::http {
namespace {

TEST(UrlTest, ParsesSchemesHostsPortsAndPaths) {
  auto a = ParseUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->https);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(a->path, "");

  auto b = ParseUrl("https://meridian.example.com/base/");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->https);
  EXPECT_EQ(b->port, 443);
  EXPECT_EQ(b->path, "/base");

  auto c = ParseUrl("http://[::1]:9000");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 9000);
}

TEST(UrlTest, RejectsBadUrls) {
  for (const char* bad : {"127.0.0.1:8080", "ftp://x", "http://", "http://:80", "http://h:0",
                          "http://h:99999", "http://h:port", "http://user:pw@h", "http://[::1"}) {
    EXPECT_FALSE(ParseUrl(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace meridian::http
