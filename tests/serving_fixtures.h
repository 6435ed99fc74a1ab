#pragma once

// The test models of tests/fixtures/models (made by scripts/make-test-models) with their
// reference inputs and outputs, and helpers to register and load them on a test server.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "http/http_client.h"
#include "serving/tensor.h"

namespace meridian::testing {

struct ModelFixture {
  std::string name;       // folder name, also the model name the tests register
  std::string framework;
  std::string artifact_path;
  std::string metadata_json;
  std::vector<serving::Tensor> inputs;
  std::vector<serving::Tensor> outputs;  // what the framework itself computed
  std::string inputs_json;   // the reference "inputs" array as JSON text
};

std::vector<std::string> AllFixtureNames();
absl::StatusOr<ModelFixture> LoadFixture(const std::string& name);

// Uploads the artifact and registers it as `model` version `version` (creating the model).
absl::Status Push(http::HttpClient& client, const ModelFixture& fixture, const std::string& model,
                  const std::string& version = "1.0.0");
// Push, then load it.
absl::Status PushAndLoad(http::HttpClient& client, const ModelFixture& fixture, const std::string& model,
                         const std::string& version = "1.0.0");

// Elementwise comparison: exact for integers, within `relative` (or 1e-6 absolute near zero) for
// floats. An empty string means equal; otherwise it describes the first difference.
std::string CompareTensors(const serving::Tensor& expected, const serving::Tensor& actual, double relative = 1e-5);

// Parses OIP JSON output tensors ({"name","datatype","shape","data"}) from a response body.
absl::StatusOr<std::vector<serving::Tensor>> ParseJsonOutputs(const std::string& body);

// The value of one series (name with its labels, e.g. `x_total{model="m"}`) in a Prometheus text
// exposition; -1 when the series is absent.
double MetricValue(const std::string& exposition, const std::string& series);

}  // namespace meridian::testing
