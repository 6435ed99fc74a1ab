#include "sim/cluster_trace.h"

#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace meridian::sim {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

// A CSV with a header row and no quoted fields (the trace has none).
class CsvTable {
 public:
  static absl::StatusOr<CsvTable> Parse(absl::string_view text, absl::string_view source,
                                        const std::vector<std::string>& required) {
    CsvTable table;
    table.source_ = std::string(source);
    std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
    size_t first = 0;
    while (first < lines.size() && absl::StripAsciiWhitespace(lines[first]).empty()) ++first;
    if (first == lines.size()) return absl::InvalidArgumentError(absl::StrCat(source, ": empty file, expected a header row"));
    std::vector<std::string> header = absl::StrSplit(absl::StripAsciiWhitespace(lines[first]), ',');
    for (size_t i = 0; i < header.size(); ++i) table.columns_[header[i]] = i;
    for (const std::string& name : required) {
      if (table.columns_.count(name) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(source, ": header lacks column \"", name, "\""));
      }
    }
    for (size_t i = first + 1; i < lines.size(); ++i) {
      absl::string_view line = absl::StripAsciiWhitespace(lines[i]);
      if (line.empty()) continue;
      std::vector<std::string> cells = absl::StrSplit(line, ',');
      if (cells.size() != header.size()) {
        return absl::InvalidArgumentError(absl::StrCat(source, ":", i + 1, ": ", cells.size(), " fields, header has ",
                                                       header.size()));
      }
      table.rows_.push_back({i + 1, std::move(cells)});
    }
    return table;
  }

  struct Row {
    size_t line;
    std::vector<std::string> cells;
  };
  const std::vector<Row>& rows() const { return rows_; }

  const std::string& Cell(const Row& row, const std::string& column) const { return row.cells[columns_.at(column)]; }

  absl::StatusOr<int64_t> Integer(const Row& row, const std::string& column, int64_t min, int64_t max) const {
    int64_t value = 0;
    const std::string& text = Cell(row, column);
    if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
      return absl::InvalidArgumentError(absl::StrCat(source_, ":", row.line, ": ", column, " \"", text,
                                                     "\" must be an integer from ", min, " to ", max));
    }
    return value;
  }

  std::string Where(const Row& row) const { return absl::StrCat(source_, ":", row.line); }

 private:
  std::string source_;
  std::map<std::string, size_t> columns_;
  std::vector<Row> rows_;
};

}  // namespace

absl::StatusOr<std::vector<scheduler::NodeSpec>> ParseNodeList(absl::string_view csv, absl::string_view source) {
  auto table = CsvTable::Parse(csv, source, {"sn", "cpu_milli", "memory_mib", "gpu", "model"});
  if (!table.ok()) return table.status();
  std::vector<scheduler::NodeSpec> nodes;
  for (const auto& row : table->rows()) {
    scheduler::NodeSpec node;
    node.name = table->Cell(row, "sn");
    auto cpu = table->Integer(row, "cpu_milli", 0, int64_t{1} << 40);
    auto memory = table->Integer(row, "memory_mib", 0, int64_t{1} << 30);
    auto gpus = table->Integer(row, "gpu", 0, 64);
    for (const auto* v : {&cpu, &memory, &gpus}) {
      if (!v->ok()) return v->status();
    }
    node.cpu_milli = *cpu;
    node.memory_bytes = *memory * kMiB;
    node.gpu_count = static_cast<int32_t>(*gpus);
    node.gpu_model = table->Cell(row, "model");
    if (node.gpu_model == "nan") node.gpu_model.clear();
    if (node.gpu_count > 0 && node.gpu_model.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(table->Where(row), ": a node with GPUs needs a model"));
    }
    nodes.push_back(std::move(node));
  }
  if (nodes.empty()) return absl::InvalidArgumentError(absl::StrCat(source, ": no nodes"));
  return nodes;
}

absl::StatusOr<std::vector<scheduler::PodSpec>> ParsePodList(absl::string_view csv, absl::string_view source) {
  auto table = CsvTable::Parse(csv, source, {"name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec"});
  if (!table.ok()) return table.status();
  std::vector<scheduler::PodSpec> pods;
  for (const auto& row : table->rows()) {
    scheduler::PodSpec pod;
    pod.name = table->Cell(row, "name");
    auto cpu = table->Integer(row, "cpu_milli", 0, int64_t{1} << 40);
    auto memory = table->Integer(row, "memory_mib", 0, int64_t{1} << 30);
    auto gpus = table->Integer(row, "num_gpu", 0, 64);
    auto milli = table->Integer(row, "gpu_milli", 0, scheduler::kMilliPerGpu);
    for (const auto* v : {&cpu, &memory, &gpus, &milli}) {
      if (!v->ok()) return v->status();
    }
    pod.cpu_milli = *cpu;
    pod.memory_bytes = *memory * kMiB;
    pod.gpu_count = static_cast<int32_t>(*gpus);
    pod.gpu_milli = pod.gpu_count > 0 ? static_cast<int32_t>(*milli) : 0;
    if (pod.gpu_count > 1 && pod.gpu_milli != scheduler::kMilliPerGpu) {
      return absl::InvalidArgumentError(absl::StrCat(table->Where(row),
                                                     ": a pod with several GPUs must take them whole (gpu_milli 1000)"));
    }
    if (pod.gpu_count > 0 && pod.gpu_milli == 0) {
      return absl::InvalidArgumentError(absl::StrCat(table->Where(row), ": num_gpu > 0 needs gpu_milli > 0"));
    }
    const std::string& spec = table->Cell(row, "gpu_spec");
    if (!spec.empty() && spec != "nan") {
      for (absl::string_view model : absl::StrSplit(spec, '|', absl::SkipEmpty())) {
        pod.accepted_gpu_models.emplace_back(model);
      }
    }
    pods.push_back(std::move(pod));
  }
  if (pods.empty()) return absl::InvalidArgumentError(absl::StrCat(source, ": no pods"));
  return pods;
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<scheduler::NodeSpec> SyntheticCluster(const std::vector<scheduler::NodeSpec>& shapes, int count,
                                                  uint64_t seed) {
  std::vector<scheduler::NodeSpec> nodes;
  if (shapes.empty()) return nodes;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, shapes.size() - 1);
  nodes.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    scheduler::NodeSpec node = shapes[pick(rng)];
    node.name = absl::StrCat("synthetic-", i);
    nodes.push_back(std::move(node));
  }
  return nodes;
}

}  // namespace meridian::sim
