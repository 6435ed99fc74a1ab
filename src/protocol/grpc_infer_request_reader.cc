#include "protocol/grpc_infer_request_reader.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "serving/data_type.h"
#include "serving/tensor.h"

namespace meridian::protocol {
namespace {

static_assert(std::endian::native == std::endian::little, "fixed64 fields are read as they lie in memory");

// The field numbers of grpc_predict_v2.proto's messages read here.
namespace request_field {
constexpr uint32_t kModelName = 1, kModelVersion = 2, kId = 3, kParameters = 4, kInputs = 5, kOutputs = 6,
                   kRawInputContents = 7;
}
namespace input_field {
constexpr uint32_t kName = 1, kDatatype = 2, kShape = 3, kParameters = 4;
}
namespace output_field {
constexpr uint32_t kName = 1, kParameters = 2;
}
namespace parameter_field {
constexpr uint32_t kBool = 1, kInt64 = 2, kString = 3, kDouble = 4;
}
namespace map_entry_field {
constexpr uint32_t kKey = 1, kValue = 2;
}

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2 };

// The protobuf wire format, read forward. Each read fails (false) on what this reader leaves to
// protobuf, not only on what protobuf would refuse.
class WireReader {
 public:
  explicit WireReader(absl::string_view bytes) : rest_(bytes) {}

  bool empty() const { return rest_.empty(); }

  // A one-byte tag: every field read here has a number below 16, and protobuf itself writes them
  // so. A longer encoding of the same tag goes to protobuf.
  bool Tag(uint32_t* field, uint32_t* wire_type) {
    if (rest_.empty() || (static_cast<uint8_t>(rest_[0]) & 0x80) != 0) return false;
    const uint8_t byte = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    *field = byte >> 3;
    *wire_type = byte & 7;
    return *field != 0;
  }

  // At most ten bytes, the tenth 0 or 1 (a 64-bit value): the encodings every protobuf parser
  // reads alike.
  bool Varint(uint64_t* value) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (rest_.empty()) return false;
      const uint8_t byte = static_cast<uint8_t>(rest_[0]);
      rest_.remove_prefix(1);
      if (shift == 63 && byte > 1) return false;
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *value = result;
        return true;
      }
    }
    return false;
  }

  bool LengthDelimited(uint32_t wire_type, absl::string_view* piece) {
    uint64_t length = 0;
    if (wire_type != kLengthDelimited || !Varint(&length) || length > rest_.size()) return false;
    *piece = rest_.substr(0, length);
    rest_.remove_prefix(length);
    return true;
  }

  // A proto3 `string`: protobuf checks that it is UTF-8; ASCII needs no check to agree with it.
  bool AsciiString(uint32_t wire_type, std::string* out) {
    absl::string_view piece;
    if (!LengthDelimited(wire_type, &piece)) return false;
    for (char c : piece) {
      if ((static_cast<uint8_t>(c) & 0x80) != 0) return false;
    }
    out->assign(piece.data(), piece.size());
    return true;
  }

  bool Fixed64(uint32_t wire_type, uint64_t* value) {
    if (wire_type != kFixed64 || rest_.size() < 8) return false;
    std::memcpy(value, rest_.data(), 8);
    rest_.remove_prefix(8);
    return true;
  }

 private:
  absl::string_view rest_;
};

