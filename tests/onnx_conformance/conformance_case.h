#pragma once

// One case of the ONNX backend conformance suite (Debian's libonnx-testdata): a model.onnx and
// test_data_set_*/ with input_*.pb and the expected output_*.pb, run through Meridian's ONNX
// backend and compared with the suite's default tolerance (rtol 1e-3, atol 1e-7).

#include <string>
#include <vector>

namespace meridian::testing {

inline constexpr char kOnnxTestDataRoot[] = "/usr/include/onnx/backend/test/data";

// Every case directory (a folder with a model.onnx), sorted, e.g. ".../node/test_abs".
std::vector<std::string> OnnxConformanceCases(const std::string& root);

enum class CaseResult { kPassed, kFailed, kUnsupported, kCrashed };
const char* CaseResultName(CaseResult result);  // "passed", "failed", "unsupported", "crashed"

struct CaseOutcome {
  CaseResult result = CaseResult::kFailed;
  std::string detail;  // why it failed or is unsupported (first line)
};

// Loads and runs one case in this process.
CaseOutcome RunOnnxConformanceCase(const std::string& case_dir);

}  // namespace meridian::testing
