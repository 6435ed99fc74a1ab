#include "backends/onnx/onnx_first_use_model.h"

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "absl/strings/string_view.h"

namespace meridian::backends::onnx {
namespace {

// Protobuf wire format, just what the model below needs. Field numbers are those of onnx.proto.
void AppendVarint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

std::string Varint(uint32_t field, uint64_t value) {
  std::string out;
  AppendVarint(&out, uint64_t{field} << 3);
  AppendVarint(&out, value);
  return out;
}

std::string Bytes(uint32_t field, absl::string_view bytes) {
  std::string out;
  AppendVarint(&out, (uint64_t{field} << 3) | 2);
  AppendVarint(&out, bytes.size());
  out.append(bytes.data(), bytes.size());
  return out;
}

std::string Fixed32(uint32_t field, float value) {
  std::string out;
  AppendVarint(&out, (uint64_t{field} << 3) | 5);
  char bytes[4];
  std::memcpy(bytes, &value, 4);  // little-endian on every machine we build for
  out.append(bytes, 4);
  return out;
}

constexpr int32_t kFloat = 1;  // TensorProto.DataType FLOAT

// AttributeProto: name 1, f 2, i 3, ints 8, type 20 (FLOAT 1, INT 2, INTS 7).
std::string FloatAttribute(absl::string_view name, float value) {
  return Bytes(1, name) + Fixed32(2, value) + Varint(20, 1);
}
std::string IntAttribute(absl::string_view name, int64_t value) {
  return Bytes(1, name) + Varint(3, static_cast<uint64_t>(value)) + Varint(20, 2);
}
std::string IntsAttribute(absl::string_view name, std::initializer_list<int64_t> values) {
  std::string out = Bytes(1, name);
  for (int64_t value : values) out += Varint(8, static_cast<uint64_t>(value));
  return out + Varint(20, 7);
}

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
std::string Node(absl::string_view op, std::initializer_list<absl::string_view> inputs, absl::string_view output,
                 std::initializer_list<std::string> attributes = {}) {
  std::string node;
  for (absl::string_view input : inputs) node += Bytes(1, input);
  node += Bytes(2, output) + Bytes(3, output) + Bytes(4, op);
  for (const std::string& attribute : attributes) node += Bytes(5, attribute);
  return node;
}

// TensorProto: dims 1, data_type 2, name 8, raw_data 9; every element `value`.
std::string Initializer(absl::string_view name, std::initializer_list<int64_t> dims, float value) {
  std::string tensor;
  int64_t count = 1;
  for (int64_t dim : dims) {
    tensor += Varint(1, static_cast<uint64_t>(dim));
    count *= dim;
  }
  std::vector<float> values(static_cast<size_t>(count), value);
  return tensor + Varint(2, kFloat) + Bytes(8, name) +
         Bytes(9, absl::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
}

// ValueInfoProto: name 1, type 2 (TypeProto.tensor_type 1: elem_type 1, shape 2 of dim 1 of
// dim_value 1).
std::string FloatValue(absl::string_view name, std::initializer_list<int64_t> dims) {
  std::string shape;
  for (int64_t dim : dims) shape += Bytes(1, Varint(1, static_cast<uint64_t>(dim)));
  return Bytes(1, name) + Bytes(2, Bytes(1, Varint(1, kFloat) + Bytes(2, shape)));
}

}  // namespace

std::string FirstUseModel() {
  // GraphProto: node 1, name 2, initializer 5, input 11, output 12.
  std::string graph;
  graph += Bytes(1, Node("Gemm", {"x", "weight", "bias"}, "dense",
                         {FloatAttribute("alpha", 1), FloatAttribute("beta", 1), IntAttribute("transB", 1)}));
  graph += Bytes(1, Node("Relu", {"dense"}, "dense_relu"));
  graph += Bytes(1, Node("Softmax", {"dense_relu"}, "probabilities", {IntAttribute("axis", 1)}));
  graph += Bytes(1, Node("Add", {"probabilities", "probabilities"}, "sum"));
  graph += Bytes(1, Node("Mul", {"probabilities", "probabilities"}, "product"));
  graph += Bytes(1, Node("Conv", {"image", "kernel", "kernel_bias"}, "convolved",
                         {IntsAttribute("kernel_shape", {3, 3}), IntsAttribute("strides", {2, 2})}));
  graph += Bytes(1, Node("Relu", {"convolved"}, "convolved_relu"));
  graph += Bytes(1, Node("Flatten", {"convolved_relu"}, "features", {IntAttribute("axis", 1)}));
  graph += Bytes(2, "meridian_first_use");
  graph += Bytes(5, Initializer("weight", {16, 16}, 0.5f));
  graph += Bytes(5, Initializer("bias", {16}, 0.0f));
  graph += Bytes(5, Initializer("kernel", {4, 1, 3, 3}, 0.5f));
  graph += Bytes(5, Initializer("kernel_bias", {4}, 0.0f));
  graph += Bytes(11, FloatValue("x", {2, 16}));
  graph += Bytes(11, FloatValue("image", {1, 1, 28, 28}));
  graph += Bytes(12, FloatValue("sum", {2, 16}));
  graph += Bytes(12, FloatValue("product", {2, 16}));
  graph += Bytes(12, FloatValue("features", {1, 4 * 13 * 13}));
  // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 (domain 1, version 2).
  return Varint(1, 7) + Bytes(2, "meridian") + Bytes(7, graph) + Bytes(8, Bytes(1, "") + Varint(2, 13));
}

}  // namespace meridian::backends::onnx
