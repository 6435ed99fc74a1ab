#include "serving/tensor.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meridian::serving {

absl::StatusOr<int64_t> ElementCount(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return absl::InvalidArgumentError(absl::StrCat("shape ", ShapeText(shape), " has a negative dimension"));
    if (dim != 0 && count > INT64_MAX / dim) {
      return absl::InvalidArgumentError(absl::StrCat("shape ", ShapeText(shape), " has too many elements"));
    }
    count *= dim;
  }
  return count;
}

std::string ShapeText(const Shape& shape) { return absl::StrCat("[", absl::StrJoin(shape, ","), "]"); }

Tensor Tensor::Owned(std::string name, DataType type, Shape shape, std::string bytes) {
  auto storage = std::make_shared<const std::string>(std::move(bytes));
  absl::string_view view(*storage);
  return View(std::move(name), type, std::move(shape), view, std::move(storage));
}

Tensor Tensor::View(std::string name, DataType type, Shape shape, absl::string_view bytes,
                    std::shared_ptr<const void> owner) {
  Tensor tensor;
  tensor.name_ = std::move(name);
  tensor.type_ = type;
  tensor.shape_ = std::move(shape);
  tensor.bytes_ = bytes;
  tensor.owner_ = std::move(owner);
  return tensor;
}

absl::Status Tensor::CheckConsistent() const {
  absl::StatusOr<int64_t> count = ElementCount(shape_);
  if (!count.ok()) return absl::InvalidArgumentError(absl::StrCat("input '", name_, "': ", count.status().message()));
  if (type_ == DataType::kBytes) {
    absl::StatusOr<std::vector<absl::string_view>> elements = SplitBytesElements(bytes_);
    if (!elements.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", name_, "': ", elements.status().message()));
    }
    if (static_cast<int64_t>(elements->size()) != *count) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", name_, "' has ", elements->size(),
                                                     " BYTES elements but shape ", ShapeText(shape_),
                                                     " needs ", *count));
    }
    return absl::OkStatus();
  }
  const uint64_t expected = static_cast<uint64_t>(*count) * ElementSize(type_);
  if (bytes_.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name_, "' has ", bytes_.size(), " bytes of data but ",
                                                   DataTypeName(type_), " shape ", ShapeText(shape_),
                                                   " needs ", expected));
  }
  return absl::OkStatus();
}

double ElementAsDouble(const Tensor& t, int64_t i) {
  switch (t.type()) {
    case DataType::kBool:
    case DataType::kUint8: return t.At<uint8_t>(i);
    case DataType::kInt8: return t.At<int8_t>(i);
    case DataType::kUint16: return t.At<uint16_t>(i);
    case DataType::kInt16: return t.At<int16_t>(i);
    case DataType::kUint32: return t.At<uint32_t>(i);
    case DataType::kInt32: return t.At<int32_t>(i);
    case DataType::kUint64: return static_cast<double>(t.At<uint64_t>(i));
    case DataType::kInt64: return static_cast<double>(t.At<int64_t>(i));
    case DataType::kFp16: return HalfToFloat(t.At<uint16_t>(i));
    case DataType::kFp32: return t.At<float>(i);
    case DataType::kFp64: return t.At<double>(i);
    case DataType::kBytes: return 0;
  }
  return 0;
}

absl::StatusOr<std::vector<absl::string_view>> SplitBytesElements(absl::string_view bytes) {
  std::vector<absl::string_view> elements;
  size_t offset = 0;
  while (offset < bytes.size()) {
    if (bytes.size() - offset < 4) {
      return absl::InvalidArgumentError("BYTES data ends inside an element's 4-byte length prefix");
    }
    uint32_t length = 0;
    for (int i = 3; i >= 0; --i) length = (length << 8) | static_cast<uint8_t>(bytes[offset + i]);
    offset += 4;
    if (length > bytes.size() - offset) {
      return absl::InvalidArgumentError(
          absl::StrCat("BYTES element ", elements.size(), " claims ", length, " bytes but only ",
                       bytes.size() - offset, " remain"));
    }
    elements.push_back(bytes.substr(offset, length));
    offset += length;
  }
  return elements;
}

void AppendBytesElement(std::string* out, absl::string_view element) {
  const uint32_t length = static_cast<uint32_t>(element.size());
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  absl::StrAppend(out, element);
}

}  // namespace meridian::serving
