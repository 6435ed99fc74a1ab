#include "server/registry_model_source.h"

#include "common/status_macros.h"

namespace meridian::server {

absl::StatusOr<serving::ModelArtifact> RegistryModelSource::Fetch(absl::string_view model, absl::string_view ref) {
  ASSIGN_OR_RETURN(store::VersionRecord version, registry_->GetVersion(model, ref));
  ASSIGN_OR_RETURN(std::string path, registry_->blobs().VerifiedPath(version.artifact_digest));
  return serving::ModelArtifact{.model = version.model,
                                .version = version.version,
                                .framework = version.framework,
                                .path = std::move(path),
                                .metadata_json = version.metadata_json};
}

absl::StatusOr<std::vector<std::string>> RegistryModelSource::Versions(absl::string_view model) {
  ASSIGN_OR_RETURN(std::vector<store::VersionRecord> records,
                   registry_->ListVersions(model, registry::VersionOrder::kAscending));
  std::vector<std::string> versions;
  for (const store::VersionRecord& record : records) {
    if (record.status == store::VersionStatus::kReady) versions.push_back(record.version);
  }
  return versions;
}

absl::StatusOr<std::string> RegistryModelSource::Resolve(absl::string_view model, absl::string_view ref) {
  ASSIGN_OR_RETURN(store::VersionRecord version, registry_->GetVersion(model, ref));
  return version.version;
}

absl::StatusOr<std::vector<std::string>> RegistryModelSource::Models() {
  std::vector<std::string> names;
  store::ListModelsOptions page_options{.page_size = 1000};
  do {
    ASSIGN_OR_RETURN(store::ModelPage page, registry_->ListModels(page_options));
    for (const store::ModelRecord& model : page.models) names.push_back(model.name);
    page_options.page_token = page.next_page_token;
  } while (!page_options.page_token.empty());
  return names;
}

}  // namespace meridian::server
