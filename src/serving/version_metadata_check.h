#pragma once

// Checks the serving settings in a model version's metadata (the declared signature, "batching"
// over the server's defaults, "responseCache") the way loading the version reads them. The
// registry runs it when a version is registered or its metadata replaced, so that a version that
// could never load is refused at push, with the field named, instead of at its first load.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "serving/backend.h"
#include "serving/batching_config.h"

namespace meridian::serving {

// `backend` (may be null) is the version's framework: some need the signature declared.
absl::Status CheckVersionMetadata(absl::string_view metadata_json, const BatchingConfig& batching_defaults,
                                  const Backend* backend = nullptr);

}  // namespace meridian::serving
