#include "protocol/instances_codec.h"

#include "gtest/gtest.h"

namespace meridian::protocol {
namespace {

using serving::DataType;

rapidjson::Document Parse(const char* json) {
  rapidjson::Document doc;
  doc.Parse(json);
  return doc;
}

TEST(InstancesCodecTest, RowsStackIntoABatch) {
  serving::ModelSignature signature{.inputs = {{"x", DataType::kFp32, {-1, 3}}}, .outputs = {{"y", DataType::kFp32, {-1}}}};
  auto tensors = DecodeInstances(Parse("[[1,2,3],[4,5,6]]"), signature);
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  EXPECT_EQ((*tensors)[0].shape(), (serving::Shape{2, 3}));
  EXPECT_FLOAT_EQ((*tensors)[0].At<float>(5), 6.0f);
  EXPECT_EQ(DecodeInstances(Parse("[[1,2,3],[4,5]]"), signature).status().message(),
            "instances for input 'x': instances[1] has shape [2] but instances[0] has shape [3]; every instance "
            "must have the same shape");
  EXPECT_NE(DecodeInstances(Parse("[[1,2],[[1],[2,3]]]"), signature).status().message().find("instances[1] is ragged"),
            std::string::npos);
  EXPECT_FALSE(DecodeInstances(Parse("[]"), signature).ok());
  EXPECT_FALSE(DecodeInstances(Parse("[[\"a\",2,3]]"), signature).ok());
}

TEST(InstancesCodecTest, SeveralInputsTakeObjects) {
  serving::ModelSignature signature{.inputs = {{"a", DataType::kInt64, {-1, 2}}, {"b", DataType::kFp32, {-1, 2}}},
                                    .outputs = {}};
  auto tensors = DecodeInstances(Parse(R"([{"a":[1,2],"b":[0.5,1]},{"a":[3,4],"b":[2,3]}])"), signature);
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  EXPECT_EQ((*tensors)[0].type(), DataType::kInt64);
  EXPECT_EQ((*tensors)[0].At<int64_t>(3), 4);
  auto missing = DecodeInstances(Parse(R"([{"a":[1,2]}])"), signature);
  EXPECT_NE(missing.status().message().find("lacks input 'b'"), std::string::npos);
  auto unknown = DecodeInstances(Parse(R"([{"a":[1,2],"b":[0.5,1],"c":[1]}])"), signature);
  EXPECT_EQ(unknown.status().message(), "instances[0] has 'c', which the model does not take (it takes a, b)");
}

TEST(InstancesCodecTest, PredictionsAreRows) {
  float values[4] = {1, 2, 3, 4};
  std::vector<serving::Tensor> one = {
      serving::Tensor::Owned("y", DataType::kFp32, {2, 2}, std::string(reinterpret_cast<char*>(values), 16))};
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  WritePredictions(one, writer);
  EXPECT_STREQ(buffer.GetString(), "[[1.0,2.0],[3.0,4.0]]");

  std::vector<serving::Tensor> two = {
      serving::Tensor::Owned("p", DataType::kFp32, {2}, std::string(reinterpret_cast<char*>(values), 8)),
      serving::Tensor::Owned("q", DataType::kFp32, {2}, std::string(reinterpret_cast<char*>(values + 2), 8))};
  rapidjson::StringBuffer buffer2;
  JsonWriter writer2(buffer2);
  WritePredictions(two, writer2);
  EXPECT_STREQ(buffer2.GetString(), R"([{"p":1.0,"q":3.0},{"p":2.0,"q":4.0}])");
}

}  // namespace
}  // namespace meridian::protocol
