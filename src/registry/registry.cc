#include "registry/registry.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "registry/names.h"

namespace meridian::registry {
namespace {

using store::VersionRecord;
using store::VersionStatus;

// The stores keep microseconds; records handed back must equal what a later read returns.
absl::Time Now(Clock* clock) { return absl::FromUnixMicros(absl::ToUnixMicros(clock->Now())); }

// Versions as stored always parse; one that does not is skipped rather than breaking listing.
std::vector<std::pair<SemVer, VersionRecord>> Parsed(std::vector<VersionRecord> versions) {
  std::vector<std::pair<SemVer, VersionRecord>> out;
  for (auto& v : versions) {
    if (auto parsed = SemVer::Parse(v.version); parsed.ok()) out.emplace_back(*parsed, std::move(v));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Registry>> Registry::Create(const RegistryOptions& options) {
  if (options.metadata == nullptr || options.blobs == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError("Registry needs a metadata store, a blob store and a clock");
  }
  return std::unique_ptr<Registry>(new Registry(options));
}

absl::StatusOr<store::ModelRecord> Registry::CreateModel(const CreateModelRequest& request,
                                                         absl::string_view actor) {
  RETURN_IF_ERROR(ValidateModelName(request.name));
  RETURN_IF_ERROR(ValidateDnsLabel("namespace", request.namespace_name));
  RETURN_IF_ERROR(ValidateTags(request.tags));
  if (request.description.size() > 4096) {
    return absl::InvalidArgumentError("description is longer than 4096 bytes");
  }
  const absl::Time now = Now(options_.clock);
  store::ModelRecord model{.name = request.name, .namespace_name = request.namespace_name,
                           .description = request.description, .tags = request.tags,
                           .owner = std::string(actor), .created_at = now, .updated_at = now};
  RETURN_IF_ERROR(options_.metadata->CreateModel(model));
  return model;
}

absl::StatusOr<store::ModelRecord> Registry::GetModel(absl::string_view name) {
  RETURN_IF_ERROR(ValidateModelName(name));
  return options_.metadata->GetModel(name);
}

absl::StatusOr<store::ModelPage> Registry::ListModels(const store::ListModelsOptions& options) {
  if (options.page_size < 1 || options.page_size > 1000) {
    return absl::InvalidArgumentError("pageSize must be between 1 and 1000");
  }
  if (options.tag) RETURN_IF_ERROR(ValidateTags({{options.tag->first, options.tag->second}}));
  return options_.metadata->ListModels(options);
}

absl::StatusOr<store::ModelRecord> Registry::UpdateModel(absl::string_view name,
                                                         const UpdateModelRequest& request) {
  ASSIGN_OR_RETURN(store::ModelRecord model, GetModel(name));
  if (request.description) {
    if (request.description->size() > 4096) {
      return absl::InvalidArgumentError("description is longer than 4096 bytes");
    }
    model.description = *request.description;
  }
  if (request.tags) {
    RETURN_IF_ERROR(ValidateTags(*request.tags));
    model.tags = *request.tags;
  }
  model.updated_at = Now(options_.clock);
  RETURN_IF_ERROR(options_.metadata->UpdateModel(model));
  return model;
}

absl::Status Registry::DeleteModel(absl::string_view name) {
  RETURN_IF_ERROR(ValidateModelName(name));
  return Changed(name, options_.metadata->DeleteModel(name));
}

absl::Status Registry::Changed(absl::string_view model, absl::Status written) const {
  if (written.ok() && options_.on_references_changed) options_.on_references_changed(model);
  return written;
}

absl::Status Registry::CheckMetadata(absl::string_view framework, absl::string_view metadata_json) const {
  RETURN_IF_ERROR(ValidateMetadataJson(metadata_json));
  return options_.check_metadata ? options_.check_metadata(framework, metadata_json) : absl::OkStatus();
}

absl::StatusOr<VersionRecord> Registry::RegisterVersion(const RegisterVersionRequest& request,
                                                        absl::string_view actor) {
  RETURN_IF_ERROR(ValidateModelName(request.model));
  RETURN_IF_ERROR(ValidateFramework(request.framework));
  RETURN_IF_ERROR(ValidateTags(request.tags));
  RETURN_IF_ERROR(CheckMetadata(request.framework, request.metadata_json));
  RETURN_IF_ERROR(store::ValidateDigest(request.artifact_digest));
  if (!request.lineage.parent_version.empty()) {
    RETURN_IF_ERROR(SemVer::Parse(request.lineage.parent_version).status());
  }
  std::optional<SemVer> explicit_version;
  if (!request.version.empty()) {
    ASSIGN_OR_RETURN(explicit_version, SemVer::Parse(request.version));
  }
  // Inputs are all valid; now the state.
  auto blob = options_.blobs->Stat(request.artifact_digest);
  if (absl::IsNotFound(blob.status())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "artifact ", request.artifact_digest, " has not been uploaded; POST it to /api/v1/artifacts first"));
  }
  RETURN_IF_ERROR(blob.status());
  // A computed version can race with another registration; the loser recomputes.
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(std::vector<VersionRecord> existing, options_.metadata->ListVersions(request.model));
    auto sorted = Parsed(std::move(existing));
    SemVer version;
    if (explicit_version) {
      version = *explicit_version;
      for (const auto& [semver, record] : sorted) {
        if (semver == version) {
          return absl::AlreadyExistsError(
              semver.Identical(version)
                  ? absl::StrCat("version ", record.version, " of model \"", request.model,
                                 "\" already exists; versions are immutable, register a new one")
                  : absl::StrCat("version ", version.ToString(), " has the same precedence as existing version ",
                                 record.version, " (build metadata does not count)"));
        }
      }
    } else {
      version = sorted.empty() ? SemVer(1, 0, 0) : sorted.back().first.Bump(request.bump);
    }
    VersionRecord record{.model = request.model, .version = version.ToString(),
                         .framework = request.framework, .artifact_digest = request.artifact_digest,
                         .artifact_size = blob->size, .metadata_json = request.metadata_json,
                         .tags = request.tags, .lineage = request.lineage,
                         .created_by = std::string(actor), .created_at = Now(options_.clock),
                         .status = VersionStatus::kReady};
    absl::Status created = Changed(request.model, options_.metadata->CreateVersion(record));
    if (created.ok()) return record;
    if (!absl::IsAlreadyExists(created) || explicit_version || attempt >= 3) return created;
  }
}

absl::StatusOr<VersionRecord> Registry::Latest(absl::string_view model) {
  ASSIGN_OR_RETURN(auto all, options_.metadata->ListVersions(model));
  auto sorted = Parsed(std::move(all));
  for (auto it = sorted.rbegin(); it != sorted.rend(); ++it) {
    if (!it->first.is_prerelease() && it->second.status == VersionStatus::kReady) return it->second;
  }
  return absl::NotFoundError(absl::StrCat("model \"", model, "\" has no READY release version, so no \"latest\""));
}

absl::StatusOr<VersionRecord> Registry::GetVersion(absl::string_view model, absl::string_view ref) {
  RETURN_IF_ERROR(ValidateModelName(model));
  if (ref == "latest") return Latest(model);
  if (SemVer::Parse(ref).ok()) return options_.metadata->GetVersion(model, ref);
  if (ValidateDnsLabel("alias name", ref).ok()) {
    auto alias = options_.metadata->GetAlias(model, ref);
    if (alias.ok()) return options_.metadata->GetVersion(model, alias->version);
    if (!absl::IsNotFound(alias.status())) return alias.status();
    RETURN_IF_ERROR(options_.metadata->GetModel(model).status());
    return absl::NotFoundError(absl::StrCat("model \"", model, "\" has no version or alias \"", ref, "\""));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", ref, "\" is neither a semantic version, an alias name nor \"latest\""));
}

