#pragma once

// XGBoost models (JSON and UBJSON model files) through libxgboost's C API.
//
// Signature: one FP32 input [-1, num_features] (NaN = missing value) and one FP32 output with
// the prediction shape the model produces ([-1] for binary and regression objectives,
// [-1, num_class] for multi:softprob). Names default to "input__0" / "output__0" and can be
// declared in the version metadata.

#include <memory>

#include "serving/backend.h"

namespace meridian::backends {

std::unique_ptr<serving::Backend> MakeXgboostBackend();

}  // namespace meridian::backends
