#pragma once

// The ModelInferResponse Meridian sends for the MLP (one FP32 [1,10] output as raw bytes),
// serialized once, for the bench/grpc transport ceilings.

#include <string>

#include "api/grpc_predict_v2.pb.h"

inline inference::ModelInferResponse CannedInferResponse() {
  inference::ModelInferResponse response;
  response.set_model_name("mlp");
  response.set_model_version("1.0.0");
  auto* output = response.add_outputs();
  output->set_name("output__0");
  output->set_datatype("FP32");
  output->add_shape(1);
  output->add_shape(10);
  response.add_raw_output_contents(std::string(40, '\0'));
  return response;
}
