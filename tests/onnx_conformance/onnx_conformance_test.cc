// The ONNX backend conformance suite through Meridian's ONNX backend (OpenCV DNN). OpenCV covers
// part of ONNX; this test records how much (docs/benchmarks.md) and fails if the pass count ever
// goes down. Cases run in a child process that this test restarts after a crash.

#include <cstdlib>
#include <fstream>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/child_process.h"
#include "tests/onnx_conformance/conformance_case.h"

namespace meridian::testing {
namespace {

// Raise when the backend gets better; never lower.
constexpr int kMinimumPassed = 408;

TEST(OnnxConformanceTest, PassCountDoesNotGoDown) {
  const std::vector<std::string> cases = OnnxConformanceCases(kOnnxTestDataRoot);
  ASSERT_EQ(cases.size(), 1072u) << "libonnx-testdata (scripts/setup installs it) should hold 1,072 cases";
  std::map<size_t, std::string> lines;  // index -> result line
  size_t start = 0;
  while (start < cases.size()) {
    ChildProcess runner({CONFORMANCE_RUNNER_PATH, kOnnxTestDataRoot, std::to_string(start)}, {}, ".");
    std::optional<int> status = runner.Wait(std::chrono::minutes(20));
    ASSERT_TRUE(status.has_value()) << "the conformance runner hung after case " << start;
    size_t last = start;
    bool any = false;
    for (absl::string_view line : absl::StrSplit(runner.Stdout(), '\n', absl::SkipEmpty())) {
      std::vector<std::string> fields = absl::StrSplit(line, '\t');
      size_t index = 0;
      if (fields.size() < 3 || !absl::SimpleAtoi(fields[0], &index)) continue;
      lines[index] = std::string(line);
      last = index;
      any = true;
    }
    if (*status == 0) break;
    // The case after the last reported one took the process down.
    const size_t crashed = any ? last + 1 : start;
    if (crashed >= cases.size()) break;
    lines[crashed] = std::to_string(crashed) + "\t" + cases[crashed].substr(std::string(kOnnxTestDataRoot).size() + 1) +
                     "\tcrashed\texit status " + std::to_string(*status);
    start = crashed + 1;
  }
  std::map<std::string, int> counts;
  std::ofstream report(std::getenv("ONNX_CONFORMANCE_REPORT") ? std::getenv("ONNX_CONFORMANCE_REPORT")
                                                              : "onnx-conformance.tsv");
  for (const auto& [index, line] : lines) {
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    ++counts[fields[2]];
    report << line << "\n";
  }
  const int total = counts["passed"] + counts["failed"] + counts["unsupported"] + counts["crashed"];
  std::cout << "ONNX conformance: " << counts["passed"] << " passed, " << counts["failed"] << " failed, "
            << counts["unsupported"] << " unsupported, " << counts["crashed"] << " crashed, of " << total << "\n";
  EXPECT_EQ(total, 1072);
  EXPECT_GE(counts["passed"], kMinimumPassed);
}

TEST(OnnxConformanceTest, LoadErrorsNameTheUnsupportedOperator) {
  CaseOutcome outcome = RunOnnxConformanceCase(std::string(kOnnxTestDataRoot) + "/node/test_tril");
  EXPECT_EQ(outcome.result, CaseResult::kUnsupported);
  EXPECT_NE(outcome.detail.find("operator Trilu is not supported by the ONNX backend"), std::string::npos)
      << outcome.detail;
}

}  // namespace
}  // namespace meridian::testing
