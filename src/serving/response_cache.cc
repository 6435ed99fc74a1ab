#include "serving/response_cache.h"
#include "common/json.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "rapidjson/document.h"

namespace meridian::serving {
namespace {

void AppendU64(std::string* out, uint64_t value) {
  char bytes[8];
  std::memcpy(bytes, &value, 8);
  out->append(bytes, 8);
}

void AppendString(std::string* out, absl::string_view text) {
  AppendU64(out, text.size());
  absl::StrAppend(out, text);
}

// Reads back what AppendU64/AppendString wrote; false when the bytes run out.
struct Reader {
  absl::string_view data;
  bool U64(uint64_t* value) {
    if (data.size() < 8) return false;
    std::memcpy(value, data.data(), 8);
    data.remove_prefix(8);
    return true;
  }
  bool String(absl::string_view* text) {
    uint64_t size = 0;
    if (!U64(&size) || size > data.size()) return false;
    *text = data.substr(0, size);
    data.remove_prefix(size);
    return true;
  }
};

void AppendParameter(std::string* out, const ParameterValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) AppendString(out, v);
        else AppendString(out, absl::StrCat(v));
      },
      value);
}

}  // namespace

absl::StatusOr<ResponseCacheSettings> ResponseCacheFromMetadata(absl::string_view metadata_json) {
  ResponseCacheSettings settings;
  rapidjson::Document doc;
  const bool parse_failed = !ParseUntrustedJson(metadata_json, doc).ok();
  if (parse_failed || !doc.IsObject()) return settings;
  auto cache = doc.FindMember("responseCache");
  if (cache == doc.MemberEnd()) return settings;
  if (!cache->value.IsObject()) return absl::InvalidArgumentError("metadata responseCache must be an object");
  for (const auto& member : cache->value.GetObject()) {
    const std::string field = member.name.GetString();
    if (field == "enabled") {
      if (!member.value.IsBool()) return absl::InvalidArgumentError("metadata responseCache.enabled must be true or false");
      settings.enabled = member.value.GetBool();
    } else if (field == "ttl") {
      absl::Duration ttl;
      if (!member.value.IsString() || !absl::ParseDuration(member.value.GetString(), &ttl) || ttl <= absl::ZeroDuration()) {
        return absl::InvalidArgumentError("metadata responseCache.ttl must be a positive duration such as \"60s\"");
      }
      settings.ttl = ttl;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("metadata responseCache.", field, " is not a setting (enabled, ttl)"));
    }
  }
  return settings;
}

std::string ResponseCacheKey(const InferenceRequest& request, absl::string_view version) {
  std::string material;
  for (const Tensor& input : request.inputs) {
    AppendString(&material, input.name());
    AppendString(&material, DataTypeName(input.type()));
    AppendU64(&material, input.shape().size());
    for (int64_t dim : input.shape()) AppendU64(&material, static_cast<uint64_t>(dim));
    AppendString(&material, input.bytes());
  }
  for (const RequestedOutput& output : request.outputs) {
    AppendString(&material, output.name);
    for (const auto& [key, value] : output.parameters) {
      if (key == "binary_data") continue;  // the encoding, not the answer
      AppendString(&material, key);
      AppendParameter(&material, value);
    }
  }
  for (const auto& [key, value] : request.parameters) {
    if (key == "priority" || key == "timeout" || key == "binary_data_output") continue;
    AppendString(&material, key);
    AppendParameter(&material, value);
  }
  return absl::StrCat(request.model, "/", version, "/", Sha256::HexOf(material));
}

std::string SerializeOutputs(const InferenceResponse& response) {
  std::string out;
  AppendU64(&out, response.outputs.size());
  for (const Tensor& tensor : response.outputs) {
    AppendString(&out, tensor.name());
    AppendU64(&out, static_cast<uint64_t>(tensor.type()));
    AppendU64(&out, tensor.shape().size());
    for (int64_t dim : tensor.shape()) AppendU64(&out, static_cast<uint64_t>(dim));
    AppendString(&out, tensor.bytes());
  }
  return out;
}

absl::StatusOr<std::vector<Tensor>> DeserializeOutputs(absl::string_view bytes) {
  Reader reader{bytes};
  const absl::Status corrupt = absl::DataLossError("cached response is corrupt");
  uint64_t count = 0;
  if (!reader.U64(&count) || count > 4096) return corrupt;
  std::vector<Tensor> outputs;
  for (uint64_t i = 0; i < count; ++i) {
    absl::string_view name, data;
    uint64_t type = 0, rank = 0;
    if (!reader.String(&name) || !reader.U64(&type) || type > static_cast<uint64_t>(DataType::kBytes) ||
        !reader.U64(&rank) || rank > 64) {
      return corrupt;
    }
    Shape shape;
    for (uint64_t d = 0; d < rank; ++d) {
      uint64_t dim = 0;
      if (!reader.U64(&dim)) return corrupt;
      shape.push_back(static_cast<int64_t>(dim));
    }
    if (!reader.String(&data)) return corrupt;
    Tensor tensor = Tensor::Owned(std::string(name), static_cast<DataType>(type), std::move(shape), std::string(data));
    if (!tensor.CheckConsistent().ok()) return corrupt;
    outputs.push_back(std::move(tensor));
  }
  return outputs;
}

}  // namespace meridian::serving
