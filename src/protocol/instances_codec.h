#pragma once

// The "instances" -> "predictions" row format of KServe V1 (and Meridian's /predict): each
// instance is one row of the batch, each prediction one row of the answer. Datatypes come from
// the model's signature, so clients send plain JSON numbers.

#include <vector>

#include "absl/status/statusor.h"
#include "protocol/tensor_json.h"
#include "rapidjson/document.h"
#include "serving/model_signature.h"

namespace meridian::protocol {

// A model with one input takes rows directly ([[...], [...]]); a model with several takes one
// object per row ({"a": [...], "b": [...]}).
absl::StatusOr<std::vector<serving::Tensor>> DecodeInstances(const rapidjson::Value& instances,
                                                             const serving::ModelSignature& signature);

// One output: a list of its rows. Several: a list of {"name": row} objects.
void WritePredictions(const std::vector<serving::Tensor>& outputs, JsonWriter& writer);

}  // namespace meridian::protocol
