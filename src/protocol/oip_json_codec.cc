#include "protocol/oip_json_codec.h"
#include "common/json.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "protocol/tensor_json.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace meridian::protocol {
namespace {

using serving::Parameters;

// A switch the answer's encoding depends on: a value that is not a boolean (a "yes", a 1) would
// silently be taken as false.
absl::Status RequireBool(const Parameters& parameters, absl::string_view key, absl::string_view where) {
  auto it = parameters.find(std::string(key));
  if (it == parameters.end() || std::holds_alternative<bool>(it->second)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(where, " parameter '", key, "' must be true or false"));
}

absl::StatusOr<Parameters> ReadParameters(const rapidjson::Value& object, absl::string_view where) {
  if (!object.IsObject()) return absl::InvalidArgumentError(absl::StrCat(where, " 'parameters' must be an object"));
  Parameters parameters;
  for (const auto& member : object.GetObject()) {
    std::string key(member.name.GetString(), member.name.GetStringLength());
    const rapidjson::Value& v = member.value;
    if (v.IsBool()) parameters[key] = v.GetBool();
    else if (v.IsInt64()) parameters[key] = v.GetInt64();
    else if (v.IsNumber()) parameters[key] = v.GetDouble();
    else if (v.IsString()) parameters[key] = std::string(v.GetString(), v.GetStringLength());
    else {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " parameter '", key, "' must be a boolean, number or string"));
    }
  }
  return parameters;
}

absl::StatusOr<std::string> RequiredString(const rapidjson::Value& object, const char* field, absl::string_view where) {
  auto it = object.FindMember(field);
  if (it == object.MemberEnd() || !it->value.IsString()) {
    return absl::InvalidArgumentError(absl::StrCat(where, " needs a string '", field, "'"));
  }
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

absl::StatusOr<size_t> ParseHeaderLength(absl::string_view value, size_t body_size) {
  uint64_t length = 0;
  if (!absl::SimpleAtoi(value, &length)) {
    return absl::InvalidArgumentError("Inference-Header-Content-Length must be a non-negative integer");
  }
  if (length > body_size) {
    return absl::InvalidArgumentError(absl::StrCat("Inference-Header-Content-Length is ", length,
                                                   " but the body has only ", body_size, " bytes"));
  }
  return static_cast<size_t>(length);
}

absl::StatusOr<serving::InferenceRequest> DecodeInferRequest(std::shared_ptr<const std::string> body,
                                                             std::optional<size_t> json_length) {
  const size_t header_size = json_length.value_or(body->size());
  rapidjson::Document doc;
  if (absl::Status parsed = ParseUntrustedJson(absl::string_view(body->data(), header_size), doc); !parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("request body: ", parsed.message()));
  }
  if (!doc.IsObject()) return absl::InvalidArgumentError("request body must be a JSON object");
  serving::InferenceRequest request;
  if (auto id = doc.FindMember("id"); id != doc.MemberEnd()) {
    if (!id->value.IsString()) return absl::InvalidArgumentError("'id' must be a string");
    request.id = id->value.GetString();
  }
  if (auto params = doc.FindMember("parameters"); params != doc.MemberEnd()) {
    auto parsed = ReadParameters(params->value, "request");
    if (parsed.ok()) {
      if (absl::Status flag = RequireBool(*parsed, "binary_data_output", "request"); !flag.ok()) return flag;
    }
    if (!parsed.ok()) return parsed.status();
    request.parameters = std::move(*parsed);
  }
  auto inputs = doc.FindMember("inputs");
  if (inputs == doc.MemberEnd() || !inputs->value.IsArray() || inputs->value.Empty()) {
    return absl::InvalidArgumentError("request needs a non-empty 'inputs' array");
  }
  size_t binary_offset = header_size;
  for (rapidjson::SizeType i = 0; i < inputs->value.Size(); ++i) {
    const rapidjson::Value& input = inputs->value[i];
    const std::string where = absl::StrCat("inputs[", i, "]");
    if (!input.IsObject()) return absl::InvalidArgumentError(absl::StrCat(where, " must be an object"));
    auto name = RequiredString(input, "name", where);
    if (!name.ok()) return name.status();
    const std::string what = absl::StrCat("input '", *name, "'");
    auto datatype_name = RequiredString(input, "datatype", what);
    if (!datatype_name.ok()) return datatype_name.status();
    std::optional<serving::DataType> type = serving::ParseDataType(*datatype_name);
    if (!type) {
      return absl::InvalidArgumentError(absl::StrCat(what, " has unknown datatype '", *datatype_name,
                                                     "' (BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64, BYTES)"));
    }
    auto shape_member = input.FindMember("shape");
    if (shape_member == input.MemberEnd() || !shape_member->value.IsArray()) {
      return absl::InvalidArgumentError(absl::StrCat(what, " needs a 'shape' array"));
    }
    serving::Shape shape;
    for (const rapidjson::Value& dim : shape_member->value.GetArray()) {
      if (!dim.IsInt64() || dim.GetInt64() < 0) {
        return absl::InvalidArgumentError(absl::StrCat(what, " shape must hold non-negative integers"));
      }
      shape.push_back(dim.GetInt64());
    }
    Parameters parameters;
    if (auto params = input.FindMember("parameters"); params != input.MemberEnd()) {
      auto parsed = ReadParameters(params->value, what);
      if (!parsed.ok()) return parsed.status();
      parameters = std::move(*parsed);
    }
    const bool has_binary_parameter = parameters.contains("binary_data_size");
    std::optional<int64_t> binary_size = serving::IntParameter(parameters, "binary_data_size");
    if (has_binary_parameter && (!binary_size || *binary_size < 0)) {
      return absl::InvalidArgumentError(absl::StrCat(what, " binary_data_size must be a non-negative integer"));
    }
    auto data = input.FindMember("data");
    if (binary_size) {
      if (!json_length) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " uses binary_data_size but the Inference-Header-Content-Length header is missing"));
      }
      if (data != input.MemberEnd()) {
        return absl::InvalidArgumentError(absl::StrCat(what, " has both 'data' and binary_data_size"));
      }
      if (static_cast<uint64_t>(*binary_size) > body->size() - binary_offset) {
        return absl::InvalidArgumentError(absl::StrCat(what, " binary_data_size ", *binary_size, " runs past the end of the body (",
                                                       body->size() - binary_offset, " bytes left)"));
      }
      absl::string_view bytes(body->data() + binary_offset, static_cast<size_t>(*binary_size));
      binary_offset += static_cast<size_t>(*binary_size);
      request.inputs.push_back(serving::Tensor::View(*name, *type, std::move(shape), bytes, body));
      if (absl::Status s = request.inputs.back().CheckConsistent(); !s.ok()) return s;
    } else {
      if (data == input.MemberEnd()) {
        return absl::InvalidArgumentError(absl::StrCat(what, " needs 'data' (or binary_data_size with binary data)"));
      }
      if (!data->value.IsArray()) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " 'data' must be an array of the tensor's elements (flat or nested by the shape)"));
      }
      auto bytes = DecodeTensorData(data->value, *type, shape, what);
      if (!bytes.ok()) return bytes.status();
      request.inputs.push_back(serving::Tensor::Owned(*name, *type, std::move(shape), std::move(*bytes)));
    }
    parameters.erase("binary_data_size");
    if (!parameters.empty()) request.input_parameters[*name] = std::move(parameters);
  }
  if (binary_offset != body->size()) {
    return absl::InvalidArgumentError(absl::StrCat("the body has ", body->size() - binary_offset,
                                                   " bytes of binary data that no input claims"));
  }
  if (auto outputs = doc.FindMember("outputs"); outputs != doc.MemberEnd()) {
    if (!outputs->value.IsArray()) return absl::InvalidArgumentError("'outputs' must be an array");
    for (rapidjson::SizeType i = 0; i < outputs->value.Size(); ++i) {
      const rapidjson::Value& output = outputs->value[i];
      const std::string where = absl::StrCat("outputs[", i, "]");
      if (!output.IsObject()) return absl::InvalidArgumentError(absl::StrCat(where, " must be an object"));
      auto name = RequiredString(output, "name", where);
      if (!name.ok()) return name.status();
      serving::RequestedOutput requested{.name = *name};
      if (auto params = output.FindMember("parameters"); params != output.MemberEnd()) {
        auto parsed = ReadParameters(params->value, where);
        if (!parsed.ok()) return parsed.status();
        if (absl::Status flag = RequireBool(*parsed, "binary_data", where); !flag.ok()) return flag;
        requested.parameters = std::move(*parsed);
      }
      request.outputs.push_back(std::move(requested));
    }
  }
  return request;
}

