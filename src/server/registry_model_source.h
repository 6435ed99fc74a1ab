#pragma once

// Serves model files straight from the registry: versions and aliases resolve through it, and
// every artifact's digest is re-checked before a backend sees the file.

#include "registry/registry.h"
#include "serving/model_source.h"

namespace meridian::server {

class RegistryModelSource final : public serving::ModelSource {
 public:
  explicit RegistryModelSource(registry::Registry* registry) : registry_(registry) {}
  absl::StatusOr<serving::ModelArtifact> Fetch(absl::string_view model, absl::string_view ref) override;
  absl::StatusOr<std::vector<std::string>> Versions(absl::string_view model) override;
  absl::StatusOr<std::string> Resolve(absl::string_view model, absl::string_view ref) override;
  absl::StatusOr<std::vector<std::string>> Models() override;

 private:
  registry::Registry* registry_;
};

}  // namespace meridian::server
