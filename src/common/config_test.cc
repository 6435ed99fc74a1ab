#include "common/config.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string WriteFile(const std::string& name, const std::string& content) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << content;
  return path;
}

TEST(ConfigTest, DefaultsMatchTheDocumentedOnes) {
  Config c = DefaultConfig();
  EXPECT_EQ(c.data_dir, "./meridian-data");
  EXPECT_EQ(c.http.host, "127.0.0.1");
  EXPECT_EQ(c.http.port, 8080);
  EXPECT_EQ(c.grpc.port, 8081);
  EXPECT_EQ(c.http.max_header_bytes, 16u * 1024);
  EXPECT_EQ(c.http.read_timeout, absl::Seconds(30));
  EXPECT_EQ(c.log.format, log::Format::kText);
  EXPECT_TRUE(c.http.access_log);
  EXPECT_EQ(c.serving.execute_inline_below, absl::Microseconds(200));
}

TEST(ConfigTest, ExecutingOnTheIoThreadCanBeTurnedOffButNotGivenANegativeLimit) {
  auto off = LoadConfig({.flags = {{"serving.executeInlineBelow", "0s"}}});
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(off->serving.execute_inline_below, absl::ZeroDuration());
  auto negative = LoadConfig({.flags = {{"serving.executeInlineBelow", "-5us"}}});
  ASSERT_FALSE(negative.ok());
  EXPECT_THAT(std::string(negative.status().message()), HasSubstr("--execute-inline-below"));
}

// The header limit reaches parsers that hold it in 32 bits: 4 GiB once wrapped to 0 and every
// request was refused as too large.
TEST(ConfigTest, TheHeaderLimitHasACeiling) {
  auto largest = LoadConfig({.flags = {{"http.maxHeaderBytes", "8MiB"}}});
  ASSERT_TRUE(largest.ok()) << largest.status();
  EXPECT_EQ(largest->http.max_header_bytes, 8u << 20);
  auto huge = LoadConfig({.flags = {{"http.maxHeaderBytes", "4GiB"}}});
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(std::string(huge.status().message()),
              AllOf(HasSubstr("--max-header-bytes"), HasSubstr("at most 8388608 bytes")));
}

TEST(ConfigTest, IoThreadsPollForAShortWhileByDefaultAndAtMostTenMilliseconds) {
  auto defaults = LoadConfig({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->http.io_busy_poll, absl::Microseconds(100));
  auto off = LoadConfig({.flags = {{"http.ioBusyPoll", "0"}}});
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(off->http.io_busy_poll, absl::ZeroDuration());
  auto longest = LoadConfig({.flags = {{"http.ioBusyPoll", "10ms"}}});
  ASSERT_TRUE(longest.ok()) << longest.status();
  EXPECT_EQ(longest->http.io_busy_poll, absl::Milliseconds(10));
  auto too_long = LoadConfig({.flags = {{"http.ioBusyPoll", "1s"}}});
  ASSERT_FALSE(too_long.ok());
  EXPECT_THAT(std::string(too_long.status().message()), AllOf(HasSubstr("--io-busy-poll"), HasSubstr("at most 10ms")));
  for (const char* bad : {"-1us", "soon", "100"}) {
    auto refused = LoadConfig({.flags = {{"http.ioBusyPoll", bad}}});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_THAT(std::string(refused.status().message()), HasSubstr("--io-busy-poll")) << bad;
  }
}

TEST(ConfigTest, TheConnectionLimitIsDerivedByDefaultAndTakesACountFromEachSource) {
  auto defaults = LoadConfig({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->http.max_connections, 0u);  // three quarters of the open-file limit, at startup
  auto from_flag = LoadConfig({.flags = {{"http.maxConnections", "500"}}});
  ASSERT_TRUE(from_flag.ok()) << from_flag.status();
  EXPECT_EQ(from_flag->http.max_connections, 500u);
  auto from_env = LoadConfig({.env = {{"MERIDIAN_HTTP_MAX_CONNECTIONS", "64"}}});
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->http.max_connections, 64u);
  for (const char* bad : {"-1", "many", "1.5", "2000000000"}) {
    auto refused = LoadConfig({.flags = {{"http.maxConnections", bad}}});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_THAT(std::string(refused.status().message()), HasSubstr("--max-connections")) << bad;
  }
}

TEST(ConfigTest, FileThenEnvThenFlags) {
  std::string file = WriteFile("precedence.yaml",
                               "dataDir: /tmp/from-file\n"
                               "http:\n  port: 9000\n  host: 0.0.0.0\n  readTimeout: 5s\n"
                               "log:\n  format: json\n");
  auto c = LoadConfig({.file = file,
                       .env = {{"MERIDIAN_HTTP_PORT", "9001"}, {"PATH", "/bin"},
                               {"MERIDIAN_SERVER", "http://x"}, {"MERIDIAN_DATA_DIR", "/tmp/env"},
                               // read by the TorchScript loader, not a setting, but not an error
                               {"MERIDIAN_TORCHSCRIPT_BACKEND", "/opt/m/libmeridian_backend_torchscript.so"}},
                       .flags = {{"http.port", "9002"}}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->http.port, 9002);          // flag wins
  EXPECT_EQ(c->data_dir, "/tmp/env");     // env beats file
  EXPECT_EQ(c->http.host, "0.0.0.0");     // file beats default
  EXPECT_EQ(c->http.read_timeout, absl::Seconds(5));
  EXPECT_EQ(c->log.format, log::Format::kJson);
  EXPECT_EQ(c->grpc.port, 8081);          // default
}

TEST(ConfigTest, UnknownFileKeyNamesKeyAndFile) {
  std::string file = WriteFile("unknown.yaml", "http:\n  prot: 9000\n");
  auto c = LoadConfig({.file = file});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), AllOf(HasSubstr(file), HasSubstr("\"http.prot\"")));
}

