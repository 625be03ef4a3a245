// The kernel op (OpKind::Kernel): shape rule = its body's signature, eval = the interpreter on the body.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "InterpTestUtil.h"

namespace tessel {
namespace {

using testing::expect_tensor;
using ::testing::HasSubstr;

// @body(a, b) -> (s = a + b, r = relu(a - b)), element type `dtype`, shape `shape`.
Function* add_body(Module& module, DType dtype, Shape shape, const std::string& name = "main.k0") {
  Builder b(module.add_function(name));
  Value* a = b.input("a", {dtype, shape});
  Value* c = b.input("b", {dtype, shape});
  b.output(b.add(a, c), "s");
  b.output(b.relu(b.sub(a, c)), "r");
  EXPECT_TRUE(b.status().ok());
  return b.function();
}

TEST(InterpKernelTest, RunsItsBodyOnF32) {
  Module module;
  add_body(module, DType::F32, {2, 2});
  Builder b(module.add_function("main"));
  Value* x = b.input("x", {DType::F32, {2, 2}});
  Value* y = b.input("y", {DType::F32, {2, 2}});
  auto results = b.create(OpKind::Kernel, {x, y}, {{"body", "main.k0"}}, 2);
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  b.output(results[0], "s");
  b.output(results[1], "r");
  ASSERT_TRUE(verify(module).ok());
  EXPECT_EQ(results[1]->type().str(), "f32[2, 2]");
  auto out = interpret(*module.function("main"),
                       {Tensor::of<float>({2, 2}, {1, 2, 3, 4}), Tensor::of<float>({2, 2}, {0.5, 5, -1, 4})});
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::F32, {2, 2}, {1.5, 7, 2, 8});
  expect_tensor(out->at(1), DType::F32, {2, 2}, {0.5, 0, 4, 0});  // relu(1-0.5, 2-5, 3+1, 4-4)
}

TEST(InterpKernelTest, SymbolicDimsMatchByNameAndZeroSizeRuns) {
  Module module;
  Shape shape{Dim::symbol("N"), 3};
  add_body(module, DType::I32, shape);
  Builder b(module.add_function("main"));
  Value* x = b.input("x", {DType::I32, shape});
  auto results = b.create(OpKind::Kernel, {x, x}, {{"body", "main.k0"}}, 2);
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  b.output(results[0], "s");
  b.output(results[1], "r");
  EXPECT_EQ(results[0]->type().str(), "i32[N, 3]");
  ASSERT_TRUE(verify(module).ok());
  auto out = interpret(*module.function("main"), {Tensor::of<int32_t>({1, 3}, {1, -2, 2147483647})});
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::I32, {1, 3}, {2, -4, -2});  // 2147483647*2 wraps to -2
  expect_tensor(out->at(1), DType::I32, {1, 3}, {0, 0, 0});
  auto empty = interpret(*module.function("main"), {Tensor(DType::I32, {0, 3})});
  ASSERT_TRUE(empty.ok()) << empty.error().str();
  expect_tensor(empty->at(0), DType::I32, {0, 3}, {});
}

TEST(InterpKernelTest, ScalarBodyWithConstantAndNoOperands) {
  Module module;
  {
    Builder body(module.add_function("main.k0"));
    body.output(body.exp(body.scalar(0.0)), "one");
    ASSERT_TRUE(body.status().ok());
  }
  Builder b(module.add_function("main"));
  Value* one = b.op(OpKind::Kernel, {}, {{"body", "main.k0"}});
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  b.output(one, "one");
  ASSERT_TRUE(verify(module).ok());
  auto out = interpret(*module.function("main"), {});
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::F32, {}, {1.0});
}

// The shape rule called directly on operand types, with a module to resolve the body.
Expected<std::vector<TensorType>> infer_kernel(const Module& module, std::vector<TensorType> types, AttrMap attrs,
                                               int num_results = 2) {
  ShapeContext ctx{OpKind::Kernel, {}, AttrReader(OpKind::Kernel, attrs), num_results, &module};
  for (const TensorType& type : types) ctx.operands.push_back(&type);
  return op_info(OpKind::Kernel).infer(ctx);
}

