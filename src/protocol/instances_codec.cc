#include "protocol/instances_codec.h"

#include "absl/strings/str_cat.h"

namespace meridian::protocol {
namespace {

// Stacks rows (each a JSON value) into one tensor of `spec`'s type.
absl::StatusOr<serving::Tensor> StackRows(const std::vector<const rapidjson::Value*>& rows,
                                          const serving::TensorSpec& spec) {
  const std::string what = absl::StrCat("instances for input '", spec.name, "'");
  serving::Shape row_shape;
  if (!rows.empty()) {
    absl::StatusOr<serving::Shape> shape = NestedShape(*rows[0]);
    if (!shape.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", shape.status().message()));
    row_shape = *shape;
  }
  for (size_t i = 1; i < rows.size(); ++i) {
    absl::StatusOr<serving::Shape> other = NestedShape(*rows[i]);
    if (!other.ok() || *other != row_shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": instances[", i, "] ",
          other.ok() ? absl::StrCat("has shape ", serving::ShapeText(*other)) : "is ragged (nested arrays of different lengths)",
          " but instances[0] has shape ", serving::ShapeText(row_shape), "; every instance must have the same shape"));
    }
  }
  serving::Shape shape = {static_cast<int64_t>(rows.size())};
  shape.insert(shape.end(), row_shape.begin(), row_shape.end());
  // A model whose input has no batch dimension of its own gets the row as is, when it fits.
  if (rows.size() == 1 && !serving::ShapeMatches(spec.shape, shape) && serving::ShapeMatches(spec.shape, row_shape)) {
    shape = row_shape;
  }
  rapidjson::Document stacked;
  stacked.SetArray();
  for (const rapidjson::Value* row : rows) {
    stacked.PushBack(rapidjson::Value(*row, stacked.GetAllocator()), stacked.GetAllocator());
  }
  absl::StatusOr<std::string> bytes = DecodeTensorData(stacked, spec.type, shape, what);
  if (!bytes.ok()) return bytes.status();
  return serving::Tensor::Owned(spec.name, spec.type, shape, std::move(*bytes));
}

}  // namespace

absl::StatusOr<std::vector<serving::Tensor>> DecodeInstances(const rapidjson::Value& instances,
                                                             const serving::ModelSignature& signature) {
  if (!instances.IsArray() || instances.Empty()) {
    return absl::InvalidArgumentError("'instances' must be a non-empty array with one entry per row");
  }
  std::vector<serving::Tensor> tensors;
  if (signature.inputs.size() == 1) {
    std::vector<const rapidjson::Value*> rows;
    for (const rapidjson::Value& row : instances.GetArray()) rows.push_back(&row);
    absl::StatusOr<serving::Tensor> tensor = StackRows(rows, signature.inputs[0]);
    if (!tensor.ok()) return tensor.status();
    tensors.push_back(std::move(*tensor));
    return tensors;
  }
  // Each instance names the model's inputs, and nothing else.
  for (rapidjson::SizeType i = 0; i < instances.Size(); ++i) {
    const rapidjson::Value& instance = instances[i];
    if (!instance.IsObject()) {
      return absl::InvalidArgumentError(absl::StrCat("this model takes ", signature.inputs.size(),
                                                     " inputs: each instance must be an object naming them"));
    }
    for (const auto& member : instance.GetObject()) {
      if (signature.FindInput(member.name.GetString()) != nullptr) continue;
      std::string takes;
      for (const serving::TensorSpec& input : signature.inputs) absl::StrAppend(&takes, takes.empty() ? "" : ", ", input.name);
      return absl::InvalidArgumentError(absl::StrCat("instances[", i, "] has '", member.name.GetString(),
                                                     "', which the model does not take (it takes ", takes, ")"));
    }
  }
  for (const serving::TensorSpec& spec : signature.inputs) {
    std::vector<const rapidjson::Value*> rows;
    for (rapidjson::SizeType i = 0; i < instances.Size(); ++i) {
      const rapidjson::Value& instance = instances[i];
      auto value = instance.FindMember(spec.name.c_str());
      if (value == instance.MemberEnd()) {
        return absl::InvalidArgumentError(absl::StrCat("instances[", i, "] lacks input '", spec.name, "'"));
      }
      rows.push_back(&value->value);
    }
    absl::StatusOr<serving::Tensor> tensor = StackRows(rows, spec);
    if (!tensor.ok()) return tensor.status();
    tensors.push_back(std::move(*tensor));
  }
  return tensors;
}

void WritePredictions(const std::vector<serving::Tensor>& outputs, JsonWriter& writer) {
  writer.StartArray();
  if (outputs.empty()) {
    writer.EndArray();
    return;
  }
  const int64_t rows = outputs[0].shape().empty() ? 1 : outputs[0].shape()[0];
  for (int64_t row = 0; row < rows; ++row) {
    if (outputs.size() > 1) writer.StartObject();
    for (const serving::Tensor& output : outputs) {
      if (outputs.size() > 1) writer.Key(output.name().c_str());
      serving::Shape row_shape = output.shape();
      int64_t per_row = 1;
      if (!row_shape.empty()) {
        row_shape.erase(row_shape.begin());
        for (int64_t dim : row_shape) per_row *= dim;
      }
      WriteNestedData(output, row_shape, row * per_row, writer);
    }
    if (outputs.size() > 1) writer.EndObject();
  }
  writer.EndArray();
}

}  // namespace meridian::protocol
