#include "ir/Builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "frontends/builder/Nn.h"
#include "ir/Verifier.h"
#include "ir/interp/Interpreter.h"

namespace tessel {
namespace {

using ::testing::HasSubstr;

TEST(BuilderTest, InfersSymbolicResultTypes) {
  Module module;
  Builder b(module.add_function("main"));
  Dim n = Dim::symbol("N");
  Value* x = b.input("x", {DType::F32, {n, 1, 4}});
  Value* bias = b.constant(Tensor::of<float>({3, 1}, {1, 2, 3}), "bias");
  Value* y = b.relu(b.add(x, bias));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  EXPECT_EQ(y->type().str(), "f32[N, 3, 4]");
  Value* flat = b.flatten(y);
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  EXPECT_EQ(flat->type().str(), "f32[N, 12]");
  b.output(flat, "flat");
  EXPECT_TRUE(verify(module).ok());
}

TEST(BuilderTest, KeepsFirstErrorAndPropagatesNull) {
  Module module;
  Builder b(module.add_function("main"));
  b.set_location("layer1");
  Value* x = b.input("x", {DType::F32, {2, 3}});
  Value* y = b.input("y", {DType::F32, {4}});
  Value* bad = b.add(x, y);
  EXPECT_EQ(bad, nullptr);
  EXPECT_EQ(b.relu(bad), nullptr);
  b.output(b.relu(bad), "out");
  ASSERT_FALSE(b.status().ok());
  EXPECT_THAT(b.status().error().str(), HasSubstr("op 'add' (node 'layer1')"));
  EXPECT_THAT(b.status().error().str(), HasSubstr("do not broadcast"));
}

TEST(BuilderTest, ConstantsShareTheirBuffer) {
  Module module;
  Builder b(module.add_function("main"));
  Tensor weights = Tensor::of<float>({2}, {1, 2});
  Value* w = b.constant(weights, "w");
  EXPECT_EQ(w->name(), "w");
  EXPECT_EQ(module.constant("w")->raw_data(), weights.raw_data());
  // A second constant with the same hint gets a fresh name.
  Value* w2 = b.constant(Tensor::of<float>({1}, {5}), "w");
  EXPECT_EQ(w2->name(), "w_1");
}

TEST(BuilderTest, NnHelpersReportBadInputs) {
  Module module;
  Builder b(module.add_function("main"));
  nn::WeightInit init;
  Value* x = b.input("x", {DType::F32, {2, 3}});
  EXPECT_EQ(nn::conv2d(b, init, x, 8, 3), nullptr);
  EXPECT_THAT(b.status().error().str(), HasSubstr("conv2d expects [N, C, H, W] with a constant C, got f32[2, 3]"));
}

TEST(BuilderTest, DenseLayerComputesAffineMap) {
  Module module;
  Builder b(module.add_function("main"));
  nn::WeightInit init(3);
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 2}});
  Value* y = nn::dense(b, init, x, 3, "fc");
  b.output(y, "y");
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  EXPECT_EQ(y->type().str(), "f32[N, 3]");
  auto out = interpret(*module.entry(), {Tensor::of<float>({1, 2}, {1, -1})});
  ASSERT_TRUE(out.ok()) << out.error().str();
  const float* w = module.constant("fc.weight")->data<float>();
  const float* bias = module.constant("fc.bias")->data<float>();
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(out->at(0).data<float>()[j], w[j] - w[3 + j] + bias[j], 1e-6);
}

TEST(BuilderTest, WeightInitIsDeterministicAndBounded) {
  nn::WeightInit a(9), b(9);
  Tensor ta = a.uniform({100}, 4), tb = b.uniform({100}, 4);
  EXPECT_TRUE(ta.bitwise_equal(tb));
  for (int i = 0; i < 100; ++i) EXPECT_LE(std::abs(ta.data<float>()[i]), 0.5f);
}

}  // namespace
}  // namespace tessel
