#include "protocol/grpc_infer_response_writer.h"

#include <cstdint>

#include "absl/strings/string_view.h"
#include "protocol/grpc_call.h"
#include "serving/data_type.h"

namespace meridian::protocol {
namespace {

// The field numbers of grpc_predict_v2.proto's messages written here, as one-byte tags
// (field << 3 | wire type 2, length-delimited).
constexpr char kModelNameTag = 1 << 3 | 2, kModelVersionTag = 2 << 3 | 2, kIdTag = 3 << 3 | 2, kOutputsTag = 5 << 3 | 2,
               kRawOutputContentsTag = 6 << 3 | 2;
constexpr char kOutputNameTag = 1 << 3 | 2, kOutputDatatypeTag = 2 << 3 | 2, kOutputShapeTag = 3 << 3 | 2;
constexpr char kStreamInferResponseTag = 2 << 3 | 2;  // ModelStreamInferResponse.infer_response

size_t VarintSize(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

void AppendVarint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// A length-delimited field: tag, length, then (for bytes and strings) the bytes.
size_t FieldSize(size_t length) { return 1 + VarintSize(length) + length; }

void AppendBytesField(std::string* out, char tag, absl::string_view bytes) {
  out->push_back(tag);
  AppendVarint(out, bytes.size());
  out->append(bytes.data(), bytes.size());
}

// Proto3 leaves out a string field that is empty.
size_t StringFieldSize(absl::string_view text) { return text.empty() ? 0 : FieldSize(text.size()); }

void AppendStringField(std::string* out, char tag, absl::string_view text) {
  if (!text.empty()) AppendBytesField(out, tag, text);
}

size_t PackedShapeSize(const serving::Shape& shape) {
  size_t size = 0;
  for (int64_t dimension : shape) size += VarintSize(static_cast<uint64_t>(dimension));
  return size;
}

// An InferOutputTensor's size: its name, datatype and packed shape (left out when empty).
size_t OutputSize(const serving::Tensor& output) {
  const size_t shape = PackedShapeSize(output.shape());
  return StringFieldSize(output.name()) + StringFieldSize(serving::DataTypeName(output.type())) +
         (shape == 0 ? 0 : FieldSize(shape));
}

size_t ResponseSize(const serving::InferenceResponse& response) {
  size_t size = StringFieldSize(response.model) + StringFieldSize(response.version) + StringFieldSize(response.id);
  for (const serving::Tensor& output : response.outputs) size += FieldSize(OutputSize(output));
  for (const serving::Tensor& output : response.outputs) size += FieldSize(output.byte_size());
  return size;
}

// The gRPC message prefix: not compressed, then the length, big-endian.
void AppendPrefix(std::string* out, size_t size) {
  const auto length = static_cast<uint32_t>(size);
  out->push_back('\0');
  out->push_back(static_cast<char>(length >> 24));
  out->push_back(static_cast<char>(length >> 16));
  out->push_back(static_cast<char>(length >> 8));
  out->push_back(static_cast<char>(length));
}

// A ModelInferResponse's fields, in field-number order as protobuf writes them.
void AppendResponse(std::string* out, const serving::InferenceResponse& response) {
  AppendStringField(out, kModelNameTag, response.model);
  AppendStringField(out, kModelVersionTag, response.version);
  AppendStringField(out, kIdTag, response.id);
  for (const serving::Tensor& output : response.outputs) {
    out->push_back(kOutputsTag);
    AppendVarint(out, OutputSize(output));
    AppendStringField(out, kOutputNameTag, output.name());
    AppendStringField(out, kOutputDatatypeTag, serving::DataTypeName(output.type()));
    const size_t shape = PackedShapeSize(output.shape());
    if (shape > 0) {
      out->push_back(kOutputShapeTag);
      AppendVarint(out, shape);
      for (int64_t dimension : output.shape()) AppendVarint(out, static_cast<uint64_t>(dimension));
    }
  }
  for (const serving::Tensor& output : response.outputs) {
    AppendBytesField(out, kRawOutputContentsTag, output.bytes());
  }
}

}  // namespace

std::string FramedInferResponse(const serving::InferenceResponse& response) {
  const size_t size = ResponseSize(response);
  std::string framed;
  framed.reserve(kGrpcMessagePrefixBytes + size);
  AppendPrefix(&framed, size);
  AppendResponse(&framed, response);
  return framed;
}

std::string FramedStreamInferResponse(const serving::InferenceResponse& response) {
  // A ModelStreamInferResponse without an error message: only its infer_response field.
  const size_t inner = ResponseSize(response);
  const size_t size = FieldSize(inner);
  std::string framed;
  framed.reserve(kGrpcMessagePrefixBytes + size);
  AppendPrefix(&framed, size);
  framed.push_back(kStreamInferResponseTag);
  AppendVarint(&framed, inner);
  AppendResponse(&framed, response);
  return framed;
}

}  // namespace meridian::protocol
