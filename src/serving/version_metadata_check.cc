#include "serving/version_metadata_check.h"

#include "serving/model_signature.h"
#include "serving/response_cache.h"

namespace meridian::serving {

absl::Status CheckVersionMetadata(absl::string_view metadata_json, const BatchingConfig& batching_defaults) {
  if (auto signature = SignatureFromMetadata(metadata_json); !signature.ok()) return signature.status();
  if (auto batching = BatchingFromMetadata(metadata_json, batching_defaults); !batching.ok()) return batching.status();
  if (auto cache = ResponseCacheFromMetadata(metadata_json); !cache.ok()) return cache.status();
  return absl::OkStatus();
}

}  // namespace meridian::serving