// An InferParameter with one of the four kinds set; the last one set wins, as in a oneof.
// nullopt for none (protobuf's path then says the parameter has no value) or another kind.
std::optional<serving::ParameterValue> ReadParameterValue(absl::string_view bytes) {
  WireReader reader(bytes);
  std::optional<serving::ParameterValue> value;
  uint32_t field = 0;
  uint32_t wire_type = 0;
  while (!reader.empty()) {
    if (!reader.Tag(&field, &wire_type)) return std::nullopt;
    uint64_t number = 0;
    std::string text;
    switch (field) {
      case parameter_field::kBool:
        if (wire_type != kVarint || !reader.Varint(&number)) return std::nullopt;
        value = number != 0;
        break;
      case parameter_field::kInt64:
        if (wire_type != kVarint || !reader.Varint(&number)) return std::nullopt;
        value = static_cast<int64_t>(number);
        break;
      case parameter_field::kString:
        if (!reader.AsciiString(wire_type, &text)) return std::nullopt;
        value = std::move(text);
        break;
      case parameter_field::kDouble: {
        if (!reader.Fixed64(wire_type, &number)) return std::nullopt;
        double real = 0;
        std::memcpy(&real, &number, sizeof(real));
        value = real;
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return value;
}

// One entry of a map<string, InferParameter>, with its key and value each given once. A later
// entry for the same key replaces an earlier one, as protobuf's maps do.
bool ReadParameterEntry(absl::string_view bytes, serving::Parameters* parameters) {
  WireReader reader(bytes);
  std::optional<std::string> key;
  std::optional<serving::ParameterValue> value;
  uint32_t field = 0;
  uint32_t wire_type = 0;
  while (!reader.empty()) {
    if (!reader.Tag(&field, &wire_type)) return false;
    if (field == map_entry_field::kKey && !key) {
      if (!reader.AsciiString(wire_type, &key.emplace())) return false;
    } else if (field == map_entry_field::kValue && !value) {
      absl::string_view piece;
      if (!reader.LengthDelimited(wire_type, &piece)) return false;
      value = ReadParameterValue(piece);
      if (!value) return false;
    } else {
      return false;
    }
  }
  if (!key || !value) return false;
  (*parameters)[*key] = std::move(*value);
  return true;
}

// A shape dimension; a negative one goes to protobuf's path, which refuses it.
bool AppendDimension(uint64_t number, serving::Shape* shape) {
  const auto dimension = static_cast<int64_t>(number);
  if (dimension < 0) return false;
  shape->push_back(dimension);
  return true;
}

struct WireInput {
  std::string name;
  std::string datatype;
  serving::Shape shape;
  serving::Parameters parameters;
};

// An InferInputTensor without typed contents; the shape may come packed, unpacked or both.
bool ReadInput(absl::string_view bytes, WireInput* input) {
  WireReader reader(bytes);
  uint32_t field = 0;
  uint32_t wire_type = 0;
  while (!reader.empty()) {
    if (!reader.Tag(&field, &wire_type)) return false;
    absl::string_view piece;
    uint64_t number = 0;
    switch (field) {
      case input_field::kName:
        if (!reader.AsciiString(wire_type, &input->name)) return false;
        break;
      case input_field::kDatatype:
        if (!reader.AsciiString(wire_type, &input->datatype)) return false;
        break;
      case input_field::kShape:
        if (wire_type == kVarint) {
          if (!reader.Varint(&number) || !AppendDimension(number, &input->shape)) return false;
          break;
        }
        if (!reader.LengthDelimited(wire_type, &piece)) return false;
        for (WireReader packed(piece); !packed.empty();) {
          if (!packed.Varint(&number) || !AppendDimension(number, &input->shape)) return false;
        }
        break;
      case input_field::kParameters:
        if (!reader.LengthDelimited(wire_type, &piece) || !ReadParameterEntry(piece, &input->parameters)) return false;
        break;
      default:
        return false;  // typed contents, or a field this reader does not know
    }
  }
  return true;
}

bool ReadOutput(absl::string_view bytes, serving::RequestedOutput* output) {
  WireReader reader(bytes);
  uint32_t field = 0;
  uint32_t wire_type = 0;
  while (!reader.empty()) {
    if (!reader.Tag(&field, &wire_type)) return false;
    absl::string_view piece;
    if (field == output_field::kName) {
      if (!reader.AsciiString(wire_type, &output->name)) return false;
    } else if (field == output_field::kParameters) {
      if (!reader.LengthDelimited(wire_type, &piece) || !ReadParameterEntry(piece, &output->parameters)) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<serving::InferenceRequest> ReadCommonInferRequest(absl::string_view message,
                                                                const std::shared_ptr<const void>& owner) {
  serving::InferenceRequest request;
  // Requests commonly carry one or two inputs: these cost no allocation.
  absl::InlinedVector<WireInput, 2> inputs;
  absl::InlinedVector<absl::string_view, 2> raw_contents;
  WireReader reader(message);
  uint32_t field = 0;
  uint32_t wire_type = 0;
  while (!reader.empty()) {
    if (!reader.Tag(&field, &wire_type)) return std::nullopt;
    absl::string_view piece;
    bool read = false;
    switch (field) {
      case request_field::kModelName: read = reader.AsciiString(wire_type, &request.model); break;
      case request_field::kModelVersion: read = reader.AsciiString(wire_type, &request.version); break;
      case request_field::kId: read = reader.AsciiString(wire_type, &request.id); break;
      case request_field::kParameters:
        read = reader.LengthDelimited(wire_type, &piece) && ReadParameterEntry(piece, &request.parameters);
        break;
      case request_field::kInputs:
        read = reader.LengthDelimited(wire_type, &piece) && ReadInput(piece, &inputs.emplace_back());
        break;
      case request_field::kOutputs:
        read = reader.LengthDelimited(wire_type, &piece) && ReadOutput(piece, &request.outputs.emplace_back());
        break;
      case request_field::kRawInputContents:
        read = reader.LengthDelimited(wire_type, &piece);
        raw_contents.push_back(piece);
        break;
      default:
        break;
    }
    if (!read) return std::nullopt;
  }
  // What DecodeGrpcInferRequest checks; a request that fails any check is refused there.
  if (inputs.empty() || raw_contents.size() != inputs.size()) return std::nullopt;
  request.inputs.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    WireInput& input = inputs[i];
    const std::optional<serving::DataType> type = serving::ParseDataType(input.datatype);
    if (input.name.empty() || !type) return std::nullopt;
    serving::Tensor tensor = serving::Tensor::View(input.name, *type, std::move(input.shape), raw_contents[i], owner);
    if (!tensor.CheckConsistent().ok()) return std::nullopt;
    request.inputs.push_back(std::move(tensor));
    if (!input.parameters.empty()) request.input_parameters[input.name] = std::move(input.parameters);
  }
  return request;
}

}  // namespace meridian::protocol
