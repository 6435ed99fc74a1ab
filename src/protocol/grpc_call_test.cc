#include "protocol/grpc_call.h"

#include "api/grpc_predict_v2.pb.h"
#include "gtest/gtest.h"

namespace meridian::protocol {
namespace {

TEST(GrpcTimeoutTest, EveryUnitOfTheHeader) {
  EXPECT_EQ(ParseGrpcTimeout("2H"), absl::Hours(2));
  EXPECT_EQ(ParseGrpcTimeout("3M"), absl::Minutes(3));
  EXPECT_EQ(ParseGrpcTimeout("4S"), absl::Seconds(4));
  EXPECT_EQ(ParseGrpcTimeout("250m"), absl::Milliseconds(250));
  EXPECT_EQ(ParseGrpcTimeout("100u"), absl::Microseconds(100));
  EXPECT_EQ(ParseGrpcTimeout("99999999n"), absl::Nanoseconds(99999999));
  EXPECT_EQ(ParseGrpcTimeout("0m"), absl::ZeroDuration());
}

TEST(GrpcTimeoutTest, MalformedValuesAreRefused) {
  for (const char* value : {"", "S", "10", "1x", "-1S", "+1S", " 1S", "1.5S", "123456789S", "abcS"}) {
    EXPECT_EQ(ParseGrpcTimeout(value), std::nullopt) << value;
  }
}

TEST(GrpcMessageTest, OnlyPrintableAsciiOtherThanPercentIsLeftAsIs) {
  EXPECT_EQ(PercentEncodeGrpcMessage("model \"m\" not found"), "model \"m\" not found");
  EXPECT_EQ(PercentEncodeGrpcMessage("100% done\n"), "100%25 done%0A");
  EXPECT_EQ(PercentEncodeGrpcMessage("caf\xc3\xa9"), "caf%C3%A9");
}

TEST(GrpcFrameTest, APrefixOfFlagAndBigEndianLength) {
  inference::ServerLiveResponse message;
  message.set_live(true);
  const std::string framed = FrameMessage(message);
  ASSERT_EQ(framed.size(), 5 + message.ByteSizeLong());
  EXPECT_EQ(framed.substr(0, 5), std::string("\0\0\0\0\2", 5));
  inference::ServerLiveResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(framed.substr(5)));
  EXPECT_TRUE(parsed.live());
  EXPECT_EQ(FrameMessage(inference::ServerLiveRequest()), std::string(5, '\0'));
}

}  // namespace
}  // namespace meridian::protocol
