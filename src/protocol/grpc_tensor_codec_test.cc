#include "protocol/grpc_tensor_codec.h"

#include "gtest/gtest.h"

namespace meridian::protocol {
namespace {

TEST(GrpcTensorCodecTest, TypedContentsOfEveryKind) {
  inference::ModelInferRequest request;
  request.set_model_name("m");
  request.set_id("abc");
  auto* a = request.add_inputs();
  a->set_name("a");
  a->set_datatype("INT8");
  a->add_shape(2);
  a->mutable_contents()->add_int_contents(-128);
  a->mutable_contents()->add_int_contents(127);
  auto* b = request.add_inputs();
  b->set_name("b");
  b->set_datatype("BYTES");
  b->add_shape(1);
  b->mutable_contents()->add_bytes_contents("hello");
  auto* c = request.add_inputs();
  c->set_name("c");
  c->set_datatype("FP64");
  c->add_shape(1);
  c->mutable_contents()->add_fp64_contents(0.25);
  (*request.mutable_parameters())["priority"].set_int64_param(3);
  auto decoded = DecodeGrpcInferRequest(request);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->id, "abc");
  EXPECT_EQ(decoded->inputs[0].At<int8_t>(0), -128);
  EXPECT_EQ(decoded->inputs[1].byte_size(), 9u);
  EXPECT_DOUBLE_EQ(decoded->inputs[2].At<double>(0), 0.25);
  EXPECT_EQ(*serving::IntParameter(decoded->parameters, "priority"), 3);
}

TEST(GrpcTensorCodecTest, RawContentsAreViewed) {
  inference::ModelInferRequest request;
  auto* a = request.add_inputs();
  a->set_name("a");
  a->set_datatype("FP32");
  a->add_shape(2);
  float values[2] = {1.5f, 2.5f};
  request.add_raw_input_contents(reinterpret_cast<char*>(values), 8);
  auto decoded = DecodeGrpcInferRequest(request);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->inputs[0].data(), request.raw_input_contents(0).data());
  EXPECT_FLOAT_EQ(decoded->inputs[0].At<float>(1), 2.5f);
}

TEST(GrpcTensorCodecTest, BadRequestsAreRejected) {
  inference::ModelInferRequest request;
  EXPECT_FALSE(DecodeGrpcInferRequest(request).ok());  // no inputs
  auto* a = request.add_inputs();
  a->set_name("a");
  a->set_datatype("INT8");
  a->add_shape(1);
  a->mutable_contents()->add_int_contents(300);
  auto out_of_range = DecodeGrpcInferRequest(request);
  EXPECT_NE(out_of_range.status().message().find("out of range"), std::string::npos) << out_of_range.status();
  a->mutable_contents()->set_int_contents(0, 1);
  a->set_shape(0, 2);
  EXPECT_FALSE(DecodeGrpcInferRequest(request).ok());  // one element for shape [2]
  a->set_shape(0, 1);
  request.add_raw_input_contents("x");
  request.add_raw_input_contents("y");
  EXPECT_NE(DecodeGrpcInferRequest(request).status().message().find("2 entries for 1 inputs"), std::string::npos);
  a->set_datatype("FLOAT");
  EXPECT_FALSE(DecodeGrpcInferRequest(request).ok());
}

}  // namespace
}  // namespace meridian::protocol