void WriteParameters(const Parameters& parameters, JsonWriter& writer) {
  writer.StartObject();
  for (const auto& [key, value] : parameters) {
    writer.Key(key.c_str());
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) writer.Bool(v);
          else if constexpr (std::is_same_v<T, int64_t>) writer.Int64(v);
          else if constexpr (std::is_same_v<T, double>) writer.Double(v);
          else writer.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
        },
        value);
  }
  writer.EndObject();
}

EncodedBody EncodeInferResponse(const serving::InferenceResponse& response, const serving::InferenceRequest& request) {
  const bool all_binary = serving::BoolParameter(request.parameters, "binary_data_output").value_or(false);
  auto wants_binary = [&](const std::string& name) {
    for (const serving::RequestedOutput& output : request.outputs) {
      if (output.name == name) {
        if (auto binary = serving::BoolParameter(output.parameters, "binary_data")) return *binary;
      }
    }
    return all_binary;
  };
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  std::vector<const serving::Tensor*> binary;
  writer.StartObject();
  writer.Key("model_name");
  writer.String(response.model.c_str());
  writer.Key("model_version");
  writer.String(response.version.c_str());
  if (!response.id.empty()) {
    writer.Key("id");
    writer.String(response.id.c_str());
  }
  if (!response.parameters.empty()) {
    writer.Key("parameters");
    WriteParameters(response.parameters, writer);
  }
  writer.Key("outputs");
  writer.StartArray();
  for (const serving::Tensor& output : response.outputs) {
    writer.StartObject();
    writer.Key("name");
    writer.String(output.name().c_str());
    writer.Key("datatype");
    const absl::string_view type = serving::DataTypeName(output.type());
    writer.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
    writer.Key("shape");
    writer.StartArray();
    for (int64_t dim : output.shape()) writer.Int64(dim);
    writer.EndArray();
    if (wants_binary(output.name())) {
      writer.Key("parameters");
      writer.StartObject();
      writer.Key("binary_data_size");
      writer.Uint64(output.byte_size());
      writer.EndObject();
      binary.push_back(&output);
    } else {
      writer.Key("data");
      WriteFlatData(output, writer);
    }
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  EncodedBody encoded;
  encoded.body.assign(buffer.GetString(), buffer.GetSize());
  if (!binary.empty()) {
    encoded.json_length = encoded.body.size();
    for (const serving::Tensor* tensor : binary) absl::StrAppend(&encoded.body, tensor->bytes());
  }
  return encoded;
}

}  // namespace meridian::protocol
