#include "protocol/grpc_infer_request_reader.h"

#include <random>
#include <string>

#include "api/grpc_predict_v2.pb.h"
#include "gtest/gtest.h"
#include "protocol/grpc_tensor_codec.h"

namespace meridian::protocol {
namespace {

// Empty when equal; otherwise what differs first.
std::string Difference(const serving::InferenceRequest& a, const serving::InferenceRequest& b) {
  if (a.id != b.id || a.model != b.model || a.version != b.version) return "id, model or version";
  if (a.parameters != b.parameters) return "request parameters";
  if (a.input_parameters != b.input_parameters) return "input parameters";
  if (a.inputs.size() != b.inputs.size()) return "number of inputs";
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const serving::Tensor& x = a.inputs[i];
    const serving::Tensor& y = b.inputs[i];
    if (x.name() != y.name() || x.type() != y.type() || x.shape() != y.shape() || x.bytes() != y.bytes()) {
      return "input " + std::to_string(i);
    }
  }
  if (a.outputs.size() != b.outputs.size()) return "number of outputs";
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    if (a.outputs[i].name != b.outputs[i].name || a.outputs[i].parameters != b.outputs[i].parameters) {
      return "output " + std::to_string(i);
    }
  }
  return "";
}

inference::ModelInferRequest TypicalRequest() {
  inference::ModelInferRequest request;
  request.set_model_name("mlp");
  request.set_model_version("1.2.0");
  request.set_id("req-7");
  (*request.mutable_parameters())["priority"].set_int64_param(2);
  (*request.mutable_parameters())["timeout"].set_int64_param(50000);
  (*request.mutable_parameters())["tag"].set_string_param("blue");
  (*request.mutable_parameters())["sampled"].set_bool_param(true);
  (*request.mutable_parameters())["weight"].set_double_param(0.25);
  auto* x = request.add_inputs();
  x->set_name("x");
  x->set_datatype("FP32");
  x->add_shape(2);
  x->add_shape(3);
  (*x->mutable_parameters())["note"].set_string_param("n");
  const float values[6] = {1, 2, 3, 4, 5, 6};
  request.add_raw_input_contents(reinterpret_cast<const char*>(values), sizeof(values));
  auto* ids = request.add_inputs();
  ids->set_name("ids");
  ids->set_datatype("INT64");
  ids->add_shape(1);
  const int64_t id = -9;
  request.add_raw_input_contents(reinterpret_cast<const char*>(&id), sizeof(id));
  auto* out = request.add_outputs();
  out->set_name("y");
  (*out->mutable_parameters())["binary_data"].set_bool_param(true);
  request.add_outputs()->set_name("z");
  return request;
}

// What the protobuf path makes of `bytes`, or why it refuses them.
absl::StatusOr<serving::InferenceRequest> ThroughProtobuf(const std::string& bytes,
                                                          inference::ModelInferRequest* parsed) {
  if (!parsed->ParseFromString(bytes)) return absl::InvalidArgumentError("not a valid ModelInferRequest");
  return DecodeGrpcInferRequest(*parsed, nullptr);
}

// What the reader reads of `bytes`, checked against protobuf's decoding; nullopt (and a failure)
// when it reads nothing or protobuf refuses the bytes.
std::optional<serving::InferenceRequest> ReadLikeProtobuf(const std::string& bytes) {
  std::optional<serving::InferenceRequest> read = ReadCommonInferRequest(bytes, nullptr);
  if (!read) {
    ADD_FAILURE() << "the reader left the request to protobuf";
    return std::nullopt;
  }
  inference::ModelInferRequest parsed;
  absl::StatusOr<serving::InferenceRequest> expected = ThroughProtobuf(bytes, &parsed);
  if (!expected.ok()) {
    ADD_FAILURE() << "read, but protobuf says " << expected.status();
    return std::nullopt;
  }
  EXPECT_EQ(Difference(*read, *expected), "");
  return read;
}

