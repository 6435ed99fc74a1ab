#include "protocol/grpc_infer_response_writer.h"

#include <string>

#include "api/grpc_predict_v2.pb.h"
#include "gtest/gtest.h"
#include "protocol/grpc_call.h"
#include "serving/data_type.h"

namespace meridian::protocol {
namespace {

// The answer as a protobuf message, filled field by field: the reference the writer must match.
void EncodeGrpcInferResponse(const serving::InferenceResponse& response, inference::ModelInferResponse* out) {
  out->set_model_name(response.model);
  out->set_model_version(response.version);
  out->set_id(response.id);
  for (const serving::Tensor& tensor : response.outputs) {
    auto* output = out->add_outputs();
    output->set_name(tensor.name());
    output->set_datatype(std::string(serving::DataTypeName(tensor.type())));
    for (int64_t dim : tensor.shape()) output->add_shape(dim);
    out->add_raw_output_contents(tensor.data(), tensor.byte_size());
  }
}

std::string ThroughProtobuf(const serving::InferenceResponse& response) {
  inference::ModelInferResponse message;
  EncodeGrpcInferResponse(response, &message);
  return FrameMessage(message);
}

serving::Tensor Floats(std::string name, serving::Shape shape, size_t count) {
  std::string bytes(count * 4, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  return serving::Tensor::Owned(std::move(name), serving::DataType::kFp32, std::move(shape), std::move(bytes));
}

TEST(GrpcInferResponseWriterTest, WritesWhatProtobufWritesByteForByte) {
  std::vector<serving::InferenceResponse> responses;
  responses.push_back({.model = "mlp", .version = "1.0.0", .id = "req-1", .outputs = {Floats("y", {1, 10}, 10)}});
  // No id or version (proto3 leaves empty strings out), several outputs, a scalar, an empty tensor.
  responses.push_back({.model = "m",
                       .outputs = {Floats("a", {2, 3}, 6), Floats("scalar", {}, 1), Floats("none", {0, 4}, 0)}});
  // Lengths and dimensions that take several bytes as varints.
  responses.push_back({.model = std::string(300, 'm'), .version = "2", .id = std::string(200, 'i'),
                       .outputs = {Floats("big", {128, 1024}, 128 * 1024), Floats("wide", {1, 70000}, 70000)}});
  std::string strings;
  serving::AppendBytesElement(&strings, "hello");
  serving::AppendBytesElement(&strings, "");
  responses.push_back({.model = "text", .outputs = {serving::Tensor::Owned("s", serving::DataType::kBytes, {2}, strings)}});
  responses.push_back({.model = "", .outputs = {}});
  for (size_t i = 0; i < responses.size(); ++i) {
    const std::string written = FramedInferResponse(responses[i]);
    const std::string expected = ThroughProtobuf(responses[i]);
    EXPECT_EQ(written.size(), expected.size()) << "response " << i;
    EXPECT_TRUE(written == expected) << "response " << i << " differs from protobuf's";
    inference::ModelInferResponse parsed;
    ASSERT_TRUE(parsed.ParseFromArray(written.data() + 5, static_cast<int>(written.size() - 5))) << "response " << i;
    EXPECT_EQ(parsed.model_name(), responses[i].model);
    ASSERT_EQ(parsed.outputs_size(), static_cast<int>(responses[i].outputs.size()));
    // The same answer on a stream.
    inference::ModelStreamInferResponse streamed;
    EncodeGrpcInferResponse(responses[i], streamed.mutable_infer_response());
    EXPECT_TRUE(FramedStreamInferResponse(responses[i]) == FrameMessage(streamed))
        << "response " << i << " on a stream differs from protobuf's";
  }
}

}  // namespace
}  // namespace meridian::protocol