absl::StatusOr<std::vector<VersionRecord>> Registry::ListVersions(absl::string_view model, VersionOrder order) {
  RETURN_IF_ERROR(ValidateModelName(model));
  ASSIGN_OR_RETURN(auto all, options_.metadata->ListVersions(model));
  auto sorted = Parsed(std::move(all));
  std::vector<VersionRecord> out;
  for (auto& [semver, record] : sorted) out.push_back(std::move(record));
  if (order == VersionOrder::kDescending) std::reverse(out.begin(), out.end());
  return out;
}

absl::StatusOr<VersionPage> Registry::ListVersions(absl::string_view model, const ListVersionsOptions& options) {
  if (options.page_size < 1 || options.page_size > 1000) {
    return absl::InvalidArgumentError("pageSize must be between 1 and 1000");
  }
  std::string after;
  if (!options.page_token.empty() &&
      (!absl::WebSafeBase64Unescape(options.page_token, &after) || !SemVer::Parse(after).ok())) {
    return absl::InvalidArgumentError("invalid pageToken: pass the nextPageToken of the previous page");
  }
  ASSIGN_OR_RETURN(std::vector<VersionRecord> all, ListVersions(model, options.order));
  VersionPage page;
  bool past_token = after.empty();
  for (auto& v : all) {
    if (!past_token) {
      past_token = v.version == after;
      continue;
    }
    if (!options.filter.Matches(v)) continue;
    if (static_cast<int>(page.versions.size()) == options.page_size) {
      page.next_page_token = absl::WebSafeBase64Escape(page.versions.back().version);
      break;
    }
    page.versions.push_back(std::move(v));
  }
  return page;
}

