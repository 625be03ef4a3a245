// The ONNX importer: dims and symbols, folding of shape subgraphs, compositions, malformed models
// (each with the message it must give), external data, and a few tests from the ONNX node suite.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "frontends/onnx/Conformance.h"
#include "frontends/onnx/GraphCheck.h"
#include "frontends/onnx/Loader.h"
#include "ir/interp/Interpreter.h"
#include "tests/unit/InterpTestUtil.h"
#include "tests/unit/OnnxTestUtil.h"

namespace tessel::testing {
namespace {

using onnx::kOnnxFloat;
using onnx::kOnnxInt64;
using ::testing::HasSubstr;

std::unique_ptr<Module> import_ok(const pb::ModelProto& model, const onnx::ImportOptions& options = {}) {
  auto module = onnx::import_model(model, "", options);
  EXPECT_TRUE(module.ok()) << (module.ok() ? "" : module.error().str());
  return module.ok() ? std::move(module).value() : nullptr;
}

std::string import_error(const pb::ModelProto& model, onnx::ImportReport* report = nullptr) {
  auto module = onnx::import_model(model, "", {}, report);
  EXPECT_FALSE(module.ok());
  return module.ok() ? std::string() : module.error().str();
}

int count_ops(const Function& function, OpKind kind) {
  int n = 0;
  for (const Op* op : function.ops()) n += op->kind() == kind;
  return n;
}

// ---- Dims and symbols -----------------------------------------------------------------------------

TEST(OnnxImport, DimParamsBecomeSymbolsAndUnknownDimsFreshOnes) {
  auto model = onnx_model();
  add_input(model, "x", kOnnxFloat, {std::string("batch"), 3, std::monostate{}});
  // "unk0" is taken by the model, so the fresh symbol must skip it.
  add_input(model, "y", kOnnxFloat, {std::string("unk0"), std::monostate{}});
  add_node(model, "Relu", {"x"}, {"rx"});
  add_node(model, "Relu", {"y"}, {"ry"});
  add_output(model, "rx");
  add_output(model, "ry");
  auto module = import_ok(model);
  ASSERT_TRUE(module);
  const Function& main = *module->entry();
  EXPECT_EQ(main.inputs()[0]->type().str(), "f32[batch, 3, unk1]");
  EXPECT_EQ(main.inputs()[1]->type().str(), "f32[unk0, unk2]");
  EXPECT_EQ(main.outputs()[0]->type().str(), "f32[batch, 3, unk1]");
}

TEST(OnnxImport, DimParamsWithOddCharactersStayDistinct) {
  auto model = onnx_model();
  add_input(model, "x", kOnnxFloat, {std::string("batch size"), std::string("batch_size")});
  add_node(model, "Relu", {"x"}, {"y"});
  add_output(model, "y");
  auto module = import_ok(model);
  ASSERT_TRUE(module);
  EXPECT_EQ(module->entry()->inputs()[0]->type().str(), "f32[batch_size, batch_size_1]");
}

TEST(OnnxImport, ShapeGatherConcatReshapeFoldsWithSymbolicBatch) {
  // y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [12])) for x: f32[N, 3, 4] -> f32[N, 12].
  auto model = onnx_model(13);
  add_input(model, "x", kOnnxFloat, {std::string("N"), 3, 4});
  add_initializer(model, "zero", Tensor::of<int64_t>({}, {0}));
  add_initializer(model, "axes", Tensor::of<int64_t>({1}, {0}));
  add_initializer(model, "twelve", Tensor::of<int64_t>({1}, {12}));
  add_node(model, "Shape", {"x"}, {"shape"});
  add_node(model, "Gather", {"shape", "zero"}, {"n"});
  add_node(model, "Unsqueeze", {"n", "axes"}, {"n1"});
  add_node(model, "Concat", {"n1", "twelve"}, {"target"}, "concat");
  add_int_attr(model.mutable_graph()->mutable_node(3), "axis", 0);
  add_node(model, "Reshape", {"x", "target"}, {"y"});
  add_output(model, "y");
  auto module = import_ok(model);
  ASSERT_TRUE(module);
  const Function& main = *module->entry();
  EXPECT_EQ(main.outputs()[0]->type().str(), "f32[N, 12]");
  // The shape arithmetic is gone: only the reshape is left.
  EXPECT_EQ(main.num_ops(), 1u);
  EXPECT_EQ(count_ops(main, OpKind::Reshape), 1);
  auto out = interpret(main, {T(DType::F32, {2, 3, 4}, std::vector<double>(24, 1.0))});
  ASSERT_TRUE(out.ok()) << out.error().str();
  EXPECT_EQ(out->at(0).shape(), (std::vector<int64_t>{2, 12}));
}

TEST(OnnxImport, ReshapeZeroCopiesAndMinusOneIsInferredSymbolically) {
  auto model = onnx_model(13);
  add_input(model, "x", kOnnxFloat, {std::string("N"), 3, 4});
  add_initializer(model, "shape", Tensor::of<int64_t>({2}, {0, -1}));
  add_node(model, "Reshape", {"x", "shape"}, {"y"});
  add_output(model, "y");
  auto module = import_ok(model);
  ASSERT_TRUE(module);
  EXPECT_EQ(module->entry()->outputs()[0]->type().str(), "f32[N, 12]");
}

TEST(OnnxImport, RangeAndConstantOfShapeTakeSymbolicSizes) {
  // ConstantOfShape(Shape(x)[1:2]) and Range(0, Shape(x)[0], 1) for x: f32[N, 5].
  auto model = onnx_model(13);
  add_input(model, "x", kOnnxFloat, {std::string("N"), 5});
  add_initializer(model, "zero", Tensor::of<int64_t>({}, {0}));
  add_initializer(model, "one", Tensor::of<int64_t>({}, {1}));
  add_node(model, "Shape", {"x"}, {"shape"});
  add_node(model, "Gather", {"shape", "zero"}, {"n"});
  add_node(model, "Range", {"zero", "n", "one"}, {"ramp"});
  add_node(model, "ConstantOfShape", {"shape"}, {"fill"});
  add_output(model, "ramp");
  add_output(model, "fill");
  auto module = import_ok(model);
  ASSERT_TRUE(module);
  const Function& main = *module->entry();
  EXPECT_EQ(main.outputs()[0]->type().str(), "i64[N]");
  EXPECT_EQ(main.outputs()[1]->type().str(), "f32[N, 5]");
  auto out = interpret(main, {T(DType::F32, {3, 5}, std::vector<double>(15, 2.0))});
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::I64, {3}, {0, 1, 2});
  expect_tensor(out->at(1), DType::F32, {3, 5}, std::vector<double>(15, 0.0));
}

// ---- Folding and compositions ---------------------------------------------------------------------

TEST(OnnxImport, OpsOnConstantsFoldAndConstantNodesBecomeConstants) {
  auto model = onnx_model();
  add_input(model, "x", kOnnxFloat, {2});
  add_initializer(model, "a", Tensor::of<float>({2}, {1.0f, 2.0f}));
  auto* constant = add_node(model, "Constant", {}, {"b"});
  auto* attr = constant->add_attribute();
  attr->set_name("value");
  attr->set_type(pb::AttributeProto::TENSOR);
  onnx::tensor_to_proto(Tensor::of<float>({2}, {10.0f, 20.0f}), *attr->mutable_t());
  add_node(model, "Add", {"a", "b"}, {"ab"});
  add_node(model, "Mul", {"x", "ab"}, {"y"});
  add_output(model, "y");
  auto module = import_ok(model);
  ASSERT_TRUE(module);
  const Function& main = *module->entry();
  EXPECT_EQ(count_ops(main, OpKind::Add), 0);
  EXPECT_EQ(count_ops(main, OpKind::Mul), 1);
  EXPECT_EQ(module->constants().size(), 1u);  // a and b are dead after folding: only a+b is kept
  auto out = interpret(main, {T(DType::F32, {2}, {2, 3})});
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::F32, {2}, {22, 66});  // [2*11, 3*22]
}

