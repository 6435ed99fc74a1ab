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
  auto decoded = DecodeGrpcInferRequest(request, nullptr);
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
  auto decoded = DecodeGrpcInferRequest(request, nullptr);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->inputs[0].data(), request.raw_input_contents(0).data());
  EXPECT_FLOAT_EQ(decoded->inputs[0].At<float>(1), 2.5f);
}

TEST(GrpcTensorCodecTest, BadRequestsAreRejected) {
  inference::ModelInferRequest request;
  EXPECT_FALSE(DecodeGrpcInferRequest(request, nullptr).ok());  // no inputs
  auto* a = request.add_inputs();
  a->set_name("a");
  a->set_datatype("INT8");
  a->add_shape(1);
  a->mutable_contents()->add_int_contents(300);
  auto out_of_range = DecodeGrpcInferRequest(request, nullptr);
  EXPECT_NE(out_of_range.status().message().find("out of range"), std::string::npos) << out_of_range.status();
  a->mutable_contents()->set_int_contents(0, 1);
  a->set_shape(0, 2);
  EXPECT_FALSE(DecodeGrpcInferRequest(request, nullptr).ok());  // one element for shape [2]
  a->set_shape(0, 1);
  request.add_raw_input_contents("x");
  request.add_raw_input_contents("y");
  EXPECT_NE(DecodeGrpcInferRequest(request, nullptr).status().message().find("2 entries for 1 inputs"), std::string::npos);
  a->set_datatype("FLOAT");
  EXPECT_FALSE(DecodeGrpcInferRequest(request, nullptr).ok());
}

// A decoded request may outlive the call that carried it (a shadow deployment's copy still queued
// when the call has its answer): its tensors hold the bytes they view, whichever path read them.
TEST(GrpcTensorCodecTest, DecodedTensorsKeepTheBytesTheyViewAlive) {
  for (const bool protobuf_path : {false, true}) {
    SCOPED_TRACE(protobuf_path ? "protobuf's path" : "the common reader");
    inference::ModelInferRequest request;
    request.set_model_name("m");
    request.set_id(protobuf_path ? "\xc3\xa9" : "ascii");  // the reader leaves non-ASCII strings to protobuf
    auto* a = request.add_inputs();
    a->set_name("a");
    a->set_datatype("FP32");
    a->add_shape(2);
    const float values[2] = {1.5f, 2.5f};
    request.add_raw_input_contents(reinterpret_cast<const char*>(values), sizeof(values));
    auto message = std::make_shared<std::string>(request.SerializeAsString());
    std::shared_ptr<inference::ModelInferRequest> parsed;
    auto decoded = DecodeGrpcInferMessage(*message, message, &parsed);
    ASSERT_TRUE(decoded.has_value());
    ASSERT_TRUE(decoded->ok()) << decoded->status();
    ASSERT_EQ(parsed != nullptr, protobuf_path);
    std::weak_ptr<const void> viewed = protobuf_path ? std::shared_ptr<const void>(parsed) : message;
    message.reset();
    parsed.reset();
    ASSERT_FALSE(viewed.expired());
    EXPECT_FLOAT_EQ((*decoded)->inputs[0].At<float>(1), 2.5f);  // under ASan, a read of freed bytes fails here
    decoded->value().inputs.clear();
    EXPECT_TRUE(viewed.expired()) << "the tensors alone held the bytes";
  }
}

}  // namespace
}  // namespace meridian::protocol
