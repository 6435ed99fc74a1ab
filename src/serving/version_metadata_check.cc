#include "serving/version_metadata_check.h"

#include "absl/strings/str_cat.h"
#include "serving/model_signature.h"
#include "serving/response_cache.h"

namespace meridian::serving {

absl::Status CheckVersionMetadata(absl::string_view metadata_json, const BatchingConfig& batching_defaults,
                                  const Backend* backend) {
  absl::StatusOr<std::optional<ModelSignature>> signature = SignatureFromMetadata(metadata_json);
  if (!signature.ok()) return signature.status();
  if (!signature->has_value() && backend != nullptr && backend->requires_declared_signature()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a ", backend->name(), " model file does not say its inputs and outputs: declare them in the version "
        "metadata (meridian model push --metadata-file), e.g. "
        R"({"inputs":[{"name":"input__0","datatype":"FP32","shape":[-1,784]}],)"
        R"("outputs":[{"name":"output__0","datatype":"FP32","shape":[-1,10]}]})"));
  }
  if (auto batching = BatchingFromMetadata(metadata_json, batching_defaults); !batching.ok()) return batching.status();
  if (auto cache = ResponseCacheFromMetadata(metadata_json); !cache.ok()) return cache.status();
  return absl::OkStatus();
}

}  // namespace meridian::serving