TEST(OnnxImport, BatchNormalizationFoldsToScaleAndShift) {
  auto model = onnx_model();
  add_input(model, "x", kOnnxFloat, {std::string("N"), 2, 1, 1});
  add_initializer(model, "scale", Tensor::of<float>({2}, {2.0f, 1.0f}));
  add_initializer(model, "bias", Tensor::of<float>({2}, {1.0f, 0.0f}));
  add_initializer(model, "mean", Tensor::of<float>({2}, {1.0f, -1.0f}));
  add_initializer(model, "var", Tensor::of<float>({2}, {4.0f, 1.0f}));
  auto* bn = add_node(model, "BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"});
  auto* eps = bn->add_attribute();
  eps->set_name("epsilon");
  eps->set_type(pb::AttributeProto::FLOAT);
  eps->set_f(0.0f);
  add_output(model, "y");
  auto module = import_ok(model);
  ASSERT_TRUE(module);
  const Function& main = *module->entry();
  EXPECT_EQ(count_ops(main, OpKind::Sqrt), 0);  // the statistics folded away
  auto out = interpret(main, {T(DType::F32, {1, 2, 1, 1}, {5, 3})});
  ASSERT_TRUE(out.ok()) << out.error().str();
  // channel 0: (5 - 1) / sqrt(4) * 2 + 1 = 5; channel 1: (3 + 1) / 1 * 1 + 0 = 4.
  expect_tensor(out->at(0), DType::F32, {1, 2, 1, 1}, {5, 4});
}

