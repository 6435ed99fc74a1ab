#pragma once

// The deployments REST API (resource "deployments" for RBAC):
//   PUT    /api/v1/namespaces/{ns}/deployments/{name}           apply a spec (YAML or JSON)
//   GET    /api/v1/namespaces/{ns}/deployments/{name}           spec and status
//   GET    /api/v1/namespaces/{ns}/deployments                  list in a namespace
//   GET    /api/v1/deployments                                  list in every namespace
//   DELETE /api/v1/namespaces/{ns}/deployments/{name}
//   GET    /api/v1/namespaces/{ns}/deployments/{name}/revisions revision history
//   POST   /api/v1/namespaces/{ns}/deployments/{name}:rollback  {"revision": N} or {} (previous)
// and the namespaces' quotas (resource "resourcequotas"):
//   PUT|GET|DELETE /api/v1/namespaces/{ns}/resourcequotas/{name}; GET .../resourcequotas;
//   GET /api/v1/resourcequotas

#include "absl/status/status.h"
#include "deploy/deployment_controller.h"
#include "http/router.h"

namespace meridian::deploy {

struct DeploymentRoutesOptions {
  DeploymentController* controller = nullptr;  // not owned
};

absl::Status AddDeploymentRoutes(const DeploymentRoutesOptions& options, http::Router& router);

}  // namespace meridian::deploy
