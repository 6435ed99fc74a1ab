// The physical limit: each backend called in-process in a loop, no protocol, no queue. The
// serving benchmarks (bench/serving/run.sh) compare Meridian's end-to-end numbers with these.
//   build/release/bench/backend_bench --benchmark_filter=mlp

#include <benchmark/benchmark.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/blas_kernels.h"
#include "rapidjson/document.h"
#include "server/backends.h"
#include "serving/backend.h"
#include "serving/model_signature.h"

namespace {

using meridian::serving::DataType;
using meridian::serving::Tensor;

struct Loaded {
  std::unique_ptr<meridian::serving::LoadedModel> model;
  std::string input_name;
  std::vector<int64_t> row_shape;  // without the batch dimension
  std::string row;                 // one row of FP32 input
};

Loaded Load(const std::string& fixture, const std::string& framework, const std::string& file) {
  static meridian::serving::BackendRegistry backends = [] {
    meridian::serving::BackendRegistry r;
    meridian::server::RegisterBackends(r);
    return r;
  }();
  const std::string dir = std::string(SOURCE_DIR) + "/tests/fixtures/models/" + fixture;
  std::ifstream meta(dir + "/metadata.json"), ref(dir + "/reference.json");
  std::stringstream meta_text, ref_text;
  meta_text << meta.rdbuf();
  ref_text << ref.rdbuf();
  auto declared = meridian::serving::SignatureFromMetadata(meta_text.str());
  auto model = (*backends.Find(framework))->Load({.artifact_path = dir + "/" + file, .declared_signature = *declared,
                                                  .intra_op_threads = 1});
  if (!model.ok()) std::abort();
  rapidjson::Document doc;
  doc.Parse(ref_text.str().c_str());
  const auto& input = doc["inputs"][0];
  Loaded loaded{std::move(*model), input["name"].GetString(), {}, {}};
  int64_t per_row = 1;
  for (rapidjson::SizeType i = 1; i < input["shape"].Size(); ++i) {
    loaded.row_shape.push_back(input["shape"][i].GetInt64());
    per_row *= input["shape"][i].GetInt64();
  }
  for (int64_t i = 0; i < per_row; ++i) {
    const float v = static_cast<float>(input["data"][static_cast<rapidjson::SizeType>(i)].GetDouble());
    loaded.row.append(reinterpret_cast<const char*>(&v), 4);
  }
  return loaded;
}

void Run(benchmark::State& state, const std::string& fixture, const std::string& framework, const std::string& file) {
  static std::map<std::string, Loaded> cache;
  if (!cache.contains(fixture)) cache.emplace(fixture, Load(fixture, framework, file));
  Loaded& loaded = cache.at(fixture);
  const int64_t batch = state.range(0);
  std::vector<int64_t> shape = {batch};
  shape.insert(shape.end(), loaded.row_shape.begin(), loaded.row_shape.end());
  std::string data;
  for (int64_t i = 0; i < batch; ++i) data += loaded.row;
  const std::vector<Tensor> inputs = {Tensor::Owned(loaded.input_name, DataType::kFp32, shape, data)};
  for (auto _ : state) {
    auto outputs = loaded.model->Execute(inputs, {});
    if (!outputs.ok()) state.SkipWithError("execution failed");
    benchmark::DoNotOptimize(outputs);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

// One row at a time with the thread idle for state.range(0) microseconds before each call (not
// timed), as an instance thread is between the requests of a lone client: what the call costs
// when the model's weights and the thread are no longer hot.
void RunAfterIdle(benchmark::State& state, const std::string& fixture, const std::string& framework,
                  const std::string& file) {
  Loaded loaded = Load(fixture, framework, file);
  std::vector<int64_t> shape = {1};
  shape.insert(shape.end(), loaded.row_shape.begin(), loaded.row_shape.end());
  const std::vector<Tensor> inputs = {Tensor::Owned(loaded.input_name, DataType::kFp32, shape, loaded.row)};
  for (auto _ : state) {
    state.PauseTiming();
    std::this_thread::sleep_for(std::chrono::microseconds(state.range(0)));
    state.ResumeTiming();
    auto outputs = loaded.model->Execute(inputs, {});
    if (!outputs.ok()) state.SkipWithError("execution failed");
    benchmark::DoNotOptimize(outputs);
  }
}

}  // namespace

BENCHMARK_CAPTURE(Run, mlp_onnx, std::string("mlp-onnx"), std::string("onnx"), std::string("model.onnx"))
    ->Arg(1)->Arg(32)->UseRealTime();
BENCHMARK_CAPTURE(Run, mlp_torchscript, std::string("mlp-torchscript"), std::string("torchscript"), std::string("model.pt"))
    ->Arg(1)->Arg(32)->UseRealTime();
BENCHMARK_CAPTURE(Run, cnn_onnx, std::string("cnn-onnx"), std::string("onnx"), std::string("model.onnx"))
    ->Arg(1)->UseRealTime();
// The CNN fixture declares a batch of 1, but the traced TorchScript model takes any batch, as
// Meridian's batcher gives it when the model is pushed with a variable batch dimension.
BENCHMARK_CAPTURE(Run, cnn_torchscript, std::string("cnn-torchscript"), std::string("torchscript"), std::string("model.pt"))
    ->Arg(1)->Arg(32)->UseRealTime();

BENCHMARK_CAPTURE(RunAfterIdle, mlp_torchscript, std::string("mlp-torchscript"), std::string("torchscript"),
                  std::string("model.pt"))
    ->Arg(0)->Arg(150)->UseRealTime();

// The in-process loop runs with the kernels `meridian serve` runs with (common/blas_kernels.h).
int main(int argc, char** argv) {
  meridian::RestartWithBetterBlasKernels(argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
