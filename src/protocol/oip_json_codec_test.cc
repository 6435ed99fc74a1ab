#include "protocol/oip_json_codec.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "gtest/gtest.h"

namespace meridian::protocol {
namespace {

using serving::DataType;

absl::StatusOr<serving::InferenceRequest> Decode(std::string body, std::optional<size_t> json_length = std::nullopt) {
  return DecodeInferRequest(std::make_shared<const std::string>(std::move(body)), json_length);
}

std::string ErrorOf(std::string body) {
  auto decoded = Decode(std::move(body));
  EXPECT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(decoded.status().message());
}

TEST(OipJsonCodecTest, DecodesNestedAndFlatDataOfEveryType) {
  auto request = Decode(R"({"id":"42","parameters":{"priority":2,"note":"x"},
    "inputs":[{"name":"f","datatype":"FP32","shape":[2,2],"data":[[1,2],[3.5,-4]]},
              {"name":"b","datatype":"BOOL","shape":[2],"data":[true,false]},
              {"name":"u8","datatype":"UINT8","shape":[1],"data":[255]},
              {"name":"i64","datatype":"INT64","shape":[1],"data":[-9007199254740993]},
              {"name":"u64","datatype":"UINT64","shape":[1],"data":[18446744073709551615]},
              {"name":"h","datatype":"FP16","shape":[1],"data":[1.0]},
              {"name":"d","datatype":"FP64","shape":[1],"data":[0.1]},
              {"name":"s","datatype":"BYTES","shape":[2],"data":["hi",""]}],
    "outputs":[{"name":"out","parameters":{"binary_data":true}}]})");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->id, "42");
  EXPECT_EQ(*serving::IntParameter(request->parameters, "priority"), 2);
  ASSERT_EQ(request->inputs.size(), 8u);
  EXPECT_FLOAT_EQ(request->inputs[0].At<float>(2), 3.5f);
  EXPECT_EQ(request->inputs[1].At<uint8_t>(0), 1);
  EXPECT_EQ(request->inputs[2].At<uint8_t>(0), 255);
  EXPECT_EQ(request->inputs[3].At<int64_t>(0), -9007199254740993LL);
  EXPECT_EQ(request->inputs[4].At<uint64_t>(0), UINT64_MAX);
  EXPECT_EQ(request->inputs[5].At<uint16_t>(0), 0x3c00);
  EXPECT_DOUBLE_EQ(request->inputs[6].At<double>(0), 0.1);
  EXPECT_TRUE(request->inputs[7].CheckConsistent().ok());
  ASSERT_EQ(request->outputs.size(), 1u);
  EXPECT_TRUE(*serving::BoolParameter(request->outputs[0].parameters, "binary_data"));
}

TEST(OipJsonCodecTest, FloatsAtTheEdgeOfTheirRangeAreKept) {
  // 65519 rounds to FP16's largest, 65504; 3.4028235e38 is FP32's largest; null is NaN.
  auto request = Decode(R"({"inputs":[{"name":"h","datatype":"FP16","shape":[2],"data":[65519,-65504]},
                                      {"name":"f","datatype":"FP32","shape":[2],"data":[3.4028235e38,null]},
                                      {"name":"d","datatype":"FP64","shape":[1],"data":[1e300]}]})");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->inputs[0].At<uint16_t>(0), 0x7bff);
  EXPECT_EQ(request->inputs[0].At<uint16_t>(1), 0xfbff);
  EXPECT_EQ(request->inputs[1].At<float>(0), std::numeric_limits<float>::max());
  EXPECT_TRUE(std::isnan(request->inputs[1].At<float>(1)));
  EXPECT_DOUBLE_EQ(request->inputs[2].At<double>(0), 1e300);
}

