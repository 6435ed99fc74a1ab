#include "backends/onnx/onnx_backend.h"

#include <fstream>
#include <iterator>
#include <mutex>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "backends/onnx/onnx_first_use_model.h"
#include "backends/onnx/onnx_proto.h"

namespace meridian::backends {
namespace {

using serving::DataType;
using serving::ModelSignature;
using serving::Tensor;

// Converts a tensor's elements to `To` (OpenCV DNN computes in float and int32).
template <typename To>
std::vector<To> ConvertElements(const Tensor& tensor, int64_t count) {
  std::vector<To> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    switch (tensor.type()) {
      case DataType::kBool:
      case DataType::kUint8: values[i] = static_cast<To>(tensor.At<uint8_t>(i)); break;
      case DataType::kInt8: values[i] = static_cast<To>(tensor.At<int8_t>(i)); break;
      case DataType::kUint16: values[i] = static_cast<To>(tensor.At<uint16_t>(i)); break;
      case DataType::kInt16: values[i] = static_cast<To>(tensor.At<int16_t>(i)); break;
      case DataType::kUint32: values[i] = static_cast<To>(tensor.At<uint32_t>(i)); break;
      case DataType::kInt32: values[i] = static_cast<To>(tensor.At<int32_t>(i)); break;
      case DataType::kUint64: values[i] = static_cast<To>(tensor.At<uint64_t>(i)); break;
      case DataType::kInt64: values[i] = static_cast<To>(tensor.At<int64_t>(i)); break;
      case DataType::kFp16: values[i] = static_cast<To>(serving::HalfToFloat(tensor.At<uint16_t>(i))); break;
      case DataType::kFp32: values[i] = static_cast<To>(tensor.At<float>(i)); break;
      case DataType::kFp64: values[i] = static_cast<To>(tensor.At<double>(i)); break;
      case DataType::kBytes: break;
    }
  }
  return values;
}

template <typename From>
std::string EncodeAs(const From* values, int64_t count, DataType type) {
  std::string out(static_cast<size_t>(count) * serving::ElementSize(type), '\0');
  auto put = [&](int64_t i, auto value) { std::memcpy(out.data() + i * sizeof(value), &value, sizeof(value)); };
  for (int64_t i = 0; i < count; ++i) {
    const From v = values[i];
    switch (type) {
      case DataType::kBool: put(i, static_cast<uint8_t>(v != From{})); break;
      case DataType::kUint8: put(i, static_cast<uint8_t>(v)); break;
      case DataType::kInt8: put(i, static_cast<int8_t>(v)); break;
      case DataType::kUint16: put(i, static_cast<uint16_t>(v)); break;
      case DataType::kInt16: put(i, static_cast<int16_t>(v)); break;
      case DataType::kUint32: put(i, static_cast<uint32_t>(v)); break;
      case DataType::kInt32: put(i, static_cast<int32_t>(v)); break;
      case DataType::kUint64: put(i, static_cast<uint64_t>(v)); break;
      case DataType::kInt64: put(i, static_cast<int64_t>(v)); break;
      case DataType::kFp16: put(i, serving::FloatToHalf(static_cast<float>(v))); break;
      case DataType::kFp32: put(i, static_cast<float>(v)); break;
      case DataType::kFp64: put(i, static_cast<double>(v)); break;
      case DataType::kBytes: break;
    }
  }
  return out;
}

// OpenCV reports 1-D results as 2-D and drops unit dimensions in places; the graph's declared
// shape is right whenever it accounts for the same number of elements.
serving::Shape ReconcileShape(const serving::Shape& declared, const serving::Shape& produced, int64_t count) {
  if (declared.empty()) return count == 1 ? declared : produced;
  serving::Shape shape = declared;
  int64_t known = 1;
  int dynamic = 0;
  for (int64_t dim : shape) {
    if (dim < 0) ++dynamic;
    else known *= dim;
  }
  if (dynamic == 0) return known == count ? shape : produced;
  if (dynamic == 1 && known > 0 && count % known == 0) {
    for (int64_t& dim : shape) {
      if (dim < 0) dim = count / known;
    }
    return shape;
  }
  return produced;
}

class OnnxModel final : public serving::LoadedModel {
 public:
  OnnxModel(cv::dnn::Net net, ModelSignature signature) : net_(std::move(net)), signature_(std::move(signature)) {}

