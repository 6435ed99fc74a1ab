#include "protocol/tensor_json.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "absl/strings/str_cat.h"

namespace meridian::protocol {
namespace {

using serving::DataType;

template <typename T>
void Put(std::string* out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out->append(bytes, sizeof(T));
}

template <typename T>
absl::Status PutInteger(const rapidjson::Value& v, std::string* out, absl::string_view what, int64_t index) {
  auto bad = [&]() {
    return absl::InvalidArgumentError(absl::StrCat(what, " element ", index, " is not an integer in the range of ",
                                                   std::numeric_limits<T>::min() == 0 ? "unsigned " : "",
                                                   sizeof(T) * 8, "-bit integers"));
  };
  if constexpr (std::is_signed_v<T>) {
    if (!v.IsInt64()) return bad();
    const int64_t x = v.GetInt64();
    if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max()) return bad();
    Put(out, static_cast<T>(x));
  } else {
    if (!v.IsUint64()) return bad();
    const uint64_t x = v.GetUint64();
    if (x > std::numeric_limits<T>::max()) return bad();
    Put(out, static_cast<T>(x));
  }
  return absl::OkStatus();
}

absl::Status PutElement(const rapidjson::Value& v, DataType type, std::string* out, absl::string_view what,
                        int64_t index) {
  switch (type) {
    case DataType::kBool:
      if (!v.IsBool()) return absl::InvalidArgumentError(absl::StrCat(what, " element ", index, " is not true or false"));
      Put<uint8_t>(out, v.GetBool() ? 1 : 0);
      return absl::OkStatus();
    case DataType::kUint8: return PutInteger<uint8_t>(v, out, what, index);
    case DataType::kUint16: return PutInteger<uint16_t>(v, out, what, index);
    case DataType::kUint32: return PutInteger<uint32_t>(v, out, what, index);
    case DataType::kUint64: return PutInteger<uint64_t>(v, out, what, index);
    case DataType::kInt8: return PutInteger<int8_t>(v, out, what, index);
    case DataType::kInt16: return PutInteger<int16_t>(v, out, what, index);
    case DataType::kInt32: return PutInteger<int32_t>(v, out, what, index);
    case DataType::kInt64: return PutInteger<int64_t>(v, out, what, index);
    case DataType::kFp16:
    case DataType::kFp32:
    case DataType::kFp64: {
      // JSON has no NaN; null stands for it (a missing value, for XGBoost models).
      if (!v.IsNumber() && !v.IsNull()) {
        return absl::InvalidArgumentError(absl::StrCat(what, " element ", index, " is not a number (or null for NaN)"));
      }
      const double x = v.IsNull() ? std::numeric_limits<double>::quiet_NaN() : v.GetDouble();
      if (type == DataType::kFp64) {
        Put(out, x);
        return absl::OkStatus();
      }
      // A finite number the datatype cannot hold would become infinity (and the model's answer
      // NaN) without a word: refuse it instead.
      const float single = static_cast<float>(x);
      const uint16_t half = type == DataType::kFp16 ? serving::FloatToHalf(single) : 0;
      const bool overflow = type == DataType::kFp16 ? std::isinf(serving::HalfToFloat(half)) : std::isinf(single);
      if (std::isfinite(x) && overflow) {
        return absl::InvalidArgumentError(absl::StrCat(what, " element ", index, " (", x, ") is too large for ",
                                                       serving::DataTypeName(type), " (largest magnitude ",
                                                       type == DataType::kFp16 ? 65504.0 : std::numeric_limits<float>::max(), ")"));
      }
      if (type == DataType::kFp32) Put(out, single);
      else Put(out, half);
      return absl::OkStatus();
    }
    case DataType::kBytes:
      if (!v.IsString()) return absl::InvalidArgumentError(absl::StrCat(what, " element ", index, " is not a string"));
      serving::AppendBytesElement(out, absl::string_view(v.GetString(), v.GetStringLength()));
      return absl::OkStatus();
  }
  return absl::InternalError("unknown datatype");
}

absl::Status Flatten(const rapidjson::Value& data, DataType type, std::string* out, absl::string_view what,
                     int64_t* count, int depth) {
  if (depth > 64) return absl::InvalidArgumentError(absl::StrCat(what, " data is nested too deeply"));
  if (data.IsArray()) {
    for (const rapidjson::Value& item : data.GetArray()) {
      // The common case (numbers for an FP32 input, thousands per request) without the general
      // per-element dispatch; anything else, or a number FP32 cannot hold, takes the general path.
      if (type == DataType::kFp32 && item.IsNumber()) {
        const double x = item.GetDouble();
        const float single = static_cast<float>(x);
        if (!std::isinf(single) || !std::isfinite(x)) {
          Put(out, single);
          ++*count;
          continue;
        }
      }
      if (absl::Status s = Flatten(item, type, out, what, count, depth + 1); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  if (absl::Status s = PutElement(data, type, out, what, *count); !s.ok()) return s;
  ++*count;
  return absl::OkStatus();
}

template <typename T>
void WriteNumber(JsonWriter& writer, T value) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    // JSON has no NaN or infinity; write them as null rather than invalid JSON.
    if (!std::isfinite(value)) {
      writer.Null();
      return;
    }
    writer.Double(static_cast<double>(value));
  } else if constexpr (std::is_signed_v<T>) {
    writer.Int64(static_cast<int64_t>(value));
  } else {
    writer.Uint64(static_cast<uint64_t>(value));
  }
}

void WriteElement(const serving::Tensor& tensor, int64_t i, const std::vector<absl::string_view>* strings,
                  JsonWriter& writer) {
  switch (tensor.type()) {
    case DataType::kBool: writer.Bool(tensor.At<uint8_t>(i) != 0); break;
    case DataType::kUint8: WriteNumber(writer, tensor.At<uint8_t>(i)); break;
    case DataType::kUint16: WriteNumber(writer, tensor.At<uint16_t>(i)); break;
    case DataType::kUint32: WriteNumber(writer, tensor.At<uint32_t>(i)); break;
    case DataType::kUint64: WriteNumber(writer, tensor.At<uint64_t>(i)); break;
    case DataType::kInt8: WriteNumber(writer, tensor.At<int8_t>(i)); break;
    case DataType::kInt16: WriteNumber(writer, tensor.At<int16_t>(i)); break;
    case DataType::kInt32: WriteNumber(writer, tensor.At<int32_t>(i)); break;
    case DataType::kInt64: WriteNumber(writer, tensor.At<int64_t>(i)); break;
    case DataType::kFp16: WriteNumber(writer, serving::HalfToFloat(tensor.At<uint16_t>(i))); break;
    case DataType::kFp32: WriteNumber(writer, tensor.At<float>(i)); break;
    case DataType::kFp64: WriteNumber(writer, tensor.At<double>(i)); break;
    case DataType::kBytes: {
      absl::string_view s = (*strings)[static_cast<size_t>(i)];
      writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()), true);
      break;
    }
  }
}

