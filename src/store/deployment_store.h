#pragma once

// Durable state of deployments: each ModelDeployment's current spec and its numbered revision
// history (every applied spec, as kubectl rollout history keeps them), and the namespaces'
// resource quotas. Implemented by the same
// stores as MetadataStore (SQLite, PostgreSQL), in the same database. Every method is one
// transaction and thread-safe. Errors as MetadataStore: kNotFound, kUnavailable/kInternal.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace meridian::store {

struct DeploymentRevisionRecord {
  std::string namespace_name;
  std::string name;
  int64_t revision = 0;   // 1, 2, ... per deployment
  std::string spec_json;  // the spec as applied (normalised JSON)
  std::string spec_hash;  // SHA-256 of spec_json: an identical re-apply makes no revision
  std::string actor;
  std::string reason;     // "applied", "rollback to revision 2", "canary promoted: ..."
  absl::Time created_at;
};

struct DeploymentRecord {
  std::string namespace_name;
  std::string name;
  DeploymentRevisionRecord current;  // the revision in force
  absl::Time created_at;
};

// A namespace's ResourceQuota (Kubernetes semantics); `hard_json` maps resource names to amounts.
struct ResourceQuotaRecord {
  std::string namespace_name;
  std::string name;
  std::string hard_json;  // {"requests.cpu": 4000, ...} in milli CPU, bytes and milli GPU
  absl::Time updated_at;
};

class DeploymentStore {
 public:
  virtual ~DeploymentStore() = default;

  // Appends `revision` (its number is assigned: one past the highest so far) and makes it the
  // deployment's current one, creating the deployment on its first revision. Returns the record.
  virtual absl::StatusOr<DeploymentRecord> AppendDeploymentRevision(const DeploymentRevisionRecord& revision) = 0;
  virtual absl::StatusOr<DeploymentRecord> GetDeployment(absl::string_view namespace_name, absl::string_view name) = 0;
  // Every deployment (of every namespace when `namespace_name` is empty), by namespace and name.
  virtual absl::StatusOr<std::vector<DeploymentRecord>> ListDeployments(absl::string_view namespace_name) = 0;
  // Oldest first.
  virtual absl::StatusOr<std::vector<DeploymentRevisionRecord>> ListDeploymentRevisions(
      absl::string_view namespace_name, absl::string_view name) = 0;
  // Deletes the deployment and its history; kNotFound when there is none.
  virtual absl::Status DeleteDeployment(absl::string_view namespace_name, absl::string_view name) = 0;

  // Creates or replaces by (namespace, name).
  virtual absl::Status PutResourceQuota(const ResourceQuotaRecord& quota) = 0;
  // kNotFound when there is none.
  virtual absl::Status DeleteResourceQuota(absl::string_view namespace_name, absl::string_view name) = 0;
  // Every quota, by namespace and name.
  virtual absl::StatusOr<std::vector<ResourceQuotaRecord>> ListResourceQuotas() = 0;
};

}  // namespace meridian::store