  const ModelSignature& signature() const override { return signature_; }

  absl::StatusOr<std::vector<Tensor>> Execute(const std::vector<Tensor>& inputs,
                                              const std::vector<std::string>& output_names) override {
    // Copies: OpenCV computes in float (int32 for integer inputs) and keeps references to its
    // inputs until the next forward, so the request's bytes cannot be lent to it.
    std::vector<cv::Mat> blobs;
    std::vector<std::string> names;
    for (const Tensor& input : inputs) {
      absl::StatusOr<int64_t> count = serving::ElementCount(input.shape());
      if (!count.ok()) return count.status();
      std::vector<int> sizes(input.shape().begin(), input.shape().end());
      if (sizes.empty()) sizes.push_back(1);
      const bool integer = serving::IsSignedInteger(input.type()) || serving::IsUnsignedInteger(input.type());
      cv::Mat blob(static_cast<int>(sizes.size()), sizes.data(), integer ? CV_32S : CV_32F);
      if (integer) {
        std::vector<int32_t> values = ConvertElements<int32_t>(input, *count);
        std::memcpy(blob.data, values.data(), values.size() * sizeof(int32_t));
      } else {
        std::vector<float> values = ConvertElements<float>(input, *count);
        std::memcpy(blob.data, values.data(), values.size() * sizeof(float));
      }
      blobs.push_back(std::move(blob));
      names.push_back(input.name());
    }
    std::vector<std::string> wanted;
    for (const serving::TensorSpec& spec : signature_.outputs) wanted.push_back(spec.name);
    std::vector<cv::Mat> results;
    try {
      absl::MutexLock lock(&mutex_);  // a cv::dnn::Net runs one forward at a time
      for (size_t i = 0; i < blobs.size(); ++i) net_.setInput(blobs[i], names[i]);
      net_.forward(results, wanted);
    } catch (const cv::Exception& error) {
      return absl::InvalidArgumentError(absl::StrCat("OpenCV DNN execution failed: ", error.err));
    }
    if (results.size() != wanted.size()) {
      return absl::InternalError(absl::StrCat("OpenCV returned ", results.size(), " outputs; expected ", wanted.size()));
    }
    std::vector<Tensor> outputs;
    for (size_t i = 0; i < results.size(); ++i) {
      const serving::TensorSpec& spec = signature_.outputs[i];
      cv::Mat mat = results[i].isContinuous() ? results[i] : results[i].clone();
      const int64_t count = static_cast<int64_t>(mat.total());
      serving::Shape produced;
      for (int d = 0; d < mat.dims; ++d) produced.push_back(mat.size[d]);
      serving::Shape shape = ReconcileShape(spec.shape, produced, count);
      std::string bytes;
      switch (mat.depth()) {
        case CV_32F: bytes = EncodeAs(mat.ptr<float>(), count, spec.type); break;
        case CV_32S: bytes = EncodeAs(mat.ptr<int32_t>(), count, spec.type); break;
        case CV_64F: bytes = EncodeAs(mat.ptr<double>(), count, spec.type); break;
        case CV_8U: bytes = EncodeAs(mat.ptr<uint8_t>(), count, spec.type); break;
        default: return absl::InternalError(absl::StrCat("output '", spec.name, "' has an unsupported OpenCV depth"));
      }
      outputs.push_back(Tensor::Owned(spec.name, spec.type, std::move(shape), std::move(bytes)));
    }
    return serving::SelectOutputs(std::move(outputs), output_names);
  }

