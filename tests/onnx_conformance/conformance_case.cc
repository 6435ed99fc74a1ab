#include "tests/onnx_conformance/conformance_case.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "backends/onnx/onnx_backend.h"
#include "backends/onnx/onnx_proto.h"

namespace meridian::testing {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Files named prefix_0.pb, prefix_1.pb, ... in numeric order.
std::vector<fs::path> NumberedFiles(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (int i = 0;; ++i) {
    fs::path path = dir / absl::StrCat(prefix, "_", i, ".pb");
    if (!fs::exists(path)) break;
    files.push_back(path);
  }
  return files;
}


std::string FirstLine(absl::string_view text) {
  std::string line(text.substr(0, text.find('\n')));
  std::replace(line.begin(), line.end(), '\t', ' ');
  return line.substr(0, 300);
}

}  // namespace

std::vector<std::string> OnnxConformanceCases(const std::string& root) {
  std::vector<std::string> cases;
  if (!fs::exists(root)) return cases;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().filename() == "model.onnx") cases.push_back(entry.path().parent_path().string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

const char* CaseResultName(CaseResult result) {
  switch (result) {
    case CaseResult::kPassed: return "passed";
    case CaseResult::kFailed: return "failed";
    case CaseResult::kUnsupported: return "unsupported";
    case CaseResult::kCrashed: return "crashed";
  }
  return "?";
}

CaseOutcome RunOnnxConformanceCase(const std::string& case_dir) {
  static std::unique_ptr<serving::Backend> backend = backends::MakeOnnxBackend();
  auto model = backend->Load({.artifact_path = case_dir + "/model.onnx"});
  if (!model.ok()) return {CaseResult::kUnsupported, FirstLine(model.status().message())};
  const serving::ModelSignature& signature = (*model)->signature();

  std::vector<fs::path> data_sets;
  for (const auto& entry : fs::directory_iterator(case_dir)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) {
      data_sets.push_back(entry.path());
    }
  }
  std::sort(data_sets.begin(), data_sets.end());
  if (data_sets.empty()) return {CaseResult::kUnsupported, "no test data"};
  for (const fs::path& data_set : data_sets) {
    std::vector<serving::Tensor> inputs;
    std::vector<fs::path> input_files = NumberedFiles(data_set, "input");
    if (input_files.size() > signature.inputs.size()) {
      return {CaseResult::kUnsupported, "more inputs than graph inputs"};
    }
    for (size_t i = 0; i < input_files.size(); ++i) {
      auto tensor = backends::onnx::ReadTensorProto(ReadFile(input_files[i]));
      if (!tensor.ok()) return {CaseResult::kUnsupported, FirstLine(tensor.status().message())};
      tensor->set_name(signature.inputs[i].name);
      inputs.push_back(std::move(*tensor));
    }
    auto outputs = (*model)->Execute(inputs, {});
    if (!outputs.ok()) return {CaseResult::kFailed, FirstLine(outputs.status().message())};
    std::vector<fs::path> output_files = NumberedFiles(data_set, "output");
    if (output_files.size() > outputs->size()) return {CaseResult::kFailed, "fewer outputs than expected"};
    for (size_t o = 0; o < output_files.size(); ++o) {
      auto expected = backends::onnx::ReadTensorProto(ReadFile(output_files[o]));
      if (!expected.ok()) return {CaseResult::kUnsupported, FirstLine(expected.status().message())};
      const serving::Tensor& actual = (*outputs)[o];
      if (expected->shape() != actual.shape()) {
        return {CaseResult::kFailed, absl::StrCat("output ", o, " shape ", serving::ShapeText(actual.shape()),
                                                  " != ", serving::ShapeText(expected->shape()))};
      }
      if (expected->type() == serving::DataType::kBytes || actual.type() == serving::DataType::kBytes) {
        if (expected->bytes() != actual.bytes()) return {CaseResult::kFailed, "string output differs"};
        continue;
      }
      const int64_t count = static_cast<int64_t>(expected->byte_size() / serving::ElementSize(expected->type()));
      for (int64_t i = 0; i < count; ++i) {
        const double e = serving::ElementAsDouble(*expected, i);
        const double a = serving::ElementAsDouble(actual, i);
        if (std::isnan(e) && std::isnan(a)) continue;
        if (std::isinf(e) && a == e) continue;
        if (!(std::abs(a - e) <= 1e-7 + 1e-3 * std::abs(e))) {
          return {CaseResult::kFailed, absl::StrCat("output ", o, " element ", i, ": ", a, " != ", e)};
        }
      }
    }
  }
  return {CaseResult::kPassed, ""};
}

}  // namespace meridian::testing
