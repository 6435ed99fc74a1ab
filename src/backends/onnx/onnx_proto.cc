#include "backends/onnx/onnx_proto.h"

#include <cstring>
#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"

// Ends the calling function with the reader's error once it has seen malformed input.
#define RETURN_IF_MALFORMED(reader) \
  if (!(reader).error().ok()) return (reader).error()

namespace meridian::backends::onnx {
namespace {

using serving::DataType;

// One field of a protobuf message: its number, wire type and value (varint or bytes).
struct Field {
  uint32_t number = 0;
  uint32_t wire_type = 0;
  uint64_t varint = 0;          // wire types 0, 1 (fixed64 bits), 5 (fixed32 bits)
  absl::string_view bytes;      // wire type 2
};

class WireReader {
 public:
  explicit WireReader(absl::string_view data) : data_(data) {}

  // Next field; nullopt at the end. Malformed input sets error().
  std::optional<Field> Next() {
    if (pos_ >= data_.size() || !error_.ok()) return std::nullopt;
    auto key = Varint();
    if (!key) return std::nullopt;
    Field field;
    field.number = static_cast<uint32_t>(*key >> 3);
    field.wire_type = static_cast<uint32_t>(*key & 7);
    switch (field.wire_type) {
      case 0: {
        auto value = Varint();
        if (!value) return std::nullopt;
        field.varint = *value;
        break;
      }
      case 1:
      case 5: {
        const size_t size = field.wire_type == 1 ? 8 : 4;
        if (data_.size() - pos_ < size) return Fail("truncated fixed-size field");
        uint64_t value = 0;
        std::memcpy(&value, data_.data() + pos_, size);
        field.varint = value;
        pos_ += size;
        break;
      }
      case 2: {
        auto length = Varint();
        if (!length) return std::nullopt;
        if (*length > data_.size() - pos_) return Fail("length-delimited field runs past the end");
        field.bytes = data_.substr(pos_, *length);
        pos_ += *length;
        break;
      }
      default:
        return Fail(absl::StrCat("unsupported wire type ", field.wire_type));
    }
    return field;
  }

  const absl::Status& error() const { return error_; }

  std::optional<uint64_t> Varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) {
        Fail("truncated varint");
        return std::nullopt;
      }
      const uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    Fail("varint longer than 10 bytes");
    return std::nullopt;
  }

  bool at_end() const { return pos_ >= data_.size(); }

 private:
  std::nullopt_t Fail(absl::string_view message) {
    if (error_.ok()) error_ = absl::InvalidArgumentError(absl::StrCat("malformed ONNX protobuf: ", message));
    return std::nullopt;
  }

  absl::string_view data_;
  size_t pos_ = 0;
  absl::Status error_;
};

absl::StatusOr<serving::TensorSpec> ReadValueInfo(absl::string_view bytes) {
  serving::TensorSpec spec;
  bool typed = false;
  WireReader info(bytes);
  while (auto field = info.Next()) {
    if (field->number == 1 && field->wire_type == 2) spec.name = std::string(field->bytes);
    if (field->number != 2 || field->wire_type != 2) continue;  // TypeProto
    WireReader type(field->bytes);
    while (auto type_field = type.Next()) {
      if (type_field->number != 1 || type_field->wire_type != 2) continue;  // tensor_type
      WireReader tensor(type_field->bytes);
      while (auto tensor_field = tensor.Next()) {
        if (tensor_field->number == 1 && tensor_field->wire_type == 0) {
          auto oip = FromOnnxType(static_cast<int32_t>(tensor_field->varint));
          if (!oip.ok()) return absl::InvalidArgumentError(absl::StrCat("'", spec.name, "': ", oip.status().message()));
          spec.type = *oip;
          typed = true;
        } else if (tensor_field->number == 2 && tensor_field->wire_type == 2) {  // TensorShapeProto
          WireReader shape(tensor_field->bytes);
          while (auto dim = shape.Next()) {
            if (dim->number != 1 || dim->wire_type != 2) continue;
            int64_t size = -1;  // dim_param (a name) or absent: dynamic
            WireReader dimension(dim->bytes);
            while (auto d = dimension.Next()) {
              if (d->number == 1 && d->wire_type == 0) size = static_cast<int64_t>(d->varint);
            }
            RETURN_IF_MALFORMED(dimension);
            spec.shape.push_back(size);
          }
          RETURN_IF_MALFORMED(shape);
        }
      }
      RETURN_IF_MALFORMED(tensor);
    }
    RETURN_IF_MALFORMED(type);
  }
  RETURN_IF_MALFORMED(info);
  if (!typed) return absl::InvalidArgumentError(absl::StrCat("graph value '", spec.name, "' is not a tensor"));
  return spec;
}


