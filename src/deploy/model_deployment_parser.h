#pragma once

// Reads a ModelDeployment from YAML or JSON, and writes its canonical JSON (every default
// filled in, keys in a fixed order: what is stored, hashed and returned by the API).

#include <string>

#include "absl/status/statusor.h"
#include "deploy/model_deployment.h"

namespace meridian::deploy {

// kInvalidArgument listing every error with its field path ("spec.replicas.min: must be at least
// 0; spec.canary.weight: must be between 0 and 100"). A "status" section is ignored; unknown
// fields are errors. `default_namespace` applies when metadata.namespace is absent.
absl::StatusOr<ModelDeploymentSpec> ParseModelDeployment(absl::string_view text,
                                                         absl::string_view default_namespace = "default");

// {"apiVersion":..., "kind":..., "metadata":{...}, "spec":{...}}; parses back to the same spec.
std::string ModelDeploymentToJson(const ModelDeploymentSpec& spec);
// Only the "spec" object (for the API's responses and revision history).
std::string ModelDeploymentSpecJson(const ModelDeploymentSpec& spec);

}  // namespace meridian::deploy
