// Scans every source file under src/ and fails on any include that crosses a forbidden layer.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/layering/layering_rules.h"

namespace meridian::layering {
namespace {

TEST(SourceTreeLayeringTest, NoFileIncludesAcrossAForbiddenLayer) {
  const std::filesystem::path src = std::filesystem::path(TEST_SOURCE_DIR) / "src";
  size_t files = 0;
  std::vector<Violation> violations;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(src)) {
    const auto ext = entry.path().extension();
    if (!entry.is_regular_file() || (ext != ".h" && ext != ".cc" && ext != ".in")) continue;
    std::ifstream in(entry.path());
    std::stringstream content;
    content << in.rdbuf();
    const std::string relative = std::filesystem::relative(entry.path(), src).string();
    for (Violation& v : CheckFile(relative, content.str())) violations.push_back(std::move(v));
    ++files;
  }
  EXPECT_GT(files, 20u) << "scanned too few files; is the source tree complete?";
  for (const Violation& v : violations) {
    ADD_FAILURE() << "src/" << v.file << ":" << v.line << ": #include " << v.include << ": " << v.rule;
  }
}

}  // namespace
}  // namespace meridian::layering
