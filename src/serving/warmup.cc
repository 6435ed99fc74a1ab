#include "serving/warmup.h"

#include <optional>

#include "absl/strings/str_cat.h"

namespace meridian::serving {
namespace {

std::optional<std::vector<Tensor>> ZeroInputs(const ModelSignature& signature) {
  std::vector<Tensor> inputs;
  for (const TensorSpec& spec : signature.inputs) {
    if (spec.type == DataType::kBytes) return std::nullopt;
    Shape shape = spec.shape;
    for (int64_t& dim : shape) dim = dim < 0 ? 1 : dim;
    absl::StatusOr<int64_t> count = ElementCount(shape);
    if (!count.ok() || *count > (1 << 26)) return std::nullopt;
    inputs.push_back(Tensor::Owned(spec.name, spec.type, shape, std::string(*count * ElementSize(spec.type), '\0')));
  }
  return inputs;
}

}  // namespace

absl::Status WarmUp(LoadedModel& model, int requests) {
  std::optional<std::vector<Tensor>> inputs = ZeroInputs(model.signature());
  if (!inputs) return absl::OkStatus();
  for (int i = 0; i < requests; ++i) {
    absl::StatusOr<std::vector<Tensor>> outputs = model.Execute(*inputs, {});
    if (!outputs.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("warm-up request failed: ", outputs.status().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace meridian::serving