TEST(ConfigTest, InvalidFileValueNamesKeyAndFile) {
  std::string file = WriteFile("invalid.yaml", "http:\n  port: 70000\n");
  auto c = LoadConfig({.file = file});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              AllOf(HasSubstr(file), HasSubstr("\"http.port\""), HasSubstr("out of range")));
}

TEST(ConfigTest, NonScalarValueIsRejected) {
  std::string file = WriteFile("list.yaml", "http:\n  port: [1, 2]\n");
  auto c = LoadConfig({.file = file});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("\"http.port\""));
}

TEST(ConfigTest, MissingOrMalformedFile) {
  auto missing = LoadConfig({.file = "/nonexistent/meridian.yaml"});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/nonexistent/meridian.yaml"));

  std::string bad = WriteFile("bad.yaml", "http: [unclosed\n");
  auto malformed = LoadConfig({.file = bad});
  ASSERT_FALSE(malformed.ok());
  EXPECT_THAT(std::string(malformed.status().message()), AllOf(HasSubstr(bad), HasSubstr("YAML")));

  std::string scalar = WriteFile("scalar.yaml", "just a string\n");
  EXPECT_FALSE(LoadConfig({.file = scalar}).ok());

  std::string empty = WriteFile("empty.yaml", "");
  EXPECT_TRUE(LoadConfig({.file = empty}).ok());
}

TEST(ConfigTest, BadEnvironmentValueNamesVariable) {
  auto c = LoadConfig({.env = {{"MERIDIAN_HTTP_READ_TIMEOUT", "soon"}}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              AllOf(HasSubstr("MERIDIAN_HTTP_READ_TIMEOUT"), HasSubstr("soon")));
}

TEST(ConfigTest, UnknownMeridianEnvironmentVariableIsAnError) {
  auto c = LoadConfig({.env = {{"MERIDIAN_HTTP_PROT", "1"}}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("MERIDIAN_HTTP_PROT"));
}

TEST(ConfigTest, BadFlagNamesFlag) {
  auto c = LoadConfig({.flags = {{"log.format", "xml"}}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("--log-format"));
}

TEST(ConfigTest, TlsFilesMustComeTogether) {
  auto c = LoadConfig({.flags = {{"http.tls.certFile", "/x.pem"}}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("keyFile"));
}

TEST(ConfigTest, EnvVarNames) {
  EXPECT_EQ(EnvVarName("dataDir"), "MERIDIAN_DATA_DIR");
  EXPECT_EQ(EnvVarName("http.tls.certFile"), "MERIDIAN_HTTP_TLS_CERT_FILE");
  EXPECT_EQ(EnvVarName("shutdown.drainTimeout"), "MERIDIAN_SHUTDOWN_DRAIN_TIMEOUT");
}

TEST(ConfigTest, GrpcIdleTimeoutDefaultsToFiveMinutesTakesZeroForNeverAndRefusesTheRest) {
  auto defaults = LoadConfig({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->grpc.idle_timeout, absl::Minutes(5));
  auto never = LoadConfig({.flags = {{"grpc.idleTimeout", "0"}}});
  ASSERT_TRUE(never.ok()) << never.status();
  EXPECT_EQ(never->grpc.idle_timeout, absl::ZeroDuration());
  for (const char* bad : {"-1s", "soon", "30"}) {
    auto refused = LoadConfig({.flags = {{"grpc.idleTimeout", bad}}});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_THAT(std::string(refused.status().message()), HasSubstr("--grpc-idle-timeout")) << bad;
  }
  EXPECT_THAT(std::string(LoadConfig({.flags = {{"grpc.idleTimeout", "-1s"}}}).status().message()),
              HasSubstr("must not be negative"));
}

TEST(ConfigTest, EveryOptionHasAFlagHelpAndAParsableDefault) {
  for (const ConfigOption& option : ConfigOptions()) {
    EXPECT_FALSE(option.flag.empty()) << option.key;
    EXPECT_FALSE(option.help.empty()) << option.key;
    Config c;
    EXPECT_TRUE(option.apply(option.default_value, c).ok()) << option.key;
  }
}

TEST(ConfigTest, ParsesSizesDurationsAndBools) {
  EXPECT_EQ(*ParseByteSize("512"), 512u);
  EXPECT_EQ(*ParseByteSize("16KiB"), 16384u);
  EXPECT_EQ(*ParseByteSize("8 MiB"), 8u << 20);
  EXPECT_EQ(*ParseByteSize("1GB"), 1000000000u);
  EXPECT_FALSE(ParseByteSize("lots").ok());
  EXPECT_FALSE(ParseByteSize("5 parsecs").ok());
  EXPECT_FALSE(ParseByteSize("99999999999GiB").ok());
  EXPECT_EQ(*ParseNonNegativeDuration("1m30s"), absl::Seconds(90));
  EXPECT_FALSE(ParseNonNegativeDuration("-1s").ok());
  EXPECT_FALSE(ParseNonNegativeDuration("30").ok());
  EXPECT_FALSE(ParseNonNegativeDuration("inf").ok());
  EXPECT_TRUE(*ParseBool("yes"));
  EXPECT_FALSE(*ParseBool("False"));
  EXPECT_FALSE(ParseBool("maybe").ok());
}

}  // namespace
}  // namespace meridian
