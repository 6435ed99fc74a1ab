#pragma once

// The tensor element types of the Open Inference Protocol v2, with their wire names and sizes.

#include <cstddef>
#include <optional>

#include "absl/strings/string_view.h"

namespace meridian::serving {

enum class DataType {
  kBool,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFp16,
  kFp32,
  kFp64,
  kBytes,
};

// "BOOL", "UINT8", ... "BYTES", as OIP v2 spells them.
absl::string_view DataTypeName(DataType type);
std::optional<DataType> ParseDataType(absl::string_view name);

// Bytes per element; 0 for BYTES, whose elements carry their own length.
size_t ElementSize(DataType type);

bool IsFloatingPoint(DataType type);
bool IsSignedInteger(DataType type);
bool IsUnsignedInteger(DataType type);

// IEEE 754 binary16 conversions (round to nearest even), for FP16 tensors given as JSON numbers.
uint16_t FloatToHalf(float value);
float HalfToFloat(uint16_t bits);

}  // namespace meridian::serving