absl::StatusOr<VersionRecord> Registry::UpdateVersion(absl::string_view model, absl::string_view version,
                                                      const UpdateVersionRequest& request) {
  RETURN_IF_ERROR(ValidateModelName(model));
  ASSIGN_OR_RETURN(VersionRecord record, options_.metadata->GetVersion(model, version));
  if (request.metadata_json) {
    RETURN_IF_ERROR(CheckMetadata(record.framework, *request.metadata_json));
    record.metadata_json = *request.metadata_json;
  }
  if (request.tags) {
    RETURN_IF_ERROR(ValidateTags(*request.tags));
    record.tags = *request.tags;
  }
  if (request.status) {
    const bool allowed = (*request.status == VersionStatus::kArchived || *request.status == VersionStatus::kReady) &&
                         (record.status == VersionStatus::kReady || record.status == VersionStatus::kArchived);
    if (!allowed) {
      return absl::InvalidArgumentError(absl::StrCat("cannot change status from ", store::VersionStatusName(record.status),
                                                     " to ", store::VersionStatusName(*request.status),
                                                     "; only READY <-> ARCHIVED is allowed"));
    }
    record.status = *request.status;
  }
  RETURN_IF_ERROR(Changed(model, options_.metadata->UpdateVersion(record)));
  return record;
}

absl::Status Registry::HoldVersion(absl::string_view model, absl::string_view version, absl::string_view holder) {
  return options_.metadata->AddVersionReference(model, version, holder);
}

absl::Status Registry::ReleaseVersion(absl::string_view model, absl::string_view version,
                                      absl::string_view holder) {
  return options_.metadata->RemoveVersionReference(model, version, holder);
}

