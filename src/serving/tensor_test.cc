#include "serving/tensor.h"

#include "gtest/gtest.h"

namespace meridian::serving {
namespace {

TEST(TensorTest, ConsistencyChecksByteLength) {
  Tensor ok = Tensor::Owned("x", DataType::kFp32, {2, 3}, std::string(24, '\0'));
  EXPECT_TRUE(ok.CheckConsistent().ok());
  Tensor short_data = Tensor::Owned("x", DataType::kFp32, {2, 3}, std::string(20, '\0'));
  absl::Status status = short_data.CheckConsistent();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("needs 24"), std::string::npos) << status;
  EXPECT_FALSE(Tensor::Owned("x", DataType::kFp32, {-1}, "").CheckConsistent().ok());
}

TEST(TensorTest, BytesElementsRoundTrip) {
  std::string data;
  AppendBytesElement(&data, "hello");
  AppendBytesElement(&data, "");
  AppendBytesElement(&data, std::string("a\0b", 3));
  auto elements = SplitBytesElements(data);
  ASSERT_TRUE(elements.ok());
  ASSERT_EQ(elements->size(), 3u);
  EXPECT_EQ((*elements)[0], "hello");
  EXPECT_EQ((*elements)[1], "");
  EXPECT_EQ((*elements)[2], absl::string_view("a\0b", 3));
  EXPECT_TRUE(Tensor::Owned("s", DataType::kBytes, {3}, data).CheckConsistent().ok());
  EXPECT_FALSE(Tensor::Owned("s", DataType::kBytes, {2}, data).CheckConsistent().ok());
}

TEST(TensorTest, TruncatedBytesElementsAreRejected) {
  std::string data;
  AppendBytesElement(&data, "hello");
  EXPECT_FALSE(SplitBytesElements(absl::string_view(data).substr(0, 7)).ok());
  EXPECT_FALSE(SplitBytesElements(absl::string_view(data).substr(0, 2)).ok());
}

TEST(TensorTest, ElementCountGuardsOverflow) {
  EXPECT_EQ(*ElementCount({}), 1);
  EXPECT_EQ(*ElementCount({0, 5}), 0);
  EXPECT_FALSE(ElementCount({1LL << 40, 1LL << 40}).ok());
}

TEST(TensorTest, ViewKeepsOwnerAlive) {
  auto owner = std::make_shared<std::string>("abcdefgh");
  Tensor view = Tensor::View("v", DataType::kInt32, {2}, *owner, owner);
  owner.reset();
  EXPECT_EQ(view.bytes(), "abcdefgh");
}

}  // namespace
}  // namespace meridian::serving
