// The TorchScript backend proper, built as a module of its own (libmeridian_backend_torchscript.so)
// that torchscript_loader.cc opens the first time a TorchScript model is loaded.
#include "serving/backend.h"

#include <dlfcn.h>

#include <mutex>
#include <sstream>

#include <ATen/Parallel.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/frozen_linear_transpose.h>
#include <torch/script.h>
#include <torch/version.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace meridian::backends {
namespace {

using serving::DataType;
using serving::ModelSignature;
using serving::Tensor;

std::optional<c10::ScalarType> TorchType(DataType type) {
  switch (type) {
    case DataType::kBool: return c10::kBool;
    case DataType::kUint8: return c10::kByte;
    case DataType::kInt8: return c10::kChar;
    case DataType::kInt16: return c10::kShort;
    case DataType::kInt32: return c10::kInt;
    case DataType::kInt64: return c10::kLong;
    case DataType::kFp16: return c10::kHalf;
    case DataType::kFp32: return c10::kFloat;
    case DataType::kFp64: return c10::kDouble;
    default: return std::nullopt;  // torch 1.13 has no UINT16..UINT64; BYTES is not a tensor
  }
}

std::optional<DataType> OipType(c10::ScalarType type) {
  switch (type) {
    case c10::kBool: return DataType::kBool;
    case c10::kByte: return DataType::kUint8;
    case c10::kChar: return DataType::kInt8;
    case c10::kShort: return DataType::kInt16;
    case c10::kInt: return DataType::kInt32;
    case c10::kLong: return DataType::kInt64;
    case c10::kHalf: return DataType::kFp16;
    case c10::kFloat: return DataType::kFp32;
    case c10::kDouble: return DataType::kFp64;
    default: return std::nullopt;
  }
}

// The line of a libtorch error that says what went wrong. An error raised while a model runs
// starts "The following operation failed in the TorchScript interpreter." and ends with the cause
// ("RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x10 and 784x64)") after two
// tracebacks; a compilation error starts with a blank line; a c10::Error carries a C++ backtrace.
std::string TorchErrorSummary(const std::exception& error) {
  const auto* torch_error = dynamic_cast<const c10::Error*>(&error);
  const std::string text = torch_error != nullptr ? torch_error->what_without_backtrace() : error.what();
  std::vector<absl::string_view> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) lines.push_back(line);
  }
  if (lines.empty()) return "(libtorch gave no message)";
  const bool interpreter_failure = absl::StartsWith(lines.front(), "The following operation failed");
  return std::string(interpreter_failure ? lines.back() : lines.front());
}

class TorchScriptModel final : public serving::LoadedModel {
 public:
  TorchScriptModel(torch::jit::Module module, ModelSignature signature, int threads)
      : module_(std::move(module)), signature_(std::move(signature)), threads_(threads) {}

  const ModelSignature& signature() const override { return signature_; }

  absl::StatusOr<std::vector<Tensor>> Execute(const std::vector<Tensor>& inputs,
                                              const std::vector<std::string>& output_names) override {
    // OpenMP's thread count is per calling thread: set it once on each thread that executes.
    thread_local int configured_threads = 0;
    if (configured_threads != threads_) {
      at::set_num_threads(threads_);
      configured_threads = threads_;
    }
    try {
      c10::InferenceMode inference_mode;
      std::vector<torch::jit::IValue> arguments;
      for (const serving::TensorSpec& spec : signature_.inputs) {
        const Tensor* input = nullptr;
        for (const Tensor& candidate : inputs) {
          if (candidate.name() == spec.name) input = &candidate;
        }
        if (input == nullptr) return absl::InvalidArgumentError(absl::StrCat("missing input '", spec.name, "'"));
        std::optional<c10::ScalarType> type = TorchType(input->type());
        if (!type) {
          return absl::InvalidArgumentError(absl::StrCat("TorchScript cannot take ", DataTypeName(input->type()),
                                                         " input '", spec.name, "'"));
        }
        // from_blob does not copy; the request owns the bytes until Execute returns. Binary
        // request data can sit at any offset of the body: kernels want aligned elements.
        at::Tensor tensor = torch::from_blob(const_cast<char*>(input->data()), input->shape(),
                                             torch::TensorOptions().dtype(*type));
        const size_t element = serving::ElementSize(input->type());
        if (reinterpret_cast<uintptr_t>(input->data()) % element != 0) tensor = tensor.clone();
        arguments.emplace_back(std::move(tensor));
      }
      torch::jit::IValue result = module_.forward(arguments);
      std::vector<at::Tensor> produced;
      if (result.isTensor()) {
        produced.push_back(result.toTensor());
      } else if (result.isTuple()) {
        for (const auto& element : result.toTupleRef().elements()) {
          if (!element.isTensor()) return absl::InternalError("forward() returned a tuple with a non-tensor element");
          produced.push_back(element.toTensor());
        }
      } else if (result.isTensorList()) {
        for (const at::Tensor& element : result.toTensorVector()) produced.push_back(element);
      } else {
        return absl::InternalError(absl::StrCat("forward() returned ", result.tagKind(), "; expected tensors"));
      }
      if (produced.size() != signature_.outputs.size()) {
        return absl::InternalError(absl::StrCat("forward() returned ", produced.size(), " tensors but the metadata declares ",
                                                signature_.outputs.size(), " outputs"));
      }
      std::vector<Tensor> outputs;
      for (size_t i = 0; i < produced.size(); ++i) {
        at::Tensor tensor = produced[i].contiguous();
        std::optional<DataType> type = OipType(tensor.scalar_type());
        if (!type) return absl::InternalError(absl::StrCat("output ", i, " has an unsupported torch type"));
        serving::Shape shape(tensor.sizes().begin(), tensor.sizes().end());
        std::string bytes(static_cast<const char*>(tensor.data_ptr()), tensor.nbytes());
        outputs.push_back(Tensor::Owned(signature_.outputs[i].name, *type, std::move(shape), std::move(bytes)));
      }
      return serving::SelectOutputs(std::move(outputs), output_names);
    } catch (const std::exception& error) {
      return absl::InvalidArgumentError(absl::StrCat("TorchScript execution failed: ", TorchErrorSummary(error)));
    }
  }