 private:
  absl::Mutex mutex_;
  cv::dnn::Net net_ ABSL_GUARDED_BY(mutex_);
  ModelSignature signature_;
};

// OpenCV's import error, leading with the operator it names ("> Node [Trilu@ai.onnx]: ...").
std::string ImportError(const cv::Exception& error) {
  const std::string message = error.err;
  const size_t node = message.find("Node [");
  if (node != std::string::npos) {
    const size_t begin = node + 6;
    const size_t end = message.find_first_of("@]", begin);
    if (end != std::string::npos) {
      const std::string op = message.substr(begin, end - begin);
      const bool unsupported = message.find("No layer") != std::string::npos ||
                               message.find("not supported") != std::string::npos ||
                               message.find("Can't create layer") != std::string::npos;
      return absl::StrCat("operator ", op, unsupported ? " is not supported" : " cannot be imported",
                          " by the ONNX backend (OpenCV DNN ", CV_VERSION, "): ", message);
    }
  }
  return absl::StrCat("OpenCV DNN ", CV_VERSION, " cannot import this ONNX model: ", message);
}

class OnnxBackend final : public serving::Backend {
 public:
  // OpenCV logs import failures itself; the exception carries the same text into our error.
  OnnxBackend() { cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT); }
  std::string name() const override { return "onnx"; }
  std::string framework_version() const override { return absl::StrCat("opencv-dnn ", CV_VERSION); }

  // OpenCV DNN's first use, on a small model built in memory (onnx_first_use_model.h says why).
  absl::Status Prepare() override {
    std::call_once(used_once_, [this] { first_use_ = UseOnce(); });
    return first_use_;
  }

  absl::StatusOr<std::unique_ptr<serving::LoadedModel>> Load(const serving::ModelLoadOptions& options) override {
    if (absl::Status ready = Prepare(); !ready.ok()) return ready;
    std::ifstream file(options.artifact_path, std::ios::binary);
    if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", options.artifact_path));
    std::vector<uchar> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    return LoadBytes(bytes, options.intra_op_threads);
  }

 private:
  static absl::StatusOr<std::unique_ptr<serving::LoadedModel>> LoadBytes(const std::vector<uchar>& bytes,
                                                                        int intra_op_threads) {
    absl::StatusOr<onnx::OnnxModelInfo> info =
        onnx::ReadModelInfo(absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    if (!info.ok()) return info.status();
    for (const serving::TensorSpec& input : info->signature.inputs) {
      if (input.type == DataType::kBytes) {
        return absl::InvalidArgumentError(absl::StrCat("input '", input.name, "' is a string tensor, which OpenCV DNN cannot take"));
      }
    }
    // OpenCV's parallel_for pool is process-wide and sized to the machine; like OpenBLAS's it
    // would fight the instance threads, so it follows the intra-op setting.
    cv::setNumThreads(std::max(1, intra_op_threads));
    try {
      cv::dnn::Net net = cv::dnn::readNetFromONNX(bytes);
      net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
      net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
      return std::unique_ptr<serving::LoadedModel>(std::make_unique<OnnxModel>(std::move(net), std::move(info->signature)));
    } catch (const cv::Exception& error) {
      return absl::InvalidArgumentError(ImportError(error));
    }
  }

  static absl::Status UseOnce() {
    const std::string model = onnx::FirstUseModel();
    absl::StatusOr<std::unique_ptr<serving::LoadedModel>> loaded =
        LoadBytes(std::vector<uchar>(model.begin(), model.end()), /*intra_op_threads=*/1);
    if (!loaded.ok()) return FirstUseFailed(loaded.status());
    std::vector<Tensor> inputs;
    for (const serving::TensorSpec& spec : (*loaded)->signature().inputs) {
      const int64_t count = serving::ElementCount(spec.shape).value_or(0);
      inputs.push_back(Tensor::Owned(spec.name, DataType::kFp32, spec.shape,
                                     std::string(static_cast<size_t>(count) * sizeof(float), '\0')));
    }
    absl::StatusOr<std::vector<Tensor>> outputs = (*loaded)->Execute(inputs, {});
    return outputs.ok() ? absl::OkStatus() : FirstUseFailed(outputs.status());
  }

  static absl::Status FirstUseFailed(const absl::Status& status) {
    return absl::InternalError(absl::StrCat("OpenCV DNN failed its first use (a built-in model): ", status.message()));
  }

  std::once_flag used_once_;
  absl::Status first_use_;
};

}  // namespace

std::unique_ptr<serving::Backend> MakeOnnxBackend() { return std::make_unique<OnnxBackend>(); }

}  // namespace meridian::backends