absl::Status Registry::DeleteVersion(absl::string_view model, absl::string_view version) {
  RETURN_IF_ERROR(ValidateModelName(model));
  ASSIGN_OR_RETURN(VersionRecord record, options_.metadata->GetVersion(model, version));
  RETURN_IF_ERROR(Changed(model, options_.metadata->DeleteVersion(model, version)));
  ASSIGN_OR_RETURN(int64_t uses, options_.metadata->CountArtifactUses(record.artifact_digest));
  if (uses == 0) {
    absl::Status deleted = options_.blobs->Delete(record.artifact_digest);
    if (!deleted.ok() && !absl::IsNotFound(deleted)) return deleted;
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Registry::CollectUnusedArtifacts(absl::Duration min_age) {
  ASSIGN_OR_RETURN(auto blobs, options_.blobs->List());
  const absl::Time cutoff = options_.clock->Now() - min_age;
  int deleted = 0;
  for (const auto& blob : blobs) {
    if (blob.modified > cutoff) continue;
    ASSIGN_OR_RETURN(int64_t uses, options_.metadata->CountArtifactUses(blob.digest));
    if (uses > 0) continue;
    absl::Status s = options_.blobs->Delete(blob.digest);
    if (s.ok()) ++deleted;
    if (!s.ok() && !absl::IsNotFound(s)) return s;
  }
  return deleted;
}

absl::StatusOr<store::AliasRecord> Registry::SetAlias(absl::string_view model, absl::string_view alias,
                                                      absl::string_view version_ref, absl::string_view actor,
                                                      absl::string_view reason) {
  RETURN_IF_ERROR(ValidateAliasName(alias));
  ASSIGN_OR_RETURN(VersionRecord target, GetVersion(model, version_ref));
  if (target.status != VersionStatus::kReady) {
    return absl::FailedPreconditionError(absl::StrCat("version ", target.version, " is ",
                                                      store::VersionStatusName(target.status),
                                                      "; an alias may only point at a READY version"));
  }
  store::AliasRecord record{std::string(model), std::string(alias), target.version, std::string(actor),
                            Now(options_.clock)};
  RETURN_IF_ERROR(Changed(model, options_.metadata->SetAlias(record, reason)));
  return record;
}

absl::StatusOr<store::AliasRecord> Registry::GetAlias(absl::string_view model, absl::string_view alias) {
  RETURN_IF_ERROR(ValidateModelName(model));
  RETURN_IF_ERROR(ValidateAliasName(alias));
  return options_.metadata->GetAlias(model, alias);
}

absl::StatusOr<std::vector<store::AliasRecord>> Registry::ListAliases(absl::string_view model) {
  RETURN_IF_ERROR(ValidateModelName(model));
  RETURN_IF_ERROR(options_.metadata->GetModel(model).status());
  return options_.metadata->ListAliases(model);
}

absl::Status Registry::DeleteAlias(absl::string_view model, absl::string_view alias, absl::string_view actor,
                                   absl::string_view reason) {
  RETURN_IF_ERROR(ValidateModelName(model));
  RETURN_IF_ERROR(ValidateAliasName(alias));
  return Changed(model, options_.metadata->DeleteAlias(model, alias, actor, reason, Now(options_.clock)));
}

absl::StatusOr<std::vector<store::AliasEvent>> Registry::AliasHistory(absl::string_view model,
                                                                      absl::string_view alias) {
  RETURN_IF_ERROR(ValidateModelName(model));
  RETURN_IF_ERROR(ValidateAliasName(alias));
  RETURN_IF_ERROR(options_.metadata->GetModel(model).status());
  return options_.metadata->AliasHistory(model, alias);
}

absl::StatusOr<store::AliasRecord> Registry::Rollback(absl::string_view model, absl::string_view alias,
                                                      absl::string_view actor, absl::string_view reason) {
  ASSIGN_OR_RETURN(std::vector<store::AliasEvent> history, AliasHistory(model, alias));
  if (history.empty()) {
    return absl::NotFoundError(absl::StrCat("alias \"", alias, "\" of model \"", model, "\" has never been set"));
  }
  const store::AliasEvent& last = history.back();
  if (last.previous_version.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("alias \"", alias, "\" of model \"", model,
                                                      "\" has no earlier target to roll back to"));
  }
  const std::string why = reason.empty()
                              ? absl::StrCat("rollback from ", last.version.empty() ? "(deleted)" : last.version)
                              : std::string(reason);
  return SetAlias(model, alias, last.previous_version, actor, why);
}

}  // namespace meridian::registry