TEST(GrpcInferRequestReaderTest, ReadsATypicalRequestAsProtobufDoesWithTensorsViewingTheMessage) {
  const std::string bytes = TypicalRequest().SerializeAsString();
  std::optional<serving::InferenceRequest> read = ReadLikeProtobuf(bytes);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->model, "mlp");
  EXPECT_EQ(*serving::IntParameter(read->parameters, "timeout"), 50000);
  EXPECT_EQ(read->inputs[0].shape(), (serving::Shape{2, 3}));
  EXPECT_FLOAT_EQ(read->inputs[0].At<float>(5), 6);
  EXPECT_EQ(read->inputs[1].At<int64_t>(0), -9);
  // No copy: the tensor's bytes are the message's.
  EXPECT_GE(read->inputs[0].data(), bytes.data());
  EXPECT_LE(read->inputs[0].data() + read->inputs[0].byte_size(), bytes.data() + bytes.size());
}

TEST(GrpcInferRequestReaderTest, ReadsAnUnpackedShapeAndRepeatedFieldsAsProtobufDoes) {
  // Hand-written: shape as separate varints (older writers), the model name given twice (the
  // last wins) and the same parameter key twice (the last entry wins).
  auto field = [](char tag, const std::string& contents) {
    return std::string(1, tag) + static_cast<char>(contents.size()) + contents;
  };
  auto parameter_entry = [&field](char int64_value) {
    return field('\x22', field('\x0a', "k") + field('\x12', std::string("\x10", 1) + int64_value));
  };
  const float value = 1.5f;
  std::string bytes = field('\x0a', "a") + field('\x0a', "b");  // model_name twice
  bytes += parameter_entry(1) + parameter_entry(4);
  // inputs {name "x", datatype "FP32", shape 1 as a varint, shape [1] packed}
  bytes += field('\x2a', field('\x0a', "x") + field('\x12', "FP32") + std::string("\x18\x01", 2) +
                             field('\x1a', std::string("\x01", 1)));
  bytes += field('\x3a', std::string(reinterpret_cast<const char*>(&value), sizeof(value)));
  std::optional<serving::InferenceRequest> read = ReadLikeProtobuf(bytes);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->model, "b");
  EXPECT_EQ(*serving::IntParameter(read->parameters, "k"), 4);
  EXPECT_EQ(read->inputs[0].shape(), (serving::Shape{1, 1}));
}

TEST(GrpcInferRequestReaderTest, LeavesEverythingElseToProtobuf) {
  auto left = [](const inference::ModelInferRequest& request) {
    return !ReadCommonInferRequest(request.SerializeAsString(), nullptr).has_value();
  };
  inference::ModelInferRequest typed = TypicalRequest();
  typed.clear_raw_input_contents();
  typed.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1);
  EXPECT_TRUE(left(typed)) << "typed contents";

  inference::ModelInferRequest unicode = TypicalRequest();
  unicode.set_model_name("mod\xc3\xa8le");
  EXPECT_TRUE(left(unicode)) << "a string that is not ASCII";

  inference::ModelInferRequest empty_parameter = TypicalRequest();
  (*empty_parameter.mutable_parameters())["n"];
  EXPECT_TRUE(left(empty_parameter)) << "a parameter without a value";

  inference::ModelInferRequest negative = TypicalRequest();
  negative.mutable_inputs(1)->set_shape(0, -1);
  EXPECT_TRUE(left(negative)) << "a negative dimension";

  inference::ModelInferRequest no_inputs = TypicalRequest();
  no_inputs.clear_inputs();
  no_inputs.clear_raw_input_contents();
  EXPECT_TRUE(left(no_inputs)) << "no inputs";

  inference::ModelInferRequest missing_contents = TypicalRequest();
  missing_contents.mutable_raw_input_contents()->RemoveLast();
  EXPECT_TRUE(left(missing_contents)) << "fewer raw contents than inputs";

  inference::ModelInferRequest wrong_size = TypicalRequest();
  wrong_size.mutable_inputs(0)->set_shape(1, 4);
  EXPECT_TRUE(left(wrong_size)) << "contents that do not fill the shape";

  inference::ModelInferRequest unknown_type = TypicalRequest();
  unknown_type.mutable_inputs(0)->set_datatype("FP8");
  EXPECT_TRUE(left(unknown_type)) << "an unknown datatype";

  inference::ModelInferRequest unnamed = TypicalRequest();
  unnamed.mutable_inputs(0)->clear_name();
  EXPECT_TRUE(left(unnamed)) << "an input without a name";

  std::string unknown_field = TypicalRequest().SerializeAsString() + std::string("\x40\x01", 2);  // field 8
  EXPECT_FALSE(ReadCommonInferRequest(unknown_field, nullptr).has_value()) << "a field this reader does not know";
  std::string long_tag = std::string("\x8a\x00\x01" "a", 4) + TypicalRequest().SerializeAsString();
  EXPECT_FALSE(ReadCommonInferRequest(long_tag, nullptr).has_value()) << "a tag in more bytes than it needs";
  std::string truncated = TypicalRequest().SerializeAsString();
  truncated.pop_back();
  EXPECT_FALSE(ReadCommonInferRequest(truncated, nullptr).has_value()) << "a truncated message";
}