TEST(OnnxImport, AutoPadSameResolvesIntoPads) {
  auto model = onnx_model();
  add_input(model, "x", kOnnxFloat, {1, 1, 5, 5});
  add_initializer(model, "w", Tensor::of<float>({1, 1, 3, 3}, std::vector<float>(9, 1.0f)));
  auto* conv = add_node(model, "Conv", {"x", "w"}, {"y"});
  auto* pad = conv->add_attribute();
  pad->set_name("auto_pad");
  pad->set_type(pb::AttributeProto::STRING);
  pad->set_s("SAME_UPPER");
  add_ints_attr(conv, "strides", {2, 2});
  add_output(model, "y");
  auto module = import_ok(model);
  ASSERT_TRUE(module);
  // out = ceil(5 / 2) = 3; total pad = (3 - 1) * 2 + 3 - 5 = 2, split 1 / 1.
  EXPECT_EQ(module->entry()->outputs()[0]->type().str(), "f32[1, 1, 3, 3]");
  const Op* op = module->entry()->outputs()[0]->producer();
  EXPECT_EQ(op->attr().ints("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
}

// ---- Malformed models -----------------------------------------------------------------------------

TEST(OnnxImport, TruncatedModelIsAClearError) {
  auto model = onnx_model();
  add_input(model, "x", kOnnxFloat, {2});
  add_initializer(model, "w", Tensor::of<float>({4}, {1, 2, 3, 4}));
  add_node(model, "Add", {"x", "x"}, {"y"});
  add_output(model, "y");
  std::string bytes = model.SerializeAsString();
  auto parsed = onnx::parse_model(std::string_view(bytes).substr(0, bytes.size() / 2), "m.onnx");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.error().str(), HasSubstr("m.onnx: not a valid ONNX model"));
  EXPECT_THAT(parsed.error().str(), HasSubstr("truncated"));
  auto garbage = onnx::parse_model("\xff\xff\xff\xff", "g.onnx");
  ASSERT_FALSE(garbage.ok());
  EXPECT_THAT(garbage.error().str(), HasSubstr("not a valid ONNX model"));
}

TEST(OnnxImport, HeaderChecksRejectUnknownIrVersionsAndMissingFiles) {
  auto model = onnx_model(17, 15);
  auto parsed = onnx::parse_model(model.SerializeAsString(), "new.onnx");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.error().str(), HasSubstr("IR version 15 is newer than Tessel supports (up to 14)"));
  auto missing = onnx::import_file("/nonexistent/model.onnx");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().str(), HasSubstr("no such file"));
}

