#pragma once

// Tensor data <-> JSON arrays, shared by every JSON protocol (OIP v2, KServe V1, /predict).
// Data may be nested ([[1,2],[3,4]]) or flat ([1,2,3,4]); values are range-checked against the
// datatype, so 300 for UINT8 or 1.5 for INT32 is an error, never a silent wrap or truncation.

#include <string>

#include "absl/status/statusor.h"
#include "rapidjson/document.h"
#include "rapidjson/writer.h"
#include "rapidjson/stringbuffer.h"
#include "serving/tensor.h"

namespace meridian::protocol {

// Flattens `data` into tensor bytes of `type`; the element count must match `shape`.
// `what` names the tensor in errors ("input 'x'").
absl::StatusOr<std::string> DecodeTensorData(const rapidjson::Value& data, serving::DataType type,
                                             const serving::Shape& shape, absl::string_view what);

// The shape of a rectangular nested array ([[1,2],[3,4]] -> [2,2]); an error when ragged.
absl::StatusOr<serving::Shape> NestedShape(const rapidjson::Value& data);

// Picks a datatype for JSON values with no declared type (KServe V1): FP32 for numbers, BOOL,
// BYTES for strings.
absl::StatusOr<serving::DataType> GuessDataType(const rapidjson::Value& data);

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Writes the tensor's elements as a flat JSON array.
void WriteFlatData(const serving::Tensor& tensor, JsonWriter& writer);
// Writes elements [begin, begin + count) nested by `shape` (KServe V1 style rows).
void WriteNestedData(const serving::Tensor& tensor, const serving::Shape& shape, int64_t begin, JsonWriter& writer);

}  // namespace meridian::protocol
