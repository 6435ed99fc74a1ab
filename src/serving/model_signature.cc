#include "serving/model_signature.h"

#include <utility>

#include "common/json.h"
#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace meridian::serving {
namespace {

absl::StatusOr<std::vector<TensorSpec>> ParseSpecs(const rapidjson::Value& list, absl::string_view field) {
  if (!list.IsArray()) return absl::InvalidArgumentError(absl::StrCat("metadata '", field, "' must be an array"));
  std::vector<TensorSpec> specs;
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    const rapidjson::Value& item = list[i];
    const std::string where = absl::StrCat("metadata '", field, "[", i, "]'");
    if (!item.IsObject()) return absl::InvalidArgumentError(absl::StrCat(where, " must be an object"));
    TensorSpec spec;
    auto name = item.FindMember("name");
    if (name == item.MemberEnd() || !name->value.IsString() || name->value.GetStringLength() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, " needs a non-empty string 'name'"));
    }
    spec.name = name->value.GetString();
    auto datatype = item.FindMember("datatype");
    if (datatype == item.MemberEnd() || !datatype->value.IsString()) {
      return absl::InvalidArgumentError(absl::StrCat(where, " needs a 'datatype' such as \"FP32\""));
    }
    std::optional<DataType> type = ParseDataType(datatype->value.GetString());
    if (!type) {
      return absl::InvalidArgumentError(absl::StrCat(where, " has unknown datatype '",
                                                     datatype->value.GetString(), "'"));
    }
    spec.type = *type;
    auto shape = item.FindMember("shape");
    if (shape == item.MemberEnd() || !shape->value.IsArray()) {
      return absl::InvalidArgumentError(absl::StrCat(where, " needs a 'shape' array (-1 for dynamic)"));
    }
    for (const rapidjson::Value& dim : shape->value.GetArray()) {
      if (!dim.IsInt64() || dim.GetInt64() < -1) {
        return absl::InvalidArgumentError(absl::StrCat(where, " shape entries must be integers >= -1"));
      }
      spec.shape.push_back(dim.GetInt64());
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace

const TensorSpec* ModelSignature::FindInput(absl::string_view name) const {
  for (const TensorSpec& spec : inputs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const TensorSpec* ModelSignature::FindOutput(absl::string_view name) const {
  for (const TensorSpec& spec : outputs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

absl::StatusOr<std::optional<ModelSignature>> SignatureFromMetadata(absl::string_view metadata_json) {
  if (metadata_json.empty()) return std::nullopt;
  rapidjson::Document doc;
  const bool parse_failed = !ParseUntrustedJson(metadata_json, doc).ok();
  if (parse_failed || !doc.IsObject()) {
    return absl::InvalidArgumentError("version metadata is not a JSON object");
  }
  auto inputs = doc.FindMember("inputs");
  auto outputs = doc.FindMember("outputs");
  if (inputs == doc.MemberEnd() && outputs == doc.MemberEnd()) return std::nullopt;
  if (inputs == doc.MemberEnd() || outputs == doc.MemberEnd()) {
    return absl::InvalidArgumentError("version metadata must declare both 'inputs' and 'outputs'");
  }
  ModelSignature signature;
  auto parsed_inputs = ParseSpecs(inputs->value, "inputs");
  if (!parsed_inputs.ok()) return parsed_inputs.status();
  auto parsed_outputs = ParseSpecs(outputs->value, "outputs");
  if (!parsed_outputs.ok()) return parsed_outputs.status();
  signature.inputs = std::move(*parsed_inputs);
  signature.outputs = std::move(*parsed_outputs);
  return std::optional<ModelSignature>(std::move(signature));
}

bool ShapeMatches(const Shape& spec, const Shape& actual) {
  if (spec.size() != actual.size()) return false;
  for (size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != -1 && spec[i] != actual[i]) return false;
  }
  return true;
}

absl::Status ValidateRequest(const ModelSignature& signature, const std::vector<Tensor>& inputs,
                             const std::vector<std::string>& requested_outputs) {
  // Which of the signature's inputs the request gives, by position (no copy of their names).
  absl::InlinedVector<bool, 8> seen(signature.inputs.size(), false);
  for (const Tensor& input : inputs) {
    const TensorSpec* spec = signature.FindInput(input.name());
    if (spec == nullptr) {
      std::string expected;
      for (const TensorSpec& s : signature.inputs) absl::StrAppend(&expected, expected.empty() ? "" : ", ", s.name);
      return absl::InvalidArgumentError(
          absl::StrCat("unknown input '", input.name(), "'; the model takes: ", expected));
    }
    if (std::exchange(seen[static_cast<size_t>(spec - signature.inputs.data())], true)) {
      return absl::InvalidArgumentError(absl::StrCat("input '", input.name(), "' is given twice"));
    }
    if (input.type() != spec->type) {
      return absl::InvalidArgumentError(absl::StrCat("input '", input.name(), "' has datatype ",
                                                     DataTypeName(input.type()), " but the model expects ",
                                                     DataTypeName(spec->type)));
    }
    if (!ShapeMatches(spec->shape, input.shape())) {
      return absl::InvalidArgumentError(absl::StrCat("input '", input.name(), "' has shape ",
                                                     ShapeText(input.shape()), " but the model expects ",
                                                     ShapeText(spec->shape), " (-1: any size)"));
    }
    // Backends disagree on empty tensors (one answers empty outputs, another fails deep inside),
    // so none gets one.
    if (absl::c_find(input.shape(), 0) != input.shape().end()) {
      return absl::InvalidArgumentError(absl::StrCat("input '", input.name(), "' has shape ", ShapeText(input.shape()),
                                                     ", which holds no elements; send at least one row"));
    }
    if (absl::Status consistent = input.CheckConsistent(); !consistent.ok()) return consistent;
  }
  for (size_t i = 0; i < signature.inputs.size(); ++i) {
    if (!seen[i]) {
      const TensorSpec& spec = signature.inputs[i];
      return absl::InvalidArgumentError(absl::StrCat("missing input '", spec.name, "' (", DataTypeName(spec.type),
                                                     " ", ShapeText(spec.shape), ")"));
    }
  }
  absl::flat_hash_set<absl::string_view> requested;
  for (const std::string& name : requested_outputs) {
    if (!requested.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("output '", name, "' is requested twice"));
    }
    if (signature.FindOutput(name) == nullptr) {
      std::string known;
      for (const TensorSpec& s : signature.outputs) absl::StrAppend(&known, known.empty() ? "" : ", ", s.name);
      return absl::InvalidArgumentError(
          absl::StrCat("unknown output '", name, "'; the model returns: ", known));
    }
  }
  return absl::OkStatus();
}

}  // namespace meridian::serving