TEST(OnnxImport, WrongRawDataLengthNamesTheTensor) {
  auto model = onnx_model();
  auto* init = add_initializer(model, "w", Tensor::of<float>({2, 3}, std::vector<float>(6, 1.0f)));
  init->mutable_raw_data()->resize(20);
  add_node(model, "Relu", {"w"}, {"y"});
  add_output(model, "y");
  std::string error = import_error(model);
  EXPECT_THAT(error, HasSubstr("tensor 'w' (f32[2, 3]) needs 24 bytes of raw_data, got 20"));
}

TEST(OnnxImport, TypedFieldCountMustMatchTheDims) {
  pb::TensorProto proto;
  proto.set_name("t");
  proto.set_data_type(kOnnxInt64);
  proto.add_dims(3);
  proto.add_int64_data(1);
  auto tensor = onnx::tensor_from_proto(proto);
  ASSERT_FALSE(tensor.ok());
  EXPECT_THAT(tensor.error().str(), HasSubstr("tensor 't' (i64[3]) has 3 elements but int64_data holds 1"));
}

TEST(OnnxImport, NegativeAndOverflowingDimsAreRejectedBeforeAllocation) {
  pb::TensorProto proto;
  proto.set_name("t");
  proto.set_data_type(kOnnxFloat);
  proto.add_dims(2);
  proto.add_dims(-3);
  auto negative = onnx::tensor_from_proto(proto);
  ASSERT_FALSE(negative.ok());
  EXPECT_THAT(negative.error().str(), HasSubstr("tensor 't' has a negative dim -3"));
  proto.clear_dims();
  proto.add_dims(int64_t{1} << 40);
  proto.add_dims(int64_t{1} << 40);
  auto overflow = onnx::tensor_from_proto(proto);
  ASSERT_FALSE(overflow.ok());
  EXPECT_THAT(overflow.error().str(), HasSubstr("overflows int64"));
  proto.clear_dims();
  proto.add_dims(int64_t{1} << 32);
  auto huge = onnx::tensor_from_proto(proto);  // 16 GiB of f32: over the default limit, never allocated
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.error().str(), HasSubstr("over the limit"));

  auto model = onnx_model();
  add_input(model, "x", kOnnxFloat, {2, int64_t{-1}});
  add_node(model, "Relu", {"x"}, {"y"});
  add_output(model, "y");
  EXPECT_THAT(import_error(model), HasSubstr("graph input 'x' has a negative dim -1"));
}

TEST(OnnxImport, NewerElementTypesAreUnsupportedNotMisread) {
  pb::TensorProto proto;
  proto.set_name("f6");
  proto.set_data_type(27);
  proto.add_dims(2);
  proto.set_raw_data(std::string(2, '\0'));
  auto f6 = onnx::tensor_from_proto(proto);
  ASSERT_FALSE(f6.ok());
  EXPECT_THAT(f6.error().str(), HasSubstr("tensor 'f6': unsupported element type 27 (FLOAT6E2M3)"));
  proto.set_data_type(99);
  auto unknown = onnx::tensor_from_proto(proto);
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().str(), HasSubstr("unsupported element type 99 (unknown)"));

  auto model = onnx_model(21, 10);
  add_input(model, "x", 28, {4});
  add_node(model, "Relu", {"x"}, {"y"});
  add_output(model, "y");
  onnx::ImportReport report;
  EXPECT_THAT(import_error(model, &report), HasSubstr("graph input 'x': unsupported element type 28 (FLOAT6E3M2)"));
  EXPECT_TRUE(report.unsupported);
}