// The reader's promise, checked on many requests, valid and damaged: whatever it reads, protobuf
// parses and decodes to the same request.
TEST(GrpcInferRequestReaderTest, WhatItReadsProtobufReadsTheSame) {
  std::mt19937 random(20261130);
  auto pick = [&random](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  const char* const types[] = {"FP32", "INT64", "UINT8", "BOOL", "FP16", "BYTES", "INT8"};
  int read_count = 0;
  int agreed = 0;
  for (int round = 0; round < 20000; ++round) {
    inference::ModelInferRequest request;
    if (pick(4) != 0) request.set_model_name(std::string(1 + pick(8), static_cast<char>('a' + pick(26))));
    if (pick(3) == 0) request.set_model_version("1.0." + std::to_string(pick(9)));
    if (pick(3) == 0) request.set_id(std::to_string(random()));
    for (int p = pick(3); p > 0; --p) {
      auto& value = (*request.mutable_parameters())[std::string(1, static_cast<char>('a' + pick(4)))];
      switch (pick(4)) {
        case 0: value.set_bool_param(pick(2) == 1); break;
        case 1: value.set_int64_param(static_cast<int64_t>(random()) - (1LL << 31)); break;
        case 2: value.set_string_param(std::string(pick(5), 's')); break;
        default: value.set_double_param(pick(1000) / 7.0); break;
      }
    }
    for (int i = 1 + pick(3); i > 0; --i) {
      auto* input = request.add_inputs();
      input->set_name(std::string(1, static_cast<char>('p' + i)));
      const std::string type = types[pick(7)];
      input->set_datatype(type);
      const int64_t rows = pick(4);
      input->add_shape(rows);
      if (pick(2) == 0) input->add_shape(2);
      const int64_t elements = rows * (input->shape_size() == 2 ? 2 : 1);
      const size_t element_bytes = type == "FP32" ? 4 : type == "INT64" ? 8 : type == "FP16" ? 2 : 1;
      std::string contents;
      if (type == "BYTES") {
        for (int64_t e = 0; e < elements; ++e) contents += std::string("\x01\x00\x00\x00", 4) + "b";
      } else {
        contents.assign(static_cast<size_t>(elements) * element_bytes, static_cast<char>(pick(2)));
      }
      request.add_raw_input_contents(contents);
    }
    for (int o = pick(3); o > 0; --o) request.add_outputs()->set_name(std::string(1, static_cast<char>('y' + o)));
    std::string bytes = request.SerializeAsString();
    // Damage some: flip, drop or add a byte, or cut the message short.
    for (int d = pick(3) == 0 ? 1 + pick(3) : 0; d > 0 && !bytes.empty(); --d) {
      const size_t at = static_cast<size_t>(pick(static_cast<int>(bytes.size())));
      switch (pick(4)) {
        case 0: bytes[at] = static_cast<char>(bytes[at] ^ (1 << pick(8))); break;
        case 1: bytes.erase(at, 1); break;
        case 2: bytes.insert(at, 1, static_cast<char>(pick(256))); break;
        default: bytes.resize(at); break;
      }
    }
    std::optional<serving::InferenceRequest> read = ReadCommonInferRequest(bytes, nullptr);
    if (!read) continue;
    ++read_count;
    inference::ModelInferRequest parsed;
    absl::StatusOr<serving::InferenceRequest> expected = ThroughProtobuf(bytes, &parsed);
    ASSERT_TRUE(expected.ok()) << "round " << round << ": read, but protobuf says " << expected.status();
    ASSERT_EQ(Difference(*read, *expected), "") << "round " << round;
    ++agreed;
  }
  EXPECT_EQ(agreed, read_count);
  EXPECT_GT(read_count, 5000) << "the reader should read most of these requests";
}

}  // namespace
}  // namespace meridian::protocol