template <typename T>
void AppendScalar(std::string* out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out->append(bytes, sizeof(T));
}

// Appends the values of a repeated numeric field (packed or not) converted to the tensor's type.
absl::Status AppendRepeated(const Field& field, DataType type, bool is_double_field, std::string* out) {
  auto append_one = [&](uint64_t raw) {
    switch (type) {
      case DataType::kFp32: {
        uint32_t bits = static_cast<uint32_t>(raw);
        float value;
        std::memcpy(&value, &bits, 4);
        AppendScalar(out, value);
        break;
      }
      case DataType::kFp64: {
        double value;
        std::memcpy(&value, &raw, 8);
        AppendScalar(out, value);
        break;
      }
      case DataType::kFp16:
      case DataType::kUint16: AppendScalar(out, static_cast<uint16_t>(raw)); break;
      case DataType::kBool:
      case DataType::kUint8: AppendScalar(out, static_cast<uint8_t>(raw)); break;
      case DataType::kInt8: AppendScalar(out, static_cast<int8_t>(raw)); break;
      case DataType::kInt16: AppendScalar(out, static_cast<int16_t>(raw)); break;
      case DataType::kInt32: AppendScalar(out, static_cast<int32_t>(raw)); break;
      case DataType::kUint32: AppendScalar(out, static_cast<uint32_t>(raw)); break;
      case DataType::kInt64: AppendScalar(out, static_cast<int64_t>(raw)); break;
      case DataType::kUint64: AppendScalar(out, raw); break;
      case DataType::kBytes: break;
    }
  };
  if (field.wire_type != 2) {
    append_one(field.varint);
    return absl::OkStatus();
  }
  // Packed: fixed32 for float_data, fixed64 for double_data, varints otherwise.
  const bool fixed32 = type == DataType::kFp32 && !is_double_field;
  const bool fixed64 = type == DataType::kFp64;
  if (fixed32 || fixed64) {
    const size_t size = fixed32 ? 4 : 8;
    if (field.bytes.size() % size != 0) return absl::InvalidArgumentError("malformed ONNX protobuf: packed field size");
    for (size_t i = 0; i < field.bytes.size(); i += size) {
      uint64_t raw = 0;
      std::memcpy(&raw, field.bytes.data() + i, size);
      append_one(raw);
    }
    return absl::OkStatus();
  }
  WireReader packed(field.bytes);
  while (!packed.at_end()) {
    auto value = packed.Varint();
    if (!value) return packed.error();
    append_one(*value);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DataType> FromOnnxType(int32_t elem_type) {
  switch (elem_type) {
    case 1: return DataType::kFp32;
    case 2: return DataType::kUint8;
    case 3: return DataType::kInt8;
    case 4: return DataType::kUint16;
    case 5: return DataType::kInt16;
    case 6: return DataType::kInt32;
    case 7: return DataType::kInt64;
    case 8: return DataType::kBytes;
    case 9: return DataType::kBool;
    case 10: return DataType::kFp16;
    case 11: return DataType::kFp64;
    case 12: return DataType::kUint32;
    case 13: return DataType::kUint64;
    default: return absl::InvalidArgumentError(absl::StrCat("ONNX element type ", elem_type, " has no OIP v2 datatype"));
  }
}

absl::StatusOr<OnnxModelInfo> ReadModelInfo(absl::string_view model_bytes) {
  OnnxModelInfo info;
  absl::string_view graph;
  WireReader model(model_bytes);
  while (auto field = model.Next()) {
    if (field->number == 7 && field->wire_type == 2) graph = field->bytes;
    if (field->number == 8 && field->wire_type == 2) {  // OperatorSetIdProto
      std::string domain;
      int64_t version = 0;
      WireReader opset(field->bytes);
      while (auto f = opset.Next()) {
        if (f->number == 1 && f->wire_type == 2) domain = std::string(f->bytes);
        if (f->number == 2 && f->wire_type == 0) version = static_cast<int64_t>(f->varint);
      }
      RETURN_IF_MALFORMED(opset);
      if (domain.empty() || domain == "ai.onnx") info.opset = version;
    }
  }
  RETURN_IF_MALFORMED(model);
  if (graph.empty()) return absl::InvalidArgumentError("not an ONNX model: no graph");

  std::vector<serving::TensorSpec> inputs;
  std::vector<std::string> initializers;
  WireReader reader(graph);
  while (auto field = reader.Next()) {
    if (field->wire_type != 2) continue;
    if (field->number == 1) {  // NodeProto
      WireReader node(field->bytes);
      while (auto f = node.Next()) {
        if (f->number == 4 && f->wire_type == 2) info.operators.push_back(std::string(f->bytes));
      }
      RETURN_IF_MALFORMED(node);
    } else if (field->number == 5) {  // initializer TensorProto: only its name matters here
      WireReader tensor(field->bytes);
      while (auto f = tensor.Next()) {
        if (f->number == 8 && f->wire_type == 2) initializers.push_back(std::string(f->bytes));
      }
      RETURN_IF_MALFORMED(tensor);
    } else if (field->number == 11 || field->number == 12) {
      absl::StatusOr<serving::TensorSpec> spec = ReadValueInfo(field->bytes);
      if (!spec.ok()) return spec.status();
      (field->number == 11 ? inputs : info.signature.outputs).push_back(std::move(*spec));
    }
  }
  RETURN_IF_MALFORMED(reader);
  for (serving::TensorSpec& input : inputs) {
    if (std::find(initializers.begin(), initializers.end(), input.name) == initializers.end()) {
      info.signature.inputs.push_back(std::move(input));
    }
  }
  if (info.signature.outputs.empty()) return absl::InvalidArgumentError("the ONNX graph declares no outputs");
  return info;
}

absl::StatusOr<serving::Tensor> ReadTensorProto(absl::string_view bytes) {
  std::string name;
  serving::Shape shape;
  int32_t elem_type = 0;
  std::vector<Field> values;  // typed repeated fields, converted once the type is known
  absl::string_view raw;
  bool has_raw = false;
  std::string strings;
  WireReader reader(bytes);
  while (auto field = reader.Next()) {
    switch (field->number) {
      case 1:
        if (field->wire_type == 0) {
          shape.push_back(static_cast<int64_t>(field->varint));
        } else {
          WireReader packed(field->bytes);
          while (!packed.at_end()) {
            auto dim = packed.Varint();
            if (!dim) return packed.error();
            shape.push_back(static_cast<int64_t>(*dim));
          }
        }
        break;
      case 2: elem_type = static_cast<int32_t>(field->varint); break;
      case 4: case 5: case 7: case 10: case 11: values.push_back(*field); break;
      case 6: serving::AppendBytesElement(&strings, field->bytes); break;
      case 8: name = std::string(field->bytes); break;
      case 9: raw = field->bytes; has_raw = true; break;
      default: break;
    }
  }
  RETURN_IF_MALFORMED(reader);
  absl::StatusOr<DataType> type = FromOnnxType(elem_type);
  if (!type.ok()) return type.status();
  std::string data;
  if (*type == DataType::kBytes) {
    data = std::move(strings);
  } else if (has_raw) {
    data = std::string(raw);
  } else {
    for (const Field& field : values) {
      if (absl::Status s = AppendRepeated(field, *type, field.number == 10, &data); !s.ok()) return s;
    }
  }
  serving::Tensor tensor = serving::Tensor::Owned(name, *type, shape, std::move(data));
  if (absl::Status s = tensor.CheckConsistent(); !s.ok()) return s;
  return tensor;
}

}  // namespace meridian::backends::onnx