 private:
  torch::jit::Module module_;
  ModelSignature signature_;
  int threads_;
};

// libtorch calls OpenBLAS for dense layers, and OpenBLAS runs its own thread pool sized to the
// machine, which fights the instance threads: measured 15.6 ms for a batch-32 MLP with the pool
// vs 0.14 ms without (docs/benchmarks.md). Its size is process-wide, so it follows the intra-op
// setting. Looked up at run time: libtorch may be linked against another BLAS.
void LimitBlasThreads(int threads) {
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(threads);
}

class TorchScriptBackend final : public serving::Backend {
 public:
  std::string name() const override { return "torchscript"; }
  std::string framework_version() const override { return TORCH_VERSION; }

  // libtorch's first use takes memory of its own (11 MB measured with the MLP fixture: the
  // interpreter, the archive reader, each operator's first call), which would be charged to the
  // first model loaded. A small module saved, loaded back and run the way a model is takes it
  // here instead. Operators it does not call still cost their first model a little (a few
  // hundred KB each, measured).
  absl::Status Prepare() override {
    std::call_once(used_once_, [this] { first_use_ = UseOnce(); });
    return first_use_;
  }

  absl::StatusOr<std::unique_ptr<serving::LoadedModel>> Load(const serving::ModelLoadOptions& options) override {
    if (!options.declared_signature) {
      return absl::InvalidArgumentError(
          "a TorchScript file carries no tensor types: declare the signature in the version metadata, e.g. "
          "{\"inputs\":[{\"name\":\"input__0\",\"datatype\":\"FP32\",\"shape\":[-1,784]}],"
          "\"outputs\":[{\"name\":\"output__0\",\"datatype\":\"FP32\",\"shape\":[-1,10]}]}");
    }
    if (absl::Status ready = Prepare(); !ready.ok()) return ready;
    LimitBlasThreads(std::max(1, options.intra_op_threads));
    try {
      torch::jit::Module module = torch::jit::load(options.artifact_path, torch::kCPU);
      module.eval();
      module = FreezeForInference(std::move(module));
      return std::unique_ptr<serving::LoadedModel>(std::make_unique<TorchScriptModel>(
          std::move(module), *options.declared_signature, std::max(1, options.intra_op_threads)));
    } catch (const std::exception& error) {
      return absl::InvalidArgumentError(absl::StrCat("not a loadable TorchScript file: ", TorchErrorSummary(error)));
    }
  }

 private:
  // Frozen (parameters folded into the graph as constants), with dense layers' weights transposed
  // once instead of on every call: the MLP fixture runs 15-20 % faster at batch 1 and 12 % at
  // batch 32, the CNN the same as before (docs/benchmarks.md). torch's optimize_for_inference was
  // measured too and dropped: its oneDNN conversions made the CNN 3x slower at batch 1. A module
  // that cannot be frozen (one whose forward changes its own attributes) runs as saved.
  static torch::jit::Module FreezeForInference(torch::jit::Module module) {
    try {
      torch::jit::Module frozen = torch::jit::freeze(module);
      std::shared_ptr<torch::jit::Graph> graph = frozen.get_method("forward").graph();
      torch::jit::FrozenLinearTranspose(graph);
      return frozen;
    } catch (const std::exception&) {
      return module;  // answers the same, only without the speed-up
    }
  }

  static absl::Status UseOnce() {
    try {
      // The operators most models use: dense and convolutional layers (as torch.jit.trace writes
      // them), activations, a tuple out.
      torch::jit::Module module("meridian_first_use");
      module.register_parameter("weight", torch::ones({256, 256}), /*requires_grad=*/false);
      module.register_parameter("bias", torch::zeros({256}), /*requires_grad=*/false);
      module.register_parameter("kernel", torch::ones({8, 1, 3, 3}), /*requires_grad=*/false);
      module.register_parameter("kernel_bias", torch::zeros({8}), /*requires_grad=*/false);
      module.define(R"(def forward(self, x, image):
  y = torch.softmax(torch.relu(torch.linear(x, self.weight, self.bias)), 1)
  c = torch._convolution(image, self.kernel, self.kernel_bias, [2, 2], [0, 0], [1, 1], False, [0, 0], 1, False, False, True, True)
  z = torch.flatten(torch.relu(c), 1)
  return (torch.add(y, 1.0), torch.mul(y, y), z)
)");
      std::stringstream archive;
      module.save(archive);
      torch::jit::Module loaded = torch::jit::load(archive, torch::kCPU);
      loaded.eval();
      loaded = FreezeForInference(std::move(loaded));
      c10::InferenceMode inference_mode;
      loaded.forward({torch::ones({32, 256}), torch::ones({1, 1, 28, 28})});
      return absl::OkStatus();
    } catch (const std::exception& error) {
      return absl::InternalError(absl::StrCat("libtorch failed its first use (a built-in module): ", TorchErrorSummary(error)));
    }
  }

  std::once_flag used_once_;
  absl::Status first_use_;
};

}  // namespace

}  // namespace meridian::backends

// The module's one entry point (torchscript_loader.cc): a backend the caller owns.
extern "C" __attribute__((visibility("default"))) meridian::serving::Backend* meridian_torchscript_backend_create() {
  return new meridian::backends::TorchScriptBackend();
}
