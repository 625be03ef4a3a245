// The ai.onnx.ml importers that compose core IR ops: LinearClassifier, LinearRegressor, Normalizer, Scaler,
// OneHotEncoder, Imputer, ZipMap, SVMClassifier (one-vs-one votes, Platt probabilities, liblinear form),
// SVMRegressor (each kernel) and the binary form of TreeEnsembleClassifier. Small models built in C++ with
// hand-computed results, and the errors that malformed attributes give.
#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ir/interp/Interpreter.h"
#include "tests/unit/InterpTestUtil.h"
#include "tests/unit/OnnxTestUtil.h"

namespace tessel::testing {
namespace {

using onnx::kOnnxDouble;
using onnx::kOnnxFloat;
using onnx::kOnnxInt64;
using onnx::kOnnxString;
using ::testing::HasSubstr;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

pb::ModelProto ml_model() {
  auto model = onnx_model(17);
  auto* ml = model.add_opset_import();
  ml->set_domain("ai.onnx.ml");
  ml->set_version(3);
  return model;
}

pb::NodeProto* add_ml_node(pb::ModelProto& model, const std::string& op_type, const std::vector<std::string>& inputs,
                           const std::vector<std::string>& outputs) {
  auto* node = add_node(model, op_type, inputs, outputs, "n");
  node->set_domain("ai.onnx.ml");
  return node;
}

void add_floats(pb::NodeProto* node, const std::string& name, const std::vector<double>& values) {
  auto* attr = node->add_attribute();
  attr->set_name(name);
  attr->set_type(pb::AttributeProto::FLOATS);
  for (double v : values) attr->add_floats(static_cast<float>(v));
}

void add_float(pb::NodeProto* node, const std::string& name, double value) {
  auto* attr = node->add_attribute();
  attr->set_name(name);
  attr->set_type(pb::AttributeProto::FLOAT);
  attr->set_f(static_cast<float>(value));
}

void add_string(pb::NodeProto* node, const std::string& name, const std::string& value) {
  auto* attr = node->add_attribute();
  attr->set_name(name);
  attr->set_type(pb::AttributeProto::STRING);
  attr->set_s(value);
}

void add_strings(pb::NodeProto* node, const std::string& name, const std::vector<std::string>& values) {
  auto* attr = node->add_attribute();
  attr->set_name(name);
  attr->set_type(pb::AttributeProto::STRINGS);
  for (const auto& v : values) attr->add_strings(v);
}

std::vector<Tensor> run_model(const pb::ModelProto& model, const std::vector<Tensor>& inputs) {
  auto module = onnx::import_model(model, "");
  EXPECT_TRUE(module.ok()) << (module.ok() ? "" : module.error().str());
  if (!module.ok()) return {};
  auto out = interpret(*(*module)->entry(), inputs);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().str());
  return out.ok() ? *out : std::vector<Tensor>{};
}

std::string import_error(const pb::ModelProto& model) {
  auto module = onnx::import_model(model, "");
  return module.ok() ? std::string("(no error)") : module.error().str();
}

void expect_strings(const Tensor& t, const std::vector<std::string>& expected) {
  ASSERT_EQ(t.dtype(), DType::String);
  ASSERT_EQ(t.numel(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(t.data<std::string>()[i], expected[i]) << "element " << i;
}

// A one-node model: input X of `dims` and `elem_type`, outputs named "y0", "y1", ... .
pb::ModelProto one_node(const std::string& op_type, int outputs, int32_t elem_type, const std::vector<OnnxDim>& dims,
                        pb::NodeProto** node) {
  auto model = ml_model();
  add_input(model, "X", elem_type, dims);
  std::vector<std::string> names;
  for (int i = 0; i < outputs; ++i) names.push_back("y" + std::to_string(i));
  *node = add_ml_node(model, op_type, {"X"}, names);
  for (const auto& name : names) add_output(model, name);
  return model;
}

// ---- Linear models ------------------------------------------------------------------------------------

TEST(OnnxImportMl, LinearClassifierSoftmaxScoresAndLabels) {
  pb::NodeProto* node;
  auto model = one_node("LinearClassifier", 2, kOnnxFloat, {std::string("N"), 2}, &node);
  add_floats(node, "coefficients", {1, 0, 0, 1, 1, 1});  // class rows [1, 0], [0, 1], [1, 1]
  add_floats(node, "intercepts", {0, 0.5, -1});
  add_ints_attr(node, "classlabels_ints", {5, 6, 7});
  add_string(node, "post_transform", "SOFTMAX");
  auto out = run_model(model, {T(DType::F32, {2, 2}, {1, 2, 0, -1})});
  ASSERT_EQ(out.size(), 2u);
  // Row [1, 2]: scores [1, 2.5, 2]; row [0, -1]: [0, -0.5, -2]; softmax of each.
  expect_tensor(out[0], DType::I64, {2}, {6, 5});
  expect_tensor(out[1], DType::F32, {2, 3}, {0.12195165, 0.54654939, 0.33149896, 0.57409699, 0.34820743, 0.07769558});
}

TEST(OnnxImportMl, LinearClassifierOneRowForTwoClassesScoresMinusSAndS) {
  pb::NodeProto* node;
  auto model = one_node("LinearClassifier", 2, kOnnxFloat, {2, 2}, &node);
  add_floats(node, "coefficients", {2, -1});
  add_floats(node, "intercepts", {0.5});
  add_strings(node, "classlabels_strings", {"no", "yes"});
  add_string(node, "post_transform", "LOGISTIC");
  auto out = run_model(model, {T(DType::F32, {2, 2}, {1, 1, 0, 3})});
  ASSERT_EQ(out.size(), 2u);
  // s = 2 - 1 + 0.5 = 1.5 and -3 + 0.5 = -2.5; scores [sigmoid(-s), sigmoid(s)].
  expect_strings(out[0], {"yes", "no"});
  expect_tensor(out[1], DType::F32, {2, 2}, {0.18242552, 0.81757448, 0.92414182, 0.07585818});
}

TEST(OnnxImportMl, LinearRegressorTargetsAndF64Input) {
  pb::NodeProto* node;
  auto model = one_node("LinearRegressor", 1, kOnnxDouble, {1, 2}, &node);
  add_floats(node, "coefficients", {1, 2, 3, 4});
  add_floats(node, "intercepts", {10, 20});
  add_int_attr(node, "targets", 2);
  auto out = run_model(model, {T(DType::F64, {1, 2}, {1, 1})});
  ASSERT_EQ(out.size(), 1u);
  expect_tensor(out[0], DType::F32, {1, 2}, {13, 27});  // [1 + 2 + 10, 3 + 4 + 20]
}

// ---- Preprocessing ------------------------------------------------------------------------------------

TEST(OnnxImportMl, NormalizerNormsAndZeroRows) {
  std::vector<std::pair<std::string, std::vector<double>>> cases = {
      {"MAX", {0.75, -1, 0, 0}}, {"L1", {3.0 / 7, -4.0 / 7, 0, 0}}, {"L2", {0.6, -0.8, 0, 0}}};
  for (const auto& [norm, expected] : cases) {
    SCOPED_TRACE(norm);
    pb::NodeProto* node;
    auto model = one_node("Normalizer", 1, kOnnxFloat, {2, 2}, &node);
    add_string(node, "norm", norm);
    auto out = run_model(model, {T(DType::F32, {2, 2}, {3, -4, 0, 0})});
    ASSERT_EQ(out.size(), 1u);
    expect_tensor(out[0], DType::F32, {2, 2}, expected);  // |row 0|: max 4, L1 7, L2 5
  }
}

TEST(OnnxImportMl, ScalerPerFeatureAndBroadcast) {
  pb::NodeProto* node;
  auto model = one_node("Scaler", 1, kOnnxInt64, {1, 2}, &node);
  add_floats(node, "offset", {1, 2});
  add_floats(node, "scale", {2, 0.5});
  auto out = run_model(model, {T(DType::I64, {1, 2}, {3, 4})});
  ASSERT_EQ(out.size(), 1u);
  expect_tensor(out[0], DType::F32, {1, 2}, {4, 1});  // [(3 - 1) * 2, (4 - 2) * 0.5]
  auto one = one_node("Scaler", 1, kOnnxFloat, {1, 2}, &node);
  add_floats(node, "offset", {1});
  add_floats(node, "scale", {3});
  out = run_model(one, {T(DType::F32, {1, 2}, {3, 4})});
  ASSERT_EQ(out.size(), 1u);
  expect_tensor(out[0], DType::F32, {1, 2}, {6, 9});
}

TEST(OnnxImportMl, OneHotEncoderIntegersAndStrings) {
  pb::NodeProto* node;
  auto model = one_node("OneHotEncoder", 1, kOnnxInt64, {2}, &node);
  add_ints_attr(node, "cats_int64s", {3, 1, 7});
  auto out = run_model(model, {T(DType::I64, {2}, {1, 5})});
  ASSERT_EQ(out.size(), 1u);
  expect_tensor(out[0], DType::F32, {2, 3}, {0, 1, 0, 0, 0, 0});  // 5 is no category: a row of zeros
  auto strings = one_node("OneHotEncoder", 1, kOnnxString, {1, 3}, &node);
  add_strings(node, "cats_strings", {"a", "b"});
  out = run_model(strings, {Tensor::of<std::string>({1, 3}, {"b", "a", "z"})});
  ASSERT_EQ(out.size(), 1u);
  expect_tensor(out[0], DType::F32, {1, 3, 2}, {0, 1, 1, 0, 0, 0});
  auto doubles = one_node("OneHotEncoder", 1, kOnnxDouble, {2}, &node);
  add_ints_attr(node, "cats_int64s", {2, 4});
  out = run_model(doubles, {T(DType::F64, {2}, {4.0, 2.5})});
  ASSERT_EQ(out.size(), 1u);
  expect_tensor(out[0], DType::F32, {2, 2}, {0, 1, 0, 0});  // 2.5 matches no category
}

TEST(OnnxImportMl, ImputerReplacesNaNOrAValue) {
  pb::NodeProto* node;
  auto model = one_node("Imputer", 1, kOnnxFloat, {2, 2}, &node);
  add_floats(node, "imputed_value_floats", {9, 8});
  add_float(node, "replaced_value_float", kNaN);
  auto out = run_model(model, {T(DType::F32, {2, 2}, {kNaN, 1, 2, kNaN})});
  ASSERT_EQ(out.size(), 1u);
  expect_tensor(out[0], DType::F32, {2, 2}, {9, 1, 2, 8});
  auto ints = one_node("Imputer", 1, kOnnxInt64, {1, 3}, &node);
  add_ints_attr(node, "imputed_value_int64s", {0});
  add_int_attr(node, "replaced_value_int64", -1);
  out = run_model(ints, {T(DType::I64, {1, 3}, {-1, 5, -1})});
  ASSERT_EQ(out.size(), 1u);
  expect_tensor(out[0], DType::I64, {1, 3}, {0, 5, 0});
}

// ZipMap's output is declared a sequence of maps (int64 -> float), as skl2onnx writes it.
TEST(OnnxImportMl, ZipMapPassesTheProbabilitiesThrough) {
  auto model = ml_model();
  add_input(model, "X", kOnnxFloat, {std::string("N"), 2});
  auto* node = add_ml_node(model, "ZipMap", {"X"}, {"y"});
  add_ints_attr(node, "classlabels_int64s", {4, 9});
  auto* output = model.mutable_graph()->add_output();
  output->set_name("y");
  auto* map = output->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_map_type();
  map->set_key_type(kOnnxInt64);
  map->mutable_value_type()->mutable_tensor_type()->set_elem_type(kOnnxFloat);
  auto out = run_model(model, {T(DType::F32, {1, 2}, {0.25, 0.75})});
  ASSERT_EQ(out.size(), 1u);
  expect_tensor(out[0], DType::F32, {1, 2}, {0.25, 0.75});
}

// ---- SVMs ---------------------------------------------------------------------------------------------

// Three classes, one support vector each (sv0 = 1, sv1 = 2, sv2 = 3), linear kernel K = x * sv. libsvm's
// layout: pair (i, j) uses class i's vectors with coefficient row j - 1 and class j's with row i.
//   D01 = row0[sv0] * x + row0[sv1] * 2x + rho0 = x - 2x + 0.5 = -x + 0.5
//   D02 = row1[sv0] * x + row0[sv2] * 3x + rho1 = 3x + 6x - 1 = 9x - 1
//   D12 = row1[sv1] * 2x + row1[sv2] * 3x + rho2 = 2x - 3x + 2 = -x + 2
// x = 1: D = [-0.5, 8, 1], votes 01 -> 1, 02 -> 0, 12 -> 1: class 1. x = 0: D = [0.5, -1, 2], one vote each:
// the first, class 0.
TEST(OnnxImportMl, SvmClassifierVotesOneVsOne) {
  pb::NodeProto* node;
  auto model = one_node("SVMClassifier", 2, kOnnxFloat, {std::string("N"), 1}, &node);
  add_ints_attr(node, "classlabels_ints", {10, 20, 30});
  add_ints_attr(node, "vectors_per_class", {1, 1, 1});
  add_floats(node, "support_vectors", {1, 2, 3});
  add_floats(node, "coefficients", {1, -1, 2, 3, 1, -1});
  add_floats(node, "rho", {0.5, -1, 2});
  add_string(node, "kernel_type", "LINEAR");
  auto out = run_model(model, {T(DType::F32, {2, 1}, {1, 0})});
  ASSERT_EQ(out.size(), 2u);
  expect_tensor(out[0], DType::I64, {2}, {20, 10});
  expect_tensor(out[1], DType::F32, {2, 3}, {-0.5, 8, 1, 0.5, -1, 2});
}

// Two classes, sv0 = 1 (coefficient 0.5), sv1 = -1 (coefficient -0.5): D = 0.5 x + 0.5 x = x. With
// prob_a = -1, prob_b = 0: r = 1 / (1 + exp(-x)) = sigmoid(x); coupling two classes stops near [r, 1 - r]:
// sigmoid(2) = 0.880797078 -> [0.880796875, 0.119203125], sigmoid(-1) = 0.268941421 -> [0.268939889,
// 0.731060111] (libsvm's multiclass_probability, see InterpMlTest).
TEST(OnnxImportMl, SvmClassifierPlattProbabilitiesAndBinaryScores) {
  for (bool proba : {true, false}) {
    SCOPED_TRACE(proba ? "probabilities" : "decision values");
    pb::NodeProto* node;
    auto model = one_node("SVMClassifier", 2, kOnnxFloat, {2, 1}, &node);
    add_ints_attr(node, "classlabels_ints", {3, 4});
    add_ints_attr(node, "vectors_per_class", {1, 1});
    add_floats(node, "support_vectors", {1, -1});
    add_floats(node, "coefficients", {0.5, -0.5});
    add_floats(node, "rho", {0});
    if (proba) {
      add_floats(node, "prob_a", {-1});
      add_floats(node, "prob_b", {0});
    }
    auto out = run_model(model, {T(DType::F32, {2, 1}, {2, -1})});
    ASSERT_EQ(out.size(), 2u);
    expect_tensor(out[0], DType::I64, {2}, {3, 4});
    if (proba)
      expect_tensor(out[1], DType::F32, {2, 2}, {0.880796875, 0.119203125, 0.268939889, 0.731060111}, 2e-7);
    else  // [-D, D]
      expect_tensor(out[1], DType::F32, {2, 2}, {-2, 2, 1, -1});
  }
}

// liblinear's form (no support vectors): scores = x W^T + rho[0]; three labels and one rho take the
// ONNX reference's rule: label 1 when the top score is > 0, else 0.
TEST(OnnxImportMl, SvmClassifierWithoutSupportVectors) {
  pb::NodeProto* node;
  auto model = one_node("SVMClassifier", 2, kOnnxFloat, {2, 2}, &node);
  add_ints_attr(node, "classlabels_ints", {7, 8, 9});
  add_floats(node, "coefficients", {1, 0, 0, 1, -1, -1});
  add_floats(node, "rho", {-1});
  auto out = run_model(model, {T(DType::F32, {2, 2}, {3, 2, -1, 0})});
  ASSERT_EQ(out.size(), 2u);
  // Row [3, 2]: [3 - 1, 2 - 1, -5 - 1] = [2, 1, -6]; row [-1, 0]: [-2, -1, 0].
  expect_tensor(out[1], DType::F32, {2, 3}, {2, 1, -6, -2, -1, 0});
  expect_tensor(out[0], DType::I64, {2}, {1, 0});
}

// One support vector sv = [1, 2] with coefficient 1, rho 0, x = [2, 0]: x.sv = 2, |x - sv|^2 = 5;
// gamma 0.5, coef0 1, degree 2.
TEST(OnnxImportMl, SvmRegressorKernels) {
  std::vector<std::pair<std::string, double>> cases = {
      {"LINEAR", 2}, {"POLY", 4}, {"SIGMOID", std::tanh(2.0)}, {"RBF", std::exp(-2.5)}};  // (0.5 * 2 + 1)^2 = 4
  for (const auto& [kernel, expected] : cases) {
    SCOPED_TRACE(kernel);
    pb::NodeProto* node;
    auto model = one_node("SVMRegressor", 1, kOnnxFloat, {1, 2}, &node);
    add_string(node, "kernel_type", kernel);
    add_floats(node, "kernel_params", {0.5, 1, 2});
    add_int_attr(node, "n_supports", 1);
    add_floats(node, "support_vectors", {1, 2});
    add_floats(node, "coefficients", {1});
    add_floats(node, "rho", {0});
    auto out = run_model(model, {T(DType::F32, {1, 2}, {2, 0})});
    ASSERT_EQ(out.size(), 1u);
    expect_tensor(out[0], DType::F32, {1, 1}, {expected});
  }
  // Without support vectors: x . coefficients + rho; one_class gives the sign as +1 / -1.
  pb::NodeProto* node;
  auto model = one_node("SVMRegressor", 1, kOnnxFloat, {2, 2}, &node);
  add_floats(node, "coefficients", {1, 1});
  add_floats(node, "rho", {-3});
  add_int_attr(node, "one_class", 1);
  auto out = run_model(model, {T(DType::F32, {2, 2}, {1, 1, 2, 2})});
  ASSERT_EQ(out.size(), 1u);
  expect_tensor(out[0], DType::F32, {2, 1}, {-1, 1});  // 2 - 3 < 0, 4 - 3 > 0
}

// ---- Binary tree ensembles ------------------------------------------------------------------------

// One split x <= 0.5 -> leaf weight 0.2, else 0.9, every weight on class 0 of two: scores [1 - s, s]
// (NONE), or the transform of [-s, s].
TEST(OnnxImportMl, TreeEnsembleClassifierBinaryForm) {
  for (std::string transform : {"NONE", "LOGISTIC"}) {
    SCOPED_TRACE(transform);
    pb::NodeProto* node;
    auto model = one_node("TreeEnsembleClassifier", 2, kOnnxFloat, {2, 1}, &node);
    add_ints_attr(node, "nodes_treeids", {0, 0, 0});
    add_ints_attr(node, "nodes_nodeids", {0, 1, 2});
    add_ints_attr(node, "nodes_featureids", {0, 0, 0});
    add_floats(node, "nodes_values", {0.5, 0, 0});
    add_strings(node, "nodes_modes", {"BRANCH_LEQ", "LEAF", "LEAF"});
    add_ints_attr(node, "nodes_truenodeids", {1, 0, 0});
    add_ints_attr(node, "nodes_falsenodeids", {2, 0, 0});
    add_ints_attr(node, "class_treeids", {0, 0});
    add_ints_attr(node, "class_nodeids", {1, 2});
    add_ints_attr(node, "class_ids", {0, 0});
    add_floats(node, "class_weights", {0.2, 0.9});
    add_ints_attr(node, "classlabels_int64s", {0, 1});
    add_string(node, "post_transform", transform);
    if (transform == "LOGISTIC") add_floats(node, "base_values", {-0.5});
    auto out = run_model(model, {T(DType::F32, {2, 1}, {0, 1})});
    ASSERT_EQ(out.size(), 2u);
    expect_tensor(out[0], DType::I64, {2}, {0, 1});
    if (transform == "NONE")  // s = 0.2, 0.9
      expect_tensor(out[1], DType::F32, {2, 2}, {0.8, 0.2, 0.1, 0.9});
    else  // s = 0.2 - 0.5 = -0.3, 0.9 - 0.5 = 0.4: [sigmoid(0.3), sigmoid(-0.3)], [sigmoid(-0.4), sigmoid(0.4)]
      expect_tensor(out[1], DType::F32, {2, 2}, {0.57444252, 0.42555748, 0.40131234, 0.59868766});
  }
}

// ---- Errors ---------------------------------------------------------------------------------------

TEST(OnnxImportMl, MalformedAttributesAreErrorsNamingTheNode) {
  pb::NodeProto* node;
  auto linear = one_node("LinearClassifier", 2, kOnnxFloat, {1, 2}, &node);
  add_floats(node, "coefficients", {1, 2, 3});
  EXPECT_THAT(import_error(linear), HasSubstr("node 'n' (LinearClassifier)"));
  EXPECT_THAT(import_error(linear), HasSubstr("coefficients has 3 values, not a multiple of the 2 features"));
  auto both = one_node("LinearClassifier", 2, kOnnxFloat, {1, 2}, &node);
  add_floats(node, "coefficients", {1, 2});
  add_ints_attr(node, "classlabels_ints", {0, 1});
  add_strings(node, "classlabels_strings", {"a", "b"});
  EXPECT_THAT(import_error(both), HasSubstr("gives both classlabels_ints and classlabels_strings"));
  auto symbolic = one_node("LinearRegressor", 1, kOnnxFloat, {1, std::string("F")}, &node);
  add_floats(node, "coefficients", {1, 2});
  EXPECT_THAT(import_error(symbolic), HasSubstr("LinearRegressor needs X as [N, F] with a known F, got f32[1, F]"));
  auto norm = one_node("Normalizer", 1, kOnnxFloat, {1, 2}, &node);
  add_string(node, "norm", "L3");
  EXPECT_THAT(import_error(norm), HasSubstr("Normalizer: norm is 'L3'; expected MAX, L1 or L2"));
  auto scaler = one_node("Scaler", 1, kOnnxFloat, {1, 2}, &node);
  add_floats(node, "offset", {1, 2});
  EXPECT_THAT(import_error(scaler), HasSubstr("Scaler needs both offset and scale (got 2 and 0 values)"));
  auto one_hot = one_node("OneHotEncoder", 1, kOnnxInt64, {2}, &node);
  add_ints_attr(node, "cats_int64s", {1});
  add_int_attr(node, "zeros", 0);
  EXPECT_THAT(import_error(one_hot), HasSubstr("OneHotEncoder with zeros=0 (fail on an unknown category) is not "
                                               "supported"));
  auto imputer = one_node("Imputer", 1, kOnnxFloat, {1, 3}, &node);
  add_floats(node, "imputed_value_floats", {1, 2});
  EXPECT_THAT(import_error(imputer), HasSubstr("Imputer needs X as [N, F] and 1 or F imputed values, got f32[1, 3] "
                                               "and 2 values"));
}

TEST(OnnxImportMl, MalformedSvmsAreErrors) {
  pb::NodeProto* node;
  auto vectors = one_node("SVMClassifier", 2, kOnnxFloat, {1, 2}, &node);
  add_ints_attr(node, "classlabels_ints", {0, 1});
  add_ints_attr(node, "vectors_per_class", {1, 1});
  add_floats(node, "support_vectors", {1, 2, 3});
  add_floats(node, "coefficients", {1, -1});
  add_floats(node, "rho", {0});
  EXPECT_THAT(import_error(vectors), HasSubstr("support_vectors has 3 values; 2 vectors of the input's 2 features "
                                               "need 4"));
  auto kernel = one_node("SVMRegressor", 1, kOnnxFloat, {1, 2}, &node);
  add_string(node, "kernel_type", "CUBIC");
  EXPECT_THAT(import_error(kernel), HasSubstr("SVMRegressor: kernel_type is 'CUBIC'; expected LINEAR, POLY, RBF or "
                                              "SIGMOID"));
  auto rho = one_node("SVMClassifier", 2, kOnnxFloat, {1, 1}, &node);
  add_ints_attr(node, "classlabels_ints", {0, 1, 2});
  add_ints_attr(node, "vectors_per_class", {1, 1, 1});
  add_floats(node, "support_vectors", {1, 2, 3});
  add_floats(node, "coefficients", {1, 1, 1, 1, 1, 1});
  add_floats(node, "rho", {0});
  EXPECT_THAT(import_error(rho), HasSubstr("rho has 1 values; one per class pair (3) needed"));
  auto probit = one_node("SVMRegressor", 1, kOnnxFloat, {1, 2}, &node);
  add_floats(node, "coefficients", {1, 1});
  add_floats(node, "rho", {0});
  add_string(node, "post_transform", "PROBIT");
  EXPECT_THAT(import_error(probit), HasSubstr("SVMRegressor: post_transform PROBIT (only NONE is defined)"));
}

}  // namespace
}  // namespace tessel::testing
