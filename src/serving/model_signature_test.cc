#include "serving/model_signature.h"

#include "gtest/gtest.h"

namespace meridian::serving {
namespace {

ModelSignature Mlp() {
  return ModelSignature{.inputs = {{"input__0", DataType::kFp32, {-1, 4}}},
                        .outputs = {{"output__0", DataType::kFp32, {-1, 2}}}};
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(ModelSignatureTest, ReadsMetadata) {
  auto signature = SignatureFromMetadata(
      R"({"inputs":[{"name":"a","datatype":"INT64","shape":[-1,3]}],"outputs":[{"name":"b","datatype":"FP32","shape":[-1]}]})");
  ASSERT_TRUE(signature.ok()) << signature.status();
  ASSERT_TRUE(signature->has_value());
  EXPECT_EQ((*signature)->inputs[0].type, DataType::kInt64);
  EXPECT_EQ((*signature)->inputs[0].shape, (Shape{-1, 3}));
  EXPECT_FALSE(SignatureFromMetadata("{}")->has_value());
}

TEST(ModelSignatureTest, BadMetadataSaysWhatToFix) {
  EXPECT_NE(Message(SignatureFromMetadata(R"({"inputs":[]})").status()).find("both"), std::string::npos);
  EXPECT_NE(Message(SignatureFromMetadata(
                        R"({"inputs":[{"name":"a","datatype":"FLOAT","shape":[1]}],"outputs":[]})")
                        .status())
                .find("unknown datatype 'FLOAT'"),
            std::string::npos);
  EXPECT_FALSE(SignatureFromMetadata(R"({"inputs":[{"name":"a","datatype":"FP32","shape":[-2]}],"outputs":[]})").ok());
}

TEST(ModelSignatureTest, ValidatesRequests) {
  const ModelSignature signature = Mlp();
  Tensor good = Tensor::Owned("input__0", DataType::kFp32, {3, 4}, std::string(48, '\0'));
  EXPECT_TRUE(ValidateRequest(signature, {good}, {}).ok());
  EXPECT_TRUE(ValidateRequest(signature, {good}, {"output__0"}).ok());

  EXPECT_NE(Message(ValidateRequest(signature, {}, {})).find("missing input 'input__0'"), std::string::npos);
  Tensor wrong_type = Tensor::Owned("input__0", DataType::kFp64, {3, 4}, std::string(96, '\0'));
  EXPECT_NE(Message(ValidateRequest(signature, {wrong_type}, {})).find("datatype FP64"), std::string::npos);
  Tensor wrong_shape = Tensor::Owned("input__0", DataType::kFp32, {3, 5}, std::string(60, '\0'));
  EXPECT_NE(Message(ValidateRequest(signature, {wrong_shape}, {})).find("[3,5]"), std::string::npos);
  Tensor wrong_rank = Tensor::Owned("input__0", DataType::kFp32, {12}, std::string(48, '\0'));
  EXPECT_FALSE(ValidateRequest(signature, {wrong_rank}, {}).ok());
  Tensor unknown = Tensor::Owned("x", DataType::kFp32, {3, 4}, std::string(48, '\0'));
  EXPECT_NE(Message(ValidateRequest(signature, {good, unknown}, {})).find("unknown input 'x'"), std::string::npos);
  EXPECT_NE(Message(ValidateRequest(signature, {good, good}, {})).find("twice"), std::string::npos);
  Tensor short_data = Tensor::Owned("input__0", DataType::kFp32, {3, 4}, std::string(40, '\0'));
  EXPECT_NE(Message(ValidateRequest(signature, {short_data}, {})).find("needs 48"), std::string::npos);
  EXPECT_NE(Message(ValidateRequest(signature, {good}, {"probabilities"})).find("unknown output 'probabilities'"),
            std::string::npos);
}

TEST(ModelSignatureTest, EachOfSeveralInputsIsGivenOnceInAnyOrder) {
  const ModelSignature signature{.inputs = {{"a", DataType::kFp32, {-1, 1}}, {"b", DataType::kFp32, {-1, 1}},
                                            {"c", DataType::kFp32, {-1, 1}}},
                                 .outputs = {{"y", DataType::kFp32, {-1, 1}}}};
  auto input = [](const char* name) { return Tensor::Owned(name, DataType::kFp32, {1, 1}, std::string(4, '\0')); };
  EXPECT_TRUE(ValidateRequest(signature, {input("c"), input("a"), input("b")}, {}).ok());
  EXPECT_EQ(Message(ValidateRequest(signature, {input("c"), input("a")}, {})), "missing input 'b' (FP32 [-1,1])");
  EXPECT_EQ(Message(ValidateRequest(signature, {input("b"), input("c"), input("b")}, {})),
            "input 'b' is given twice");
}

TEST(ModelSignatureTest, RefusesEmptyInputsAndOutputsRequestedTwice) {
  const ModelSignature signature = Mlp();
  Tensor no_rows = Tensor::Owned("input__0", DataType::kFp32, {0, 4}, "");
  EXPECT_EQ(Message(ValidateRequest(signature, {no_rows}, {})),
            "input 'input__0' has shape [0,4], which holds no elements; send at least one row");
  Tensor good = Tensor::Owned("input__0", DataType::kFp32, {1, 4}, std::string(16, '\0'));
  EXPECT_EQ(Message(ValidateRequest(signature, {good}, {"output__0", "output__0"})),
            "output 'output__0' is requested twice");
}

}  // namespace
}  // namespace meridian::serving