void WriteNestedLevel(const serving::Tensor& tensor, const serving::Shape& shape, size_t level, int64_t* next,
                      const std::vector<absl::string_view>* strings, JsonWriter& writer) {
  if (level == shape.size()) {
    WriteElement(tensor, (*next)++, strings, writer);
    return;
  }
  writer.StartArray();
  for (int64_t i = 0; i < shape[level]; ++i) WriteNestedLevel(tensor, shape, level + 1, next, strings, writer);
  writer.EndArray();
}

}  // namespace

absl::StatusOr<std::string> DecodeTensorData(const rapidjson::Value& data, DataType type, const serving::Shape& shape,
                                             absl::string_view what) {
  absl::StatusOr<int64_t> expected = serving::ElementCount(shape);
  if (!expected.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", expected.status().message()));
  std::string out;
  // The shape is the client's claim; reserve no more than a body could really fill.
  if (type != DataType::kBytes) {
    out.reserve(static_cast<size_t>(std::min<int64_t>(*expected, int64_t{1} << 20)) * serving::ElementSize(type));
  }
  int64_t count = 0;
  if (absl::Status s = Flatten(data, type, &out, what, &count, 0); !s.ok()) return s;
  if (count != *expected) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has ", count, " data elements but shape ",
                                                   serving::ShapeText(shape), " needs ", *expected));
  }
  return out;
}

absl::StatusOr<serving::Shape> NestedShape(const rapidjson::Value& data) {
  serving::Shape shape;
  const rapidjson::Value* level = &data;
  while (level->IsArray()) {
    shape.push_back(level->Size());
    if (level->Empty()) break;
    level = &(*level)[0];
  }
  // Every element at each level must have the same length: check by counting leaves.
  int64_t leaves = 0;
  std::function<bool(const rapidjson::Value&, size_t)> check = [&](const rapidjson::Value& v, size_t depth) {
    if (depth == shape.size()) {
      ++leaves;
      return !v.IsArray();
    }
    if (!v.IsArray() || static_cast<int64_t>(v.Size()) != shape[depth]) return false;
    for (const rapidjson::Value& item : v.GetArray()) {
      if (!check(item, depth + 1)) return false;
    }
    return true;
  };
  if (!check(data, 0)) return absl::InvalidArgumentError("instances are ragged: every row must have the same shape");
  return shape;
}

absl::StatusOr<DataType> GuessDataType(const rapidjson::Value& data) {
  const rapidjson::Value* leaf = &data;
  while (leaf->IsArray()) {
    if (leaf->Empty()) return DataType::kFp32;
    leaf = &(*leaf)[0];
  }
  if (leaf->IsBool()) return DataType::kBool;
  if (leaf->IsString()) return DataType::kBytes;
  if (leaf->IsNumber()) return DataType::kFp32;
  return absl::InvalidArgumentError("instances must hold numbers, booleans or strings");
}

void WriteFlatData(const serving::Tensor& tensor, JsonWriter& writer) {
  std::vector<absl::string_view> strings;
  int64_t count = 0;
  if (tensor.type() == DataType::kBytes) {
    strings = serving::SplitBytesElements(tensor.bytes()).value_or(std::vector<absl::string_view>{});
    count = static_cast<int64_t>(strings.size());
  } else {
    count = static_cast<int64_t>(tensor.byte_size() / serving::ElementSize(tensor.type()));
  }
  writer.StartArray();
  for (int64_t i = 0; i < count; ++i) WriteElement(tensor, i, &strings, writer);
  writer.EndArray();
}

void WriteNestedData(const serving::Tensor& tensor, const serving::Shape& shape, int64_t begin, JsonWriter& writer) {
  std::vector<absl::string_view> strings;
  if (tensor.type() == DataType::kBytes) {
    strings = serving::SplitBytesElements(tensor.bytes()).value_or(std::vector<absl::string_view>{});
  }
  int64_t next = begin;
  if (shape.empty()) {
    WriteElement(tensor, next, &strings, writer);
    return;
  }
  WriteNestedLevel(tensor, shape, 0, &next, &strings, writer);
}

}  // namespace meridian::protocol
