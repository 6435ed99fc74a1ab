// libFuzzer target: KServe V1 / /predict instances decoding against a fixed two-input signature,
// and the JSON tensor data decoder with every datatype.

#include <cstddef>
#include <cstdint>
#include <string>

#include "protocol/instances_codec.h"
#include "protocol/tensor_json.h"
#include "rapidjson/document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using meridian::serving::DataType;
  if (size < 1) return 0;
  rapidjson::Document doc;
  doc.Parse(reinterpret_cast<const char*>(data + 1), size - 1);
  if (doc.HasParseError()) return 0;
  const meridian::serving::ModelSignature single{.inputs = {{"x", DataType::kFp32, {-1, 3}}}, .outputs = {}};
  const meridian::serving::ModelSignature pair{
      .inputs = {{"a", DataType::kInt64, {-1, 2}}, {"b", DataType::kBytes, {-1}}}, .outputs = {}};
  auto tensors = meridian::protocol::DecodeInstances(doc, data[0] & 1 ? pair : single);
  if (tensors.ok()) {
    for (const auto& t : *tensors) {
      if (!t.CheckConsistent().ok()) __builtin_trap();
    }
  }
  const auto type = static_cast<DataType>(data[0] % 13);
  auto shape = meridian::protocol::NestedShape(doc);
  if (shape.ok()) {
    auto bytes = meridian::protocol::DecodeTensorData(doc, type, *shape, "x");
    if (bytes.ok()) {
      auto tensor = meridian::serving::Tensor::Owned("x", type, *shape, *bytes);
      if (!tensor.CheckConsistent().ok()) __builtin_trap();
      rapidjson::StringBuffer buffer;
      meridian::protocol::JsonWriter writer(buffer);
      meridian::protocol::WriteFlatData(tensor, writer);
    }
  }
  return 0;
}