TEST(OnnxImport, CyclesDanglingNamesAndDuplicateOutputsNameTheNode) {
  auto cycle = onnx_model();
  add_input(cycle, "x", kOnnxFloat, {2});
  add_node(cycle, "Add", {"x", "b"}, {"a"}, "first");
  add_node(cycle, "Relu", {"a"}, {"b"}, "second");
  add_output(cycle, "b");
  std::string error = import_error(cycle);
  EXPECT_THAT(error, HasSubstr("the graph has a cycle"));
  EXPECT_THAT(error, HasSubstr("node 'first' (Add)"));
  EXPECT_THAT(error, HasSubstr("node 'second' (Relu)"));

  auto dangling = onnx_model();
  add_input(dangling, "x", kOnnxFloat, {2});
  add_node(dangling, "Add", {"x", "nowhere"}, {"y"}, "adder");
  add_output(dangling, "y");
  EXPECT_THAT(import_error(dangling),
              HasSubstr("node 'adder' (Add): input 'nowhere' is not produced by any node, initializer or graph input"));

  auto duplicate = onnx_model();
  add_input(duplicate, "x", kOnnxFloat, {2});
  add_node(duplicate, "Relu", {"x"}, {"y"}, "r1");
  add_node(duplicate, "Neg", {"x"}, {"y"}, "r2");
  add_output(duplicate, "y");
  EXPECT_THAT(import_error(duplicate),
              HasSubstr("duplicate definition of 'y': node 'r1' (Relu) and node 'r2' (Neg) both produce it"));

  auto missing_output = onnx_model();
  add_input(missing_output, "x", kOnnxFloat, {2});
  add_output(missing_output, "z");
  EXPECT_THAT(import_error(missing_output), HasSubstr("graph output 'z' is not produced"));
}

TEST(OnnxImport, NodesOutOfOrderAreSortedTopologically) {
  auto model = onnx_model();
  add_input(model, "x", kOnnxFloat, {2});
  add_node(model, "Neg", {"a"}, {"y"});
  add_node(model, "Relu", {"x"}, {"a"});
  add_output(model, "y");
  auto order = onnx::check_graph(model.graph());
  ASSERT_TRUE(order.ok()) << order.error().str();
  EXPECT_EQ(*order, (std::vector<int>{1, 0}));
  EXPECT_TRUE(import_ok(model));
}

TEST(OnnxImport, UnsupportedOpsListTheVersionsTesselSupports) {
  auto model = onnx_model(18);
  add_input(model, "x", kOnnxFloat, {2});
  add_node(model, "Gelu", {"x"}, {"y"}, "g");
  add_output(model, "y");
  onnx::ImportReport report;
  std::string error = import_error(model, &report);
  EXPECT_THAT(error, HasSubstr("node 'g' (Gelu): unsupported op Gelu (domain ai.onnx, opset 18)"));
  EXPECT_THAT(error, HasSubstr("Tessel supports Gelu in ai.onnx opsets 20-28"));
  EXPECT_TRUE(report.unsupported);

  auto unknown = onnx_model();
  add_input(unknown, "x", kOnnxFloat, {2});
  add_node(unknown, "FooBar", {"x"}, {"y"});
  add_output(unknown, "y");
  EXPECT_THAT(import_error(unknown), HasSubstr("Tessel does not support FooBar in any opset"));

  auto old = onnx_model(5);
  add_input(old, "x", kOnnxFloat, {2});
  add_node(old, "Relu", {"x"}, {"y"});
  add_output(old, "y");
  EXPECT_THAT(import_error(old), HasSubstr("imports ai.onnx opset 5; Tessel supports opsets 6 to 28"));
}

TEST(OnnxImport, BadAttributesAndShapeErrorsNameTheNode) {
  auto model = onnx_model();
  add_input(model, "x", kOnnxFloat, {2, 3});
  auto* node = add_node(model, "Transpose", {"x"}, {"y"}, "t");
  auto* attr = node->add_attribute();
  attr->set_name("perm");
  attr->set_type(pb::AttributeProto::FLOAT);
  attr->set_f(1.0f);
  add_output(model, "y");
  EXPECT_THAT(import_error(model),
              HasSubstr("node 't' (Transpose) (domain ai.onnx, opset 17): attribute 'perm' must be INTS, got FLOAT"));

  auto shapes = onnx_model();
  add_input(shapes, "a", kOnnxFloat, {2, 3});
  add_input(shapes, "b", kOnnxFloat, {4, 5});
  add_node(shapes, "MatMul", {"a", "b"}, {"y"}, "mm");
  add_output(shapes, "y");
  EXPECT_THAT(import_error(shapes), HasSubstr("node 'mm' (MatMul)"));
}

