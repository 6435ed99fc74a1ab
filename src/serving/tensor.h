#pragma once

// A named, typed, shaped tensor whose bytes may live inside a buffer someone else owns (the
// request body, a gRPC message), so that decoding a request does not copy tensor bytes.
//
// Elements are in row-major order, little-endian, as OIP v2's binary extension defines them.
// BYTES tensors hold each element as a 4-byte little-endian length followed by its bytes.

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "serving/data_type.h"

namespace meridian::serving {

using Shape = std::vector<int64_t>;

// Product of the dimensions; fails on negative dimensions or overflow.
absl::StatusOr<int64_t> ElementCount(const Shape& shape);
std::string ShapeText(const Shape& shape);  // "[1,784]"

class Tensor {
 public:
  Tensor() = default;
  // A tensor that owns its bytes.
  static Tensor Owned(std::string name, DataType type, Shape shape, std::string bytes);
  // A tensor viewing `bytes`, kept valid by `owner`.
  static Tensor View(std::string name, DataType type, Shape shape, absl::string_view bytes,
                     std::shared_ptr<const void> owner);

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  DataType type() const { return type_; }
  const Shape& shape() const { return shape_; }
  absl::string_view bytes() const { return bytes_; }
  const char* data() const { return bytes_.data(); }
  size_t byte_size() const { return bytes_.size(); }
  // What keeps the bytes valid; null when the tensor's maker keeps them valid instead.
  const std::shared_ptr<const void>& owner() const { return owner_; }

  // Checks that the byte length matches the type and shape (for BYTES: that the length
  // prefixes walk exactly to the end, one per element).
  absl::Status CheckConsistent() const;

  // Typed element access for fixed-size types (caller checks the type).
  template <typename T>
  T At(int64_t index) const {
    T value;
    std::memcpy(&value, bytes_.data() + index * sizeof(T), sizeof(T));
    return value;
  }

 private:
  std::string name_;
  DataType type_ = DataType::kFp32;
  Shape shape_;
  absl::string_view bytes_;
  std::shared_ptr<const void> owner_;
};

// Element `index` of a fixed-size tensor as a double (0 for BYTES), for comparisons and tests.
double ElementAsDouble(const Tensor& tensor, int64_t index);

// Splits BYTES tensor data into its elements (views into `bytes`).
absl::StatusOr<std::vector<absl::string_view>> SplitBytesElements(absl::string_view bytes);
// Appends one BYTES element (length prefix and content) to `out`.
void AppendBytesElement(std::string* out, absl::string_view element);

}  // namespace meridian::serving
