#include "tests/serving_fixtures.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "protocol/tensor_json.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace meridian::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::StatusOr<std::vector<serving::Tensor>> ParseTensors(const rapidjson::Value& list) {
  std::vector<serving::Tensor> tensors;
  for (const rapidjson::Value& t : list.GetArray()) {
    auto type = serving::ParseDataType(t["datatype"].GetString());
    if (!type) return absl::InvalidArgumentError("bad datatype");
    serving::Shape shape;
    for (const auto& d : t["shape"].GetArray()) shape.push_back(d.GetInt64());
    auto bytes = protocol::DecodeTensorData(t["data"], *type, shape, t["name"].GetString());
    if (!bytes.ok()) return bytes.status();
    tensors.push_back(serving::Tensor::Owned(t["name"].GetString(), *type, shape, std::move(*bytes)));
  }
  return tensors;
}

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}


}  // namespace

std::vector<std::string> AllFixtureNames() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(TEST_SOURCE_DIR) + "/tests/fixtures/models")) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<ModelFixture> LoadFixture(const std::string& name) {
  const std::string dir = std::string(TEST_SOURCE_DIR) + "/tests/fixtures/models/" + name;
  ModelFixture fixture;
  fixture.name = name;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().stem() == "model") fixture.artifact_path = entry.path().string();
  }
  fixture.metadata_json = ReadFile(dir + "/metadata.json");
  rapidjson::Document reference;
  reference.Parse(ReadFile(dir + "/reference.json").c_str());
  if (reference.HasParseError()) return absl::InvalidArgumentError("reference.json does not parse");
  fixture.framework = reference["framework"].GetString();
  auto inputs = ParseTensors(reference["inputs"]);
  if (!inputs.ok()) return inputs.status();
  auto outputs = ParseTensors(reference["outputs"]);
  if (!outputs.ok()) return outputs.status();
  fixture.inputs = std::move(*inputs);
  fixture.outputs = std::move(*outputs);
  fixture.inputs_json = ToJson(reference["inputs"]);
  return fixture;
}

absl::Status PushAndLoad(http::HttpClient& client, const ModelFixture& fixture, const std::string& model,
                         const std::string& version) {
  if (absl::Status pushed = Push(client, fixture, model, version); !pushed.ok()) return pushed;
  auto loaded = client.Send(http::HttpMethod::kPost, absl::StrCat("/v2/repository/models/", model, "/load"), "");
  if (!loaded.ok()) return loaded.status();
  if (loaded->status != 200) return absl::InternalError(absl::StrCat("load: ", loaded->status, " ", loaded->body));
  return absl::OkStatus();
}

absl::Status Push(http::HttpClient& client, const ModelFixture& fixture, const std::string& model,
                  const std::string& version) {
  auto upload = client.SendFile(http::HttpMethod::kPost, "/api/v1/artifacts", fixture.artifact_path,
                                {{"Content-Type", "application/octet-stream"}});
  if (!upload.ok()) return upload.status();
  if (upload->status != 201) return absl::InternalError(absl::StrCat("upload: ", upload->status, " ", upload->body));
  rapidjson::Document doc;
  doc.Parse(upload->body.c_str());
  const std::string digest = doc["digest"].GetString();
  auto created = client.Send(http::HttpMethod::kPost, "/api/v1/models", absl::StrCat(R"({"name":")", model, "\"}"),
                             {{"Content-Type", "application/json"}});
  if (!created.ok()) return created.status();
  if (created->status != 201 && created->status != 409) {
    return absl::InternalError(absl::StrCat("create model: ", created->status, " ", created->body));
  }
  auto registered = client.Send(
      http::HttpMethod::kPost, absl::StrCat("/api/v1/models/", model, "/versions"),
      absl::StrCat(R"({"version":")", version, R"(","framework":")", fixture.framework, R"(","artifactDigest":")",
                   digest, R"(","metadata":)", fixture.metadata_json, "}"),
      {{"Content-Type", "application/json"}});
  if (!registered.ok()) return registered.status();
  if (registered->status != 201) {
    return absl::InternalError(absl::StrCat("register: ", registered->status, " ", registered->body));
  }
  return absl::OkStatus();
}

std::string CompareTensors(const serving::Tensor& expected, const serving::Tensor& actual, double relative) {
  if (expected.type() != actual.type()) {
    return absl::StrCat(expected.name(), ": datatype ", serving::DataTypeName(actual.type()), " != ",
                        serving::DataTypeName(expected.type()));
  }
  if (expected.shape() != actual.shape()) {
    return absl::StrCat(expected.name(), ": shape ", serving::ShapeText(actual.shape()), " != ",
                        serving::ShapeText(expected.shape()));
  }
  if (expected.type() == serving::DataType::kBytes) {
    return expected.bytes() == actual.bytes() ? "" : absl::StrCat(expected.name(), ": BYTES differ");
  }
  const int64_t count = static_cast<int64_t>(expected.byte_size() / serving::ElementSize(expected.type()));
  const bool is_float = serving::IsFloatingPoint(expected.type());
  for (int64_t i = 0; i < count; ++i) {
    const double e = serving::ElementAsDouble(expected, i);
    const double a = serving::ElementAsDouble(actual, i);
    const bool equal = is_float ? (std::isnan(e) && std::isnan(a)) || std::abs(a - e) <= std::max(relative * std::abs(e), 1e-6)
                                : a == e;
    if (!equal) return absl::StrCat(expected.name(), "[", i, "]: ", a, " != ", e);
  }
  return "";
}

absl::StatusOr<std::vector<serving::Tensor>> ParseJsonOutputs(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("outputs")) {
    return absl::InvalidArgumentError(absl::StrCat("not an OIP response: ", body.substr(0, 200)));
  }
  return ParseTensors(doc["outputs"]);
}

double MetricValue(const std::string& exposition, const std::string& series) {
  const std::string prefix = series + " ";
  const size_t at = exposition.find(prefix);
  return at == std::string::npos ? -1.0 : std::stod(exposition.substr(at + prefix.size()));
}

}  // namespace meridian::testing