TEST(OnnxImport, InputsNeededAtImportTimeAreReportedAndCanBeBound) {
  auto model = onnx_model(13);
  add_input(model, "x", kOnnxFloat, {2, 3});
  add_input(model, "shape", kOnnxInt64, {1});
  add_node(model, "Reshape", {"x", "shape"}, {"y"}, "r");
  add_output(model, "y");
  onnx::ImportReport report;
  EXPECT_THAT(import_error(model, &report), HasSubstr("must be known at import time"));
  EXPECT_EQ(report.inputs_needed_as_constants, (std::vector<std::string>{"shape"}));

  onnx::ImportOptions options;
  options.constant_inputs["shape"] = Tensor::of<int64_t>({1}, {6});
  auto module = import_ok(model, options);
  ASSERT_TRUE(module);
  EXPECT_EQ(module->entry()->inputs().size(), 1u);
  EXPECT_EQ(module->entry()->outputs()[0]->type().str(), "f32[6]");
}

// ---- Control flow ---------------------------------------------------------------------------------

pb::GraphProto* add_graph_attr(pb::NodeProto* node, const std::string& name) {
  auto* attr = node->add_attribute();
  attr->set_name(name);
  attr->set_type(pb::AttributeProto::GRAPH);
  return attr->mutable_g();
}

void add_graph_input(pb::GraphProto* graph, const std::string& name, int32_t elem_type,
                     const std::vector<OnnxDim>& dims) {
  auto* info = graph->add_input();
  info->set_name(name);
  set_tensor_type(info, elem_type, dims);
}

pb::NodeProto* add_graph_node(pb::GraphProto* graph, const std::string& op, const std::vector<std::string>& inputs,
                              const std::string& output) {
  auto* node = graph->add_node();
  node->set_op_type(op);
  for (const auto& input : inputs) node->add_input(input);
  node->add_output(output);
  return node;
}

TEST(OnnxImport, IfWithAKnownConditionInlinesOneBranch) {
  auto model = onnx_model(13);
  add_input(model, "x", kOnnxFloat, {2});
  add_initializer(model, "c", Tensor::of<bool>({}, {false}));
  auto* node = add_node(model, "If", {"c"}, {"y"}, "choose");
  auto* then_branch = add_graph_attr(node, "then_branch");
  add_graph_node(then_branch, "Relu", {"x"}, "t")->set_name("then_relu");
  then_branch->add_output()->set_name("t");
  auto* else_branch = add_graph_attr(node, "else_branch");
  add_graph_node(else_branch, "Neg", {"x"}, "e");  // reads the outer x
  else_branch->add_output()->set_name("e");
  add_output(model, "y");
  auto module = import_ok(model);
  ASSERT_TRUE(module);
  EXPECT_EQ(count_ops(*module->entry(), OpKind::Neg), 1);
  EXPECT_EQ(count_ops(*module->entry(), OpKind::Relu), 0);
  auto out = interpret(*module->entry(), {T(DType::F32, {2}, {1, -2})});
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::F32, {2}, {-1, 2});
}