TEST(OipJsonCodecTest, BadRequestsSayWhatToFix) {
  EXPECT_NE(ErrorOf("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(ErrorOf("[]").find("JSON object"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[]})").find("non-empty 'inputs'"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"datatype":"FP32","shape":[1],"data":[1]}]})").find("'name'"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FLOAT32","shape":[1],"data":[1]}]})").find("unknown datatype"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[-1],"data":[1]}]})").find("non-negative"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[3],"data":[1,2]}]})").find("needs 3"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":["a"]}]})").find("not a number"),
            std::string::npos);
  // Numbers a floating-point datatype cannot hold are refused, not turned into infinity.
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,-1e39]}]})")
                .find("element 1 (-1e+39) is too large for FP32"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FP16","shape":[1],"data":[70000]}]})")
                .find("too large for FP16 (largest magnitude 65504)"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"UINT8","shape":[1],"data":[256]}]})").find("8-bit"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"INT32","shape":[1],"data":[1.5]}]})").find("integer"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"BOOL","shape":[1],"data":[1]}]})").find("true or false"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1]}]})").find("needs 'data'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":null}]})").find("'data' must be an array"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":7}]})").find("'data' must be an array"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}],"parameters":{"a":[1]}})")
                .find("parameter 'a'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"parameters":{"binary_data_size":4}}]})")
                .find("Inference-Header-Content-Length"),
            std::string::npos);
  // Switches of the answer's encoding are booleans; anything else would silently mean false.
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}],
                        "parameters":{"binary_data_output":"yes"}})")
                .find("request parameter 'binary_data_output' must be true or false"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}],
                        "outputs":[{"name":"y","parameters":{"binary_data":1}}]})")
                .find("outputs[0] parameter 'binary_data' must be true or false"),
            std::string::npos);
}

TEST(OipJsonCodecTest, BinaryTensorsAreViewsIntoTheBody) {
  const std::string json =
      R"({"inputs":[{"name":"a","datatype":"INT32","shape":[2],"parameters":{"binary_data_size":8}},)"
      R"({"name":"b","datatype":"FP32","shape":[1],"data":[2.5]}]})";
  int32_t values[2] = {7, -3};
  std::string body = json + std::string(reinterpret_cast<char*>(values), 8);
  auto shared = std::make_shared<const std::string>(body);
  auto request = DecodeInferRequest(shared, json.size());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->inputs[0].At<int32_t>(1), -3);
  EXPECT_EQ(request->inputs[0].data(), shared->data() + json.size());  // no copy
  EXPECT_FLOAT_EQ(request->inputs[1].At<float>(0), 2.5f);
}

TEST(OipJsonCodecTest, BinaryLengthsMustMatchTheBody) {
  const std::string json = R"({"inputs":[{"name":"a","datatype":"INT32","shape":[2],"parameters":{"binary_data_size":8}}]})";
  // Past the end of the body.
  auto past = Decode(json + "1234", json.size());
  EXPECT_NE(past.status().message().find("runs past the end"), std::string::npos) << past.status();
  // Bytes nobody claims.
  auto extra = Decode(json + "123456789", json.size());
  EXPECT_NE(extra.status().message().find("no input claims"), std::string::npos) << extra.status();
  // Size not matching the shape.
  const std::string json6 = R"({"inputs":[{"name":"a","datatype":"INT32","shape":[2],"parameters":{"binary_data_size":6}}]})";
  EXPECT_FALSE(Decode(json6 + "123456", json6.size()).ok());
  // The header itself past the body.
  EXPECT_FALSE(ParseHeaderLength("100", 10).ok());
  EXPECT_FALSE(ParseHeaderLength("-1", 10).ok());
  EXPECT_FALSE(ParseHeaderLength("ten", 10).ok());
  EXPECT_EQ(*ParseHeaderLength("10", 10), 10u);
}

TEST(OipJsonCodecTest, EncodesJsonAndBinaryOutputs) {
  float values[2] = {0.5f, 1.5f};
  serving::InferenceResponse response{.model = "m", .version = "1.0.0", .id = "7"};
  response.outputs.push_back(
      serving::Tensor::Owned("p", DataType::kFp32, {1, 2}, std::string(reinterpret_cast<char*>(values), 8)));
  serving::InferenceRequest request;
  EncodedBody json = EncodeInferResponse(response, request);
  EXPECT_FALSE(json.json_length.has_value());
  EXPECT_EQ(json.body,
            R"({"model_name":"m","model_version":"1.0.0","id":"7","outputs":[{"name":"p","datatype":"FP32","shape":[1,2],"data":[0.5,1.5]}]})");

  request.parameters["binary_data_output"] = true;
  EncodedBody binary = EncodeInferResponse(response, request);
  ASSERT_TRUE(binary.json_length.has_value());
  EXPECT_EQ(binary.body.size(), *binary.json_length + 8);
  EXPECT_NE(binary.body.find(R"("binary_data_size":8)"), std::string::npos);
  EXPECT_EQ(std::memcmp(binary.body.data() + *binary.json_length, values, 8), 0);
}

}  // namespace
}  // namespace meridian::protocol
