#include "server/backends.h"

#include "backends/onnx/onnx_backend.h"
#include "backends/torchscript/torchscript_backend.h"
#include "backends/xgboost/xgboost_backend.h"

namespace meridian::server {

void RegisterBackends(serving::BackendRegistry& registry) {
  registry.Register(backends::MakeOnnxBackend());
  registry.Register(backends::MakeTorchScriptBackend());
  registry.Register(backends::MakeXgboostBackend());
}

}  // namespace meridian::server