TEST(OnnxImport, LoopWithAKnownTripCountUnrolls) {
  // acc starts at 0 and adds the outer x three times; the scan output stacks acc after each step.
  auto model = onnx_model(13);
  add_input(model, "x", kOnnxFloat, {2});
  add_initializer(model, "trips", Tensor::of<int64_t>({}, {3}));
  add_initializer(model, "go", Tensor::of<bool>({}, {true}));
  add_initializer(model, "zero", Tensor::of<float>({2}, {0, 0}));
  auto* loop = add_node(model, "Loop", {"trips", "go", "zero"}, {"acc", "history"}, "loop");
  auto* body = add_graph_attr(loop, "body");
  add_graph_input(body, "i", kOnnxInt64, {});
  add_graph_input(body, "cond_in", 9, {});
  add_graph_input(body, "acc_in", kOnnxFloat, {2});
  add_graph_node(body, "Identity", {"cond_in"}, "cond_out");
  add_graph_node(body, "Add", {"acc_in", "x"}, "acc_out");
  add_graph_node(body, "Identity", {"acc_out"}, "step");
  for (const char* name : {"cond_out", "acc_out", "step"}) body->add_output()->set_name(name);
  add_output(model, "acc");
  add_output(model, "history");
  auto module = import_ok(model);
  ASSERT_TRUE(module);
  EXPECT_EQ(module->entry()->outputs()[1]->type().str(), "f32[3, 2]");
  auto out = interpret(*module->entry(), {T(DType::F32, {2}, {1, 2})});
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::F32, {2}, {3, 6});
  expect_tensor(out->at(1), DType::F32, {3, 2}, {1, 2, 2, 4, 3, 6});
}

TEST(OnnxImport, LoopConditionsComputedAtRunTimeAreUnsupported) {
  auto model = onnx_model(13);
  add_input(model, "x", kOnnxFloat, {2});
  add_initializer(model, "trips", Tensor::of<int64_t>({}, {3}));
  add_initializer(model, "go", Tensor::of<bool>({}, {true}));
  auto* loop = add_node(model, "Loop", {"trips", "go", "x"}, {"y"}, "loop");
  auto* body = add_graph_attr(loop, "body");
  add_graph_input(body, "i", kOnnxInt64, {});
  add_graph_input(body, "cond_in", 9, {});
  add_graph_input(body, "v", kOnnxFloat, {2});
  add_initializer(model, "limit", Tensor::of<float>({}, {10}));
  add_graph_node(body, "ReduceSum", {"v"}, "total");
  add_graph_node(body, "Less", {"total", "limit"}, "more");
  add_graph_node(body, "Add", {"v", "v"}, "doubled");
  for (const char* name : {"more", "doubled"}) body->add_output()->set_name(name);
  add_output(model, "y");
  onnx::ImportReport report;
  EXPECT_THAT(import_error(model, &report), HasSubstr("the Loop condition is computed at run time"));
  EXPECT_TRUE(report.unsupported);
}

// ---- External data --------------------------------------------------------------------------------

class OnnxExternalData : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("tessel_onnx_ext_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "model");
    std::ofstream(root_ / "model" / "w.bin", std::ios::binary).write("\0\0\0\0\0\0\x80\x3f", 8);  // 0.0f, 1.0f
    std::ofstream(root_ / "outside.bin", std::ios::binary).write("\0\0\0\0\0\0\x80\x3f", 8);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  Expected<Tensor> read(const std::string& location) {
    pb::TensorProto proto;
    proto.set_name("w");
    proto.set_data_type(kOnnxFloat);
    proto.add_dims(2);
    proto.set_data_location(pb::TensorProto::EXTERNAL);
    auto* entry = proto.add_external_data();
    entry->set_key("location");
    entry->set_value(location);
    return onnx::tensor_from_proto(proto, {(root_ / "model").string()});
  }

  std::filesystem::path root_;
};

TEST_F(OnnxExternalData, FilesInsideTheModelFolderLoad) {
  auto tensor = read("w.bin");
  ASSERT_TRUE(tensor.ok()) << tensor.error().str();
  expect_tensor(*tensor, DType::F32, {2}, {0.0, 1.0});
}

