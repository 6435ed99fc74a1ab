#include "protocol/grpc_tensor_codec.h"

#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "protocol/grpc_infer_request_reader.h"

namespace meridian::protocol {
namespace {

using serving::DataType;

template <typename To, typename Repeated>
absl::Status AppendChecked(const Repeated& values, std::string* out, absl::string_view what) {
  for (const auto& v : values) {
    using From = std::decay_t<decltype(v)>;
    if constexpr (!std::is_same_v<From, To>) {
      if (!std::in_range<To>(v)) {
        return absl::InvalidArgumentError(absl::StrCat(what, " has a value out of range for its datatype: ", v));
      }
    }
    const To converted = static_cast<To>(v);
    char bytes[sizeof(To)];
    std::memcpy(bytes, &converted, sizeof(To));
    out->append(bytes, sizeof(To));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TypedContents(const inference::InferTensorContents& c, DataType type,
                                          absl::string_view what) {
  std::string out;
  absl::Status status;
  switch (type) {
    case DataType::kBool:
      for (bool b : c.bool_contents()) out.push_back(b ? 1 : 0);
      break;
    case DataType::kInt8: status = AppendChecked<int8_t>(c.int_contents(), &out, what); break;
    case DataType::kInt16: status = AppendChecked<int16_t>(c.int_contents(), &out, what); break;
    case DataType::kInt32: status = AppendChecked<int32_t>(c.int_contents(), &out, what); break;
    case DataType::kInt64: status = AppendChecked<int64_t>(c.int64_contents(), &out, what); break;
    case DataType::kUint8: status = AppendChecked<uint8_t>(c.uint_contents(), &out, what); break;
    case DataType::kUint16: status = AppendChecked<uint16_t>(c.uint_contents(), &out, what); break;
    case DataType::kUint32: status = AppendChecked<uint32_t>(c.uint_contents(), &out, what); break;
    case DataType::kUint64: status = AppendChecked<uint64_t>(c.uint64_contents(), &out, what); break;
    case DataType::kFp32: status = AppendChecked<float>(c.fp32_contents(), &out, what); break;
    case DataType::kFp64: status = AppendChecked<double>(c.fp64_contents(), &out, what); break;
    case DataType::kFp16:
      return absl::InvalidArgumentError(absl::StrCat(what, ": FP16 has no typed contents; send raw_input_contents"));
    case DataType::kBytes:
      for (const std::string& element : c.bytes_contents()) serving::AppendBytesElement(&out, element);
      break;
  }
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<serving::Parameters> ToParameters(
    const google::protobuf::Map<std::string, inference::InferParameter>& map) {
  serving::Parameters parameters;
  for (const auto& [key, value] : map) {
    switch (value.parameter_choice_case()) {
      case inference::InferParameter::kBoolParam: parameters[key] = value.bool_param(); break;
      case inference::InferParameter::kInt64Param: parameters[key] = value.int64_param(); break;
      case inference::InferParameter::kStringParam: parameters[key] = value.string_param(); break;
      case inference::InferParameter::kDoubleParam: parameters[key] = value.double_param(); break;
      default: return absl::InvalidArgumentError(absl::StrCat("parameter '", key, "' has no value"));
    }
  }
  return parameters;
}

}  // namespace

absl::StatusOr<serving::InferenceRequest> DecodeGrpcInferRequest(const inference::ModelInferRequest& request,
                                                                 const std::shared_ptr<const void>& owner) {
  serving::InferenceRequest decoded;
  decoded.id = request.id();
  decoded.model = request.model_name();
  decoded.version = request.model_version();
  auto parameters = ToParameters(request.parameters());
  if (!parameters.ok()) return parameters.status();
  decoded.parameters = std::move(*parameters);
  if (request.inputs().empty()) return absl::InvalidArgumentError("the request has no inputs");
  const bool raw = !request.raw_input_contents().empty();
  if (raw && request.raw_input_contents_size() != request.inputs_size()) {
    return absl::InvalidArgumentError(absl::StrCat("raw_input_contents has ", request.raw_input_contents_size(),
                                                   " entries for ", request.inputs_size(), " inputs"));
  }
  for (int i = 0; i < request.inputs_size(); ++i) {
    const auto& input = request.inputs(i);
    const std::string what = absl::StrCat("input '", input.name(), "'");
    if (input.name().empty()) return absl::InvalidArgumentError(absl::StrCat("inputs[", i, "] has no name"));
    std::optional<DataType> type = serving::ParseDataType(input.datatype());
    if (!type) return absl::InvalidArgumentError(absl::StrCat(what, " has unknown datatype '", input.datatype(), "'"));
    serving::Shape shape(input.shape().begin(), input.shape().end());
    for (int64_t dim : shape) {
      if (dim < 0) return absl::InvalidArgumentError(absl::StrCat(what, " shape must hold non-negative integers"));
    }
    if (raw) {
      if (input.has_contents()) {
        return absl::InvalidArgumentError(absl::StrCat(what, " has contents, but the request uses raw_input_contents"));
      }
      decoded.inputs.push_back(serving::Tensor::View(input.name(), *type, std::move(shape),
                                                     request.raw_input_contents(i), owner));
    } else {
      auto bytes = TypedContents(input.contents(), *type, what);
      if (!bytes.ok()) return bytes.status();
      decoded.inputs.push_back(serving::Tensor::Owned(input.name(), *type, std::move(shape), std::move(*bytes)));
    }
    if (absl::Status s = decoded.inputs.back().CheckConsistent(); !s.ok()) return s;
    auto input_parameters = ToParameters(input.parameters());
    if (!input_parameters.ok()) return input_parameters.status();
    if (!input_parameters->empty()) decoded.input_parameters[input.name()] = std::move(*input_parameters);
  }
  for (const auto& output : request.outputs()) {
    auto output_parameters = ToParameters(output.parameters());
    if (!output_parameters.ok()) return output_parameters.status();
    decoded.outputs.push_back({output.name(), std::move(*output_parameters)});
  }
  return decoded;
}

std::optional<absl::StatusOr<serving::InferenceRequest>> DecodeGrpcInferMessage(
    absl::string_view bytes, const std::shared_ptr<const void>& owner,
    std::shared_ptr<inference::ModelInferRequest>* parsed) {
  if (std::optional<serving::InferenceRequest> common = ReadCommonInferRequest(bytes, owner)) {
    return std::move(*common);
  }
  *parsed = std::make_shared<inference::ModelInferRequest>();
  if (!(*parsed)->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  return DecodeGrpcInferRequest(**parsed, *parsed);
}

}  // namespace meridian::protocol
