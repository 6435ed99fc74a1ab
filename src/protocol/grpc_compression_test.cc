#include "protocol/grpc_compression.h"

#include "gtest/gtest.h"

namespace meridian::protocol {
namespace {

std::string Compress(const std::string& bytes, GrpcEncoding encoding) { return CompressGrpcMessage(encoding, bytes); }

TEST(GrpcCompressionTest, EncodingNames) {
  EXPECT_EQ(ParseGrpcEncoding(""), GrpcEncoding::kIdentity);
  EXPECT_EQ(ParseGrpcEncoding("identity"), GrpcEncoding::kIdentity);
  EXPECT_EQ(ParseGrpcEncoding("gzip"), GrpcEncoding::kGzip);
  EXPECT_EQ(ParseGrpcEncoding("deflate"), GrpcEncoding::kDeflate);
  EXPECT_EQ(ParseGrpcEncoding("snappy"), std::nullopt);
  EXPECT_EQ(ParseGrpcEncoding("GZIP"), std::nullopt);
}

TEST(GrpcCompressionTest, GzipAndDeflateRoundTrip) {
  std::string message;
  for (int i = 0; i < 100000; ++i) message.push_back(static_cast<char>(i * 7 % 251));
  for (GrpcEncoding encoding : {GrpcEncoding::kGzip, GrpcEncoding::kDeflate}) {
    absl::StatusOr<std::string> inflated = DecompressGrpcMessage(encoding, Compress(message, encoding), 1 << 20);
    ASSERT_TRUE(inflated.ok()) << inflated.status();
    EXPECT_EQ(*inflated, message);
  }
  absl::StatusOr<std::string> empty = DecompressGrpcMessage(GrpcEncoding::kGzip, Compress("", GrpcEncoding::kGzip), 10);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, "");
}

TEST(GrpcCompressionTest, MoreThanTheLimitStopsWhileInflating) {
  const std::string bomb = Compress(std::string(50 << 20, '\0'), GrpcEncoding::kGzip);
  ASSERT_LT(bomb.size(), 100u * 1024);
  absl::StatusOr<std::string> inflated = DecompressGrpcMessage(GrpcEncoding::kGzip, bomb, 1 << 20);
  EXPECT_EQ(inflated.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(inflated.status().message().find("1048576 bytes"), std::string::npos) << inflated.status();
}

TEST(GrpcCompressionTest, AMessageExactlyAtTheLimitInflatesAndOneByteMoreDoesNot) {
  for (const size_t limit : {size_t{1}, size_t{16 * 1024}, size_t{100000}}) {
    const std::string at(limit, 'a');
    absl::StatusOr<std::string> inflated =
        DecompressGrpcMessage(GrpcEncoding::kDeflate, Compress(at, GrpcEncoding::kDeflate), limit);
    ASSERT_TRUE(inflated.ok()) << limit << ": " << inflated.status();
    EXPECT_EQ(*inflated, at);
    EXPECT_EQ(DecompressGrpcMessage(GrpcEncoding::kDeflate, Compress(at + "a", GrpcEncoding::kDeflate), limit)
                  .status()
                  .code(),
              absl::StatusCode::kResourceExhausted)
        << limit;
  }
}

TEST(GrpcCompressionTest, BytesThatAreNotTheEncodingAreRefused) {
  const std::string message(1000, 'x');
  const std::string gzip = Compress(message, GrpcEncoding::kGzip);
  EXPECT_EQ(DecompressGrpcMessage(GrpcEncoding::kGzip, "plain text", 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecompressGrpcMessage(GrpcEncoding::kGzip, gzip.substr(0, gzip.size() / 2), 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument)
      << "truncated";
  EXPECT_EQ(DecompressGrpcMessage(GrpcEncoding::kDeflate, gzip, 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument)
      << "gzip is not a zlib stream";
  EXPECT_EQ(DecompressGrpcMessage(GrpcEncoding::kIdentity, gzip, 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace meridian::protocol