TEST_F(OnnxExternalData, PathsLeavingTheFolderAreRefused) {
  auto dotdot = read("../outside.bin");
  ASSERT_FALSE(dotdot.ok());
  EXPECT_THAT(dotdot.error().str(), HasSubstr("contains '..'"));
  auto absolute = read((root_ / "outside.bin").string());
  ASSERT_FALSE(absolute.ok());
  EXPECT_THAT(absolute.error().str(), HasSubstr("is absolute"));
  std::filesystem::create_symlink(root_ / "outside.bin", root_ / "model" / "link.bin");
  auto link = read("link.bin");
  ASSERT_FALSE(link.ok());
  EXPECT_THAT(link.error().str(), HasSubstr("leads outside the model's folder"));
  auto missing = read("nope.bin");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().str(), HasSubstr("not found"));
}

// ---- Conformance runner ---------------------------------------------------------------------------

TEST(OnnxConformance, ComparisonFollowsTheUpstreamRule) {
  double nan = std::nan("");
  EXPECT_TRUE(
      onnx::compare_tensors(T(DType::F32, {3}, {1.0, nan, 100.0}), T(DType::F32, {3}, {1.0, nan, 100.05})).ok());
  // |100.2 - 100| = 0.2 > 1e-7 + 1e-3 * 100 = 0.1000001.
  auto far = onnx::compare_tensors(T(DType::F32, {1}, {100.2}), T(DType::F32, {1}, {100.0}));
  ASSERT_FALSE(far.ok());
  EXPECT_THAT(far.error().str(), HasSubstr("1 of 1 elements differ; first at flat index 0"));
  auto nan_vs_number = onnx::compare_tensors(T(DType::F32, {1}, {nan}), T(DType::F32, {1}, {1.0}));
  EXPECT_FALSE(nan_vs_number.ok());
  auto dtype = onnx::compare_tensors(T(DType::F64, {1}, {1.0}), T(DType::F32, {1}, {1.0}));
  ASSERT_FALSE(dtype.ok());
  EXPECT_THAT(dtype.error().str(), HasSubstr("got f64[1], expected f32[1]"));
  EXPECT_FALSE(onnx::compare_tensors(T(DType::F32, {1, 2}, {1, 2}), T(DType::F32, {2}, {1, 2})).ok());
}

#ifdef TESSEL_ONNX_NODE_TESTS_DIR
std::string node_test(const std::string& name) { return std::string(TESSEL_ONNX_NODE_TESTS_DIR) + "/node/" + name; }

TEST(OnnxConformance, NodeTestsFromTheSuitePass) {
  if (!std::filesystem::exists(node_test("test_abs"))) GTEST_SKIP() << "ONNX node tests not found";
  for (const char* name : {"test_abs", "test_conv_with_strides_padding", "test_lstm_defaults", "test_softmax_axis_0",
                           "test_batchnorm_example", "test_gemm_default_matrix_bias", "test_maxpool_2d_same_upper"}) {
    onnx::TestResult result = onnx::run_conformance_test(node_test(name));
    EXPECT_EQ(result.outcome, onnx::Outcome::Pass) << onnx::result_line(result);
  }
}

TEST(OnnxConformance, ShapeInputsOfTheSuiteAreBoundAndRecorded) {
  if (!std::filesystem::exists(node_test("test_reshape_negative_dim"))) GTEST_SKIP() << "ONNX node tests not found";
  onnx::TestResult result = onnx::run_conformance_test(node_test("test_reshape_negative_dim"));
  EXPECT_EQ(result.outcome, onnx::Outcome::Pass) << onnx::result_line(result);
  EXPECT_EQ(result.bound_inputs, (std::vector<std::string>{"shape"}));
}

TEST(OnnxConformance, SequenceTestsAreUnsupported) {
  if (!std::filesystem::exists(node_test("test_sequence_insert_at_back"))) GTEST_SKIP() << "ONNX node tests not found";
  onnx::TestResult result = onnx::run_conformance_test(node_test("test_sequence_insert_at_back"));
  EXPECT_EQ(result.outcome, onnx::Outcome::Unsupported) << onnx::result_line(result);
  EXPECT_THAT(result.reason, HasSubstr("is a sequence"));
}
#endif

}  // namespace
}  // namespace tessel::testing
