#pragma once

// The inference protocols over REST, all onto one InferenceService:
//   Open Inference Protocol v2 (server and model metadata, model readiness, infer with JSON and
//   binary tensors; server liveness and readiness are health/'s) and Triton's model repository extension (index, load, unload);
//   KServe V1 (GET /v1/models/{name}, POST /v1/models/{name}:predict);
//   the quick /predict endpoint (see README).

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "common/thread_pool.h"
#include "http/router.h"
#include "serving/backend.h"
#include "serving/inference_service.h"

namespace meridian::protocol {

struct ServingRoutesOptions {
  serving::InferenceService* service = nullptr;      // not owned
  const serving::BackendRegistry* backends = nullptr;  // not owned, for server metadata
  ThreadPool* control_pool = nullptr;  // not owned; runs loads and unloads off the I/O threads
  uint64_t max_request_bytes = 64ull << 20;
  std::string server_version;
};

absl::Status AddServingRoutes(const ServingRoutesOptions& options, http::Router& router);

// "pytorch_torchscript", "onnx_opencv", "xgboost_json": the OIP `platform` of a framework.
std::string PlatformName(absl::string_view framework);

}  // namespace meridian::protocol
