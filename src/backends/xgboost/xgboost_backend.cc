#include "backends/xgboost/xgboost_backend.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "xgboost/c_api.h"

namespace meridian::backends {
namespace {

using serving::DataType;
using serving::ModelSignature;
using serving::Tensor;
using serving::TensorSpec;

// XGBoost's message without the stack trace it appends.
std::string LastError() {
  std::string message = XGBGetLastError();
  return message.substr(0, message.find("\nStack trace"));
}

absl::Status XgbError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", LastError()));
}

struct Prediction {
  std::vector<uint64_t> shape;
  std::vector<float> values;
};

class XgboostModel final : public serving::LoadedModel {
 public:
  ~XgboostModel() override {
    if (booster_ != nullptr) XGBoosterFree(booster_);
  }

  static absl::StatusOr<std::unique_ptr<XgboostModel>> Load(const serving::ModelLoadOptions& options) {
    std::ifstream file(options.artifact_path, std::ios::binary);
    if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", options.artifact_path));
    std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    return FromBytes(bytes, options);
  }

  // `options.artifact_path` is not read.
  static absl::StatusOr<std::unique_ptr<XgboostModel>> FromBytes(const std::string& bytes,
                                                                 const serving::ModelLoadOptions& options) {
    if (bytes.empty() || bytes[0] != '{') {
      return absl::InvalidArgumentError(
          "not an XGBoost JSON or UBJSON model (save it with booster.save_model('model.json' or 'model.ubj'))");
    }
    auto model = std::unique_ptr<XgboostModel>(new XgboostModel());
    if (XGBoosterCreate(nullptr, 0, &model->booster_) != 0) return XgbError("creating the booster");
    if (XGBoosterLoadModelFromBuffer(model->booster_, bytes.data(), bytes.size()) != 0) {
      return XgbError("loading the XGBoost model");
    }
    const std::string threads = std::to_string(std::max(1, options.intra_op_threads));
    if (XGBoosterSetParam(model->booster_, "nthread", threads.c_str()) != 0) return XgbError("setting nthread");
    bst_ulong features = 0;
    if (XGBoosterGetNumFeature(model->booster_, &features) != 0) return XgbError("reading the feature count");
    if (features == 0) return absl::InvalidArgumentError("the XGBoost model has no features");
    model->features_ = static_cast<int64_t>(features);

    // The output shape depends on the objective; one prediction on a row of missing values tells.
    std::vector<float> row(features, std::numeric_limits<float>::quiet_NaN());
    auto probe = model->Predict(row.data(), 1);
    if (!probe.ok()) return probe.status();
    serving::Shape output_shape = {-1};
    for (size_t i = 1; i < probe->shape.size(); ++i) output_shape.push_back(static_cast<int64_t>(probe->shape[i]));

    ModelSignature signature{.inputs = {TensorSpec{"input__0", DataType::kFp32, {-1, model->features_}}},
                             .outputs = {TensorSpec{"output__0", DataType::kFp32, output_shape}}};
    if (options.declared_signature) {
      const ModelSignature& declared = *options.declared_signature;
      if (declared.inputs.size() != 1 || declared.outputs.size() != 1) {
        return absl::InvalidArgumentError("an XGBoost model has exactly one input and one output; the metadata declares otherwise");
      }
      signature.inputs[0].name = declared.inputs[0].name;
      signature.outputs[0].name = declared.outputs[0].name;
    }
    model->signature_ = std::move(signature);
    return model;
  }

  const ModelSignature& signature() const override { return signature_; }

  absl::StatusOr<std::vector<Tensor>> Execute(const std::vector<Tensor>& inputs,
                                              const std::vector<std::string>& output_names) override {
    const Tensor& input = inputs.at(0);
    const int64_t rows = input.shape().at(0);
    if (rows == 0) {
      serving::Shape shape = signature_.outputs[0].shape;
      shape[0] = 0;
      return std::vector<Tensor>{Tensor::Owned(signature_.outputs[0].name, DataType::kFp32, shape, "")};
    }
    // XGBoost insists on aligned floats; binary request data sits at any offset of the body.
    std::vector<float> aligned;
    const float* data = reinterpret_cast<const float*>(input.data());
    if (reinterpret_cast<uintptr_t>(input.data()) % alignof(float) != 0) {
      aligned.resize(input.byte_size() / sizeof(float));
      std::memcpy(aligned.data(), input.data(), input.byte_size());
      data = aligned.data();
    }
    auto prediction = Predict(data, rows);
    if (!prediction.ok()) return prediction.status();
    serving::Shape shape;
    for (uint64_t dim : prediction->shape) shape.push_back(static_cast<int64_t>(dim));
    std::string bytes(reinterpret_cast<const char*>(prediction->values.data()),
                      prediction->values.size() * sizeof(float));
    return std::vector<Tensor>{Tensor::Owned(signature_.outputs[0].name, DataType::kFp32, shape, std::move(bytes))};
  }

 private:
  XgboostModel() = default;