TEST(InterpKernelTest, ShapeRuleErrors) {
  Module module;
  add_body(module, DType::F32, {Dim::symbol("N"), 4});
  TensorType good{DType::F32, {Dim::symbol("N"), 4}};
  EXPECT_TRUE(infer_kernel(module, {good, good}, {{"body", "main.k0"}}).ok());

  auto missing = infer_kernel(module, {good, good}, {{"body", "main.k9"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().str(), HasSubstr("kernel body @main.k9 is not a function of the module"));

  auto count = infer_kernel(module, {good}, {{"body", "main.k0"}});
  ASSERT_FALSE(count.ok());
  EXPECT_THAT(count.error().str(), HasSubstr("kernel has 1 operands, but its body @main.k0 takes 2 inputs"));

  TensorType other_symbol{DType::F32, {Dim::symbol("M"), 4}};
  auto symbol = infer_kernel(module, {good, other_symbol}, {{"body", "main.k0"}});
  ASSERT_FALSE(symbol.ok());
  EXPECT_THAT(symbol.error().str(),
              HasSubstr("kernel operand 1 has type f32[M, 4], but body @main.k0 input 1 is f32[N, 4]"));

  TensorType other_dtype{DType::F16, {Dim::symbol("N"), 4}};
  auto dtype = infer_kernel(module, {other_dtype, good}, {{"body", "main.k0"}});
  ASSERT_FALSE(dtype.ok());
  EXPECT_THAT(dtype.error().str(), HasSubstr("kernel operand 0 has type f16[N, 4]"));

  auto offsets = infer_kernel(module, {good, good}, {{"body", "main.k0"}, {"arena_offsets", Shape{0}}});
  ASSERT_FALSE(offsets.ok());
  EXPECT_THAT(offsets.error().str(), HasSubstr("'arena_offsets' has 1 entries, but the kernel has 2 results"));

  auto inplace = infer_kernel(module, {good, good}, {{"body", "main.k0"}, {"inplace", std::vector<int64_t>{0, 2}}});
  ASSERT_FALSE(inplace.ok());
  EXPECT_THAT(inplace.error().str(), HasSubstr("'inplace' names operand 2, but the kernel has 2 operands"));

  auto no_module = infer_kernel(Module(), {good, good}, {{"body", ""}});
  ASSERT_FALSE(no_module.ok());
  EXPECT_THAT(no_module.error().str(), HasSubstr("non-empty 'body'"));
}

TEST(InterpKernelTest, NestedKernelsAreRejected) {
  Module module;
  add_body(module, DType::F32, {2});
  Function* outer = module.add_function("main.k1");
  Value* a = outer->add_input("a", {DType::F32, {2}});
  Op* inner = outer->append(OpKind::Kernel, {a, a}, {{DType::F32, {2}}, {DType::F32, {2}}}, {{"body", "main.k0"}});
  outer->set_outputs({inner->result(0)}, {"s"});
  TensorType type{DType::F32, {2}};
  auto nested = infer_kernel(module, {type}, {{"body", "main.k1"}}, 1);
  ASSERT_FALSE(nested.ok());
  EXPECT_THAT(nested.error().str(), HasSubstr("kernel body @main.k1 contains a kernel op (bodies must be flat)"));
}

TEST(InterpKernelTest, MissingBodyAtRunTimeIsAnError) {
  Module module;
  {
    Builder body(module.add_function("main.k0"));
    body.output(body.relu(body.input("a", {DType::F32, {Dim::symbol("N")}})), "r");
    ASSERT_TRUE(body.status().ok());
  }
  Builder b(module.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N")}});
  b.output(b.op(OpKind::Kernel, {x}, {{"body", "main.k0"}}), "r");
  ASSERT_TRUE(verify(module).ok());
  auto out = interpret(*module.function("main"), {Tensor::of<float>({3}, {-1, 0, 2})});
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::F32, {3}, {0, 0, 2});
  // Evaluating a kernel whose body vanished is an error naming the body.
  EXPECT_FALSE(module.function("main.k7"));
  Function* main = module.function("main");
  main->ops().front()->set_attr("body", Attr("main.k7"));
  auto broken = interpret(*main, {Tensor::of<float>({3}, {-1, 0, 2})});
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.error().str(), HasSubstr("kernel body @main.k7 is not a function of the module"));
}

}  // namespace
}  // namespace tessel
