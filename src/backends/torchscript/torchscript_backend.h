#pragma once

// TorchScript models (torch.jit.save files) through libtorch, on the CPU.
//
// A TorchScript file carries no tensor types or shapes, so the version metadata declares the
// signature ({"inputs": [...], "outputs": [...]}), in the order forward() takes and returns them.
// Each executing thread sets its own intra-op thread count (OpenMP's setting is per thread), so
// instances never fight over the cores.
//
// libtorch is loaded only when the first TorchScript model is: the backend is a module of its own
// (libmeridian_backend_torchscript.so, found where the build put it, beside the executable, or at
// $MERIDIAN_TORCHSCRIPT_BACKEND), opened by the backend this returns on its first Load.

#include <memory>

#include "serving/backend.h"

namespace meridian::backends {

std::unique_ptr<serving::Backend> MakeTorchScriptBackend();

}  // namespace meridian::backends
