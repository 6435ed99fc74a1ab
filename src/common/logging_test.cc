#include "common/logging.h"
#include "common/json.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace meridian::log {
namespace {

TEST(LoggingTest, JsonRecordIsValidJsonWithTypedFields) {
  std::string body = Render(Format::kJson, "request \"done\"\n",
                            {{"path", "/a b"}, {"status", 200}, {"ok", true}, {"ms", 1.5},
                             {"bad", std::nan("")}});
  rapidjson::Document doc;
  doc.Parse(("{" + body + "}").c_str());
  ASSERT_FALSE(doc.HasParseError()) << body;
  EXPECT_STREQ(doc["msg"].GetString(), "request \"done\"\n");
  EXPECT_STREQ(doc["path"].GetString(), "/a b");
  EXPECT_EQ(doc["status"].GetInt(), 200);
  EXPECT_TRUE(doc["ok"].GetBool());
  EXPECT_DOUBLE_EQ(doc["ms"].GetDouble(), 1.5);
  EXPECT_TRUE(doc["bad"].IsString());
}

TEST(LoggingTest, TextRecordQuotesOnlyWhenNeeded) {
  EXPECT_EQ(Render(Format::kText, "started", {{"port", 8080}, {"host", "127.0.0.1"}, {"s", "a b"}}),
            "started port=8080 host=127.0.0.1 s=\"a b\"");
}

TEST(LoggingTest, ParsesNames) {
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_FALSE(ParseFormat("xml").ok());
  EXPECT_EQ(*ParseLevel("warn"), Level::kWarn);
  EXPECT_THAT(std::string(ParseLevel("loud").status().message()), ::testing::HasSubstr("loud"));
}

TEST(LoggingTest, WritesJsonLinesToAFile) {
  std::string path = ::testing::TempDir() + "/meridian_logging_test.log";
  std::remove(path.c_str());
  ASSERT_TRUE(Init({.format = Format::kJson, .level = Level::kInfo, .file = path}).ok());
  Debug("hidden");
  Info("shown", {{"k", "v"}});
  Flush();
  FILE* f = std::fopen(path.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char line[512] = {};
  ASSERT_NE(std::fgets(line, sizeof(line), f), nullptr);
  std::fclose(f);
  rapidjson::Document doc;
  doc.Parse(line);
  ASSERT_FALSE(doc.HasParseError()) << line;
  EXPECT_STREQ(doc["level"].GetString(), "info");
  EXPECT_STREQ(doc["msg"].GetString(), "shown");
  EXPECT_STREQ(doc["k"].GetString(), "v");
  EXPECT_TRUE(doc.HasMember("time"));
  ASSERT_TRUE(Init({}).ok());
}

}  // namespace
}  // namespace meridian::log

namespace meridian {
namespace {

TEST(ParseUntrustedJsonTest, RefusesDeepNestingAndExplainsBadJson) {
  rapidjson::Document doc;
  EXPECT_TRUE(ParseUntrustedJson(R"({"a":[1,{"b":"[[[["}]})", doc).ok());  // brackets in strings do not count
  EXPECT_TRUE(doc.IsObject());
  const absl::Status deep = ParseUntrustedJson(std::string(100000, '['), doc);
  EXPECT_EQ(deep.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(deep.message(), "JSON nests deeper than 64 levels");
  EXPECT_TRUE(doc.IsNull()) << "a refused document is not half kept";
  std::string objects;
  for (int i = 0; i < 65; ++i) objects += R"({"a":)";
  objects += "1" + std::string(65, '}');
  EXPECT_EQ(ParseUntrustedJson(objects, doc).message(), "JSON nests deeper than 64 levels");
  EXPECT_TRUE(ParseUntrustedJson(objects.substr(5, objects.size() - 6), doc).ok()) << "64 levels are fine";
  EXPECT_TRUE(ParseUntrustedJson(std::string(64, '[') + std::string(64, ']'), doc).ok());
  const absl::Status bad = ParseUntrustedJson(R"({"a":})", doc);
  EXPECT_NE(bad.message().find("not valid JSON"), std::string::npos) << bad;
  EXPECT_NE(bad.message().find("offset 5"), std::string::npos) << bad;
  EXPECT_TRUE(ParseUntrustedJson(R"(["\"[[["])", doc).ok());  // an escaped quote stays inside the string
}

}  // namespace
}  // namespace meridian
