// Runs ONNX conformance cases in order from a start index, one result line per case on stdout:
//   INDEX <tab> CASE <tab> RESULT <tab> DETAIL
// A case that crashes OpenCV ends the process; the supervising test restarts after it.

#include <cstdlib>
#include <iostream>

#include "tests/onnx_conformance/conformance_case.h"

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : meridian::testing::kOnnxTestDataRoot;
  const size_t start = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 0;
  const std::vector<std::string> cases = meridian::testing::OnnxConformanceCases(root);
  for (size_t i = start; i < cases.size(); ++i) {
    meridian::testing::CaseOutcome outcome = meridian::testing::RunOnnxConformanceCase(cases[i]);
    std::cout << i << '\t' << cases[i].substr(root.size() + 1) << '\t'
              << meridian::testing::CaseResultName(outcome.result) << '\t' << outcome.detail << std::endl;
  }
  return 0;
}