  absl::StatusOr<Prediction> Predict(const float* data, int64_t rows) {
    std::ostringstream array;
    array << "{\"data\": [" << reinterpret_cast<uintptr_t>(data) << ", true], \"shape\": [" << rows << ", "
          << features_ << "], \"typestr\": \"<f4\", \"version\": 3}";
    static constexpr char kConfig[] =
        "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
        "\"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}";
    const bst_ulong* shape = nullptr;
    bst_ulong dims = 0;
    const float* result = nullptr;
    if (XGBoosterPredictFromDense(booster_, array.str().c_str(), kConfig, nullptr, &shape, &dims, &result) != 0) {
      return absl::InternalError(absl::StrCat("XGBoost prediction failed: ", LastError()));
    }
    Prediction prediction;
    uint64_t count = 1;
    for (bst_ulong i = 0; i < dims; ++i) {
      prediction.shape.push_back(shape[i]);
      count *= shape[i];
    }
    prediction.values.assign(result, result + count);
    return prediction;
  }

  BoosterHandle booster_ = nullptr;
  int64_t features_ = 0;
  ModelSignature signature_;
};

class XgboostBackend final : public serving::Backend {
 public:
  std::string name() const override { return "xgboost"; }
  std::string framework_version() const override {
    int major = 0, minor = 0, patch = 0;
    XGBoostVersion(&major, &minor, &patch);
    return absl::StrCat(major, ".", minor, ".", patch);
  }
  // XGBoost's first use takes memory of its own (1.2-1.5 MB measured: its parameter registries,
  // the JSON reader, prediction buffers), which would be charged to the first model loaded. A
  // two-class model of one boosting round, trained on four rows, loaded back from JSON and run the
  // way a model is takes it here instead.
  absl::Status Prepare() override {
    std::call_once(used_once_, [this] { first_use_ = UseOnce(); });
    return first_use_;
  }

  absl::StatusOr<std::unique_ptr<serving::LoadedModel>> Load(const serving::ModelLoadOptions& options) override {
    if (absl::Status ready = Prepare(); !ready.ok()) return ready;
    auto model = XgboostModel::Load(options);
    if (!model.ok()) return model.status();
    return std::unique_ptr<serving::LoadedModel>(std::move(*model));
  }

 private:
  static absl::Status UseOnce() {
    absl::StatusOr<std::string> json = TrainTinyModel();
    if (!json.ok()) return FirstUseFailed(json.status());
    auto model = XgboostModel::FromBytes(*json, serving::ModelLoadOptions{.intra_op_threads = 1});
    if (!model.ok()) return FirstUseFailed(model.status());
    const std::vector<float> rows(4 * 2, 0.5f);
    auto outputs = (*model)->Execute(
        {Tensor::Owned("input__0", DataType::kFp32, {4, 2},
                       std::string(reinterpret_cast<const char*>(rows.data()), rows.size() * sizeof(float)))},
        {});
    return outputs.ok() ? absl::OkStatus() : FirstUseFailed(outputs.status());
  }

  // One boosting round of a two-class classifier on four rows of two features, saved as JSON.
  static absl::StatusOr<std::string> TrainTinyModel() {
    const float features[] = {0, 0, 0, 1, 1, 0, 1, 1};
    const float labels[] = {0, 1, 1, 0};
    DMatrixHandle data = nullptr;
    if (XGDMatrixCreateFromMat(features, 4, 2, std::numeric_limits<float>::quiet_NaN(), &data) != 0) {
      return XgbError("creating a matrix");
    }
    BoosterHandle booster = nullptr;
    absl::Cleanup release = [&] {
      if (booster != nullptr) XGBoosterFree(booster);
      XGDMatrixFree(data);
    };
    if (XGDMatrixSetFloatInfo(data, "label", labels, 4) != 0) return XgbError("setting labels");
    if (XGBoosterCreate(&data, 1, &booster) != 0) return XgbError("creating the booster");
    if (XGBoosterSetParam(booster, "objective", "multi:softprob") != 0 ||
        XGBoosterSetParam(booster, "num_class", "2") != 0 || XGBoosterSetParam(booster, "nthread", "1") != 0) {
      return XgbError("setting parameters");
    }
    if (XGBoosterUpdateOneIter(booster, 0, data) != 0) return XgbError("training");
    bst_ulong length = 0;
    const char* json = nullptr;
    if (XGBoosterSaveModelToBuffer(booster, R"({"format": "json"})", &length, &json) != 0) {
      return XgbError("saving the model");
    }
    return std::string(json, length);
  }

  static absl::Status FirstUseFailed(const absl::Status& status) {
    return absl::InternalError(absl::StrCat("XGBoost failed its first use (a built-in model): ", status.message()));
  }

  std::once_flag used_once_;
  absl::Status first_use_;
};

}  // namespace

std::unique_ptr<serving::Backend> MakeXgboostBackend() { return std::make_unique<XgboostBackend>(); }

}  // namespace meridian::backends
