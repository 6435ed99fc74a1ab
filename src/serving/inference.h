#pragma once

// One inference request and its answer, independent of the protocol that carried them
// (OIP v2 JSON or binary, gRPC, KServe V1, /predict all decode into these).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "serving/tensor.h"

namespace meridian::serving {

// An OIP v2 parameter value: bool, int64, double or string.
using ParameterValue = std::variant<bool, int64_t, double, std::string>;
using Parameters = std::map<std::string, ParameterValue>;

struct RequestedOutput {
  std::string name;
  Parameters parameters;  // e.g. binary_data: true
};

struct InferenceRequest {
  std::string id;
  std::string model;
  std::string version;  // empty: the newest version (see ModelRepository::Find)
  std::vector<Tensor> inputs;
  // Empty: every output of the model.
  std::vector<RequestedOutput> outputs;
  Parameters parameters;  // request-level
  // Set by the input's own parameters (binary_data_size is consumed by the decoder).
  std::map<std::string, Parameters> input_parameters;
  // True once the client has gone away (disconnected, cancelled): a queued request that nobody
  // waits for is dropped instead of executed. Empty: the transport cannot tell. Thread-safe.
  std::function<bool()> client_gone;
  // Whether the thread that submits the request may execute it itself when the model version is
  // idle and quick (DynamicBatcherOptions::execute_inline_below). False for work that must not
  // hold up its caller, such as a shadow deployment's copy of a request.
  bool may_execute_inline = true;
  // Whether the thread that submits the request may execute the full batch it completes
  // (DynamicBatcherOptions::execute_inline_below). Set by transports whose I/O threads gain from
  // it: a gRPC connection carries many calls, whose answers then leave together. An HTTP/1.1 I/O
  // thread serves many connections with one request each; held for a batch (and writing the
  // answers of its own connections one by one) it delays them all, which raised the 99th
  // percentile at 64 REST clients from about 2 ms to 2.3-4.6 ms for no gain in throughput. A gRPC
  // connection with a lone call in flight is the same case (64 connections with one call each:
  // 14 % fewer answers per second with it), so unary calls set it only beside other calls.
  bool may_execute_batch_inline = false;
};

struct InferenceResponse {
  std::string model;
  std::string version;
  std::string id;
  std::vector<Tensor> outputs;
  Parameters parameters;
};

// Receives the answer to one request, exactly once.
using InferenceCallback = std::function<void(absl::StatusOr<InferenceResponse>)>;

// Reads a parameter of the expected type; nullopt when absent or of another type.
std::optional<bool> BoolParameter(const Parameters& parameters, absl::string_view key);
std::optional<int64_t> IntParameter(const Parameters& parameters, absl::string_view key);

}  // namespace meridian::serving
