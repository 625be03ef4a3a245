#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "InterpTestUtil.h"

namespace tessel {
namespace {

using testing::expect_tensor;
using ::testing::HasSubstr;

TEST(InterpConstTest, ReadsThePoolWithoutCopying) {
  Module module;
  Function* f = module.add_function("main");
  Tensor weights = Tensor::of<int32_t>({2, 2}, {1, -2, 3, -4});
  module.add_constant("w", weights);
  Op* op = f->append(OpKind::Const, {}, {{DType::I32, {2, 2}}}, {{"name", "w"}});
  f->set_outputs({op->result()}, {"w"});
  ASSERT_TRUE(verify(module).ok());
  auto out = interpret(*f, {});
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::I32, {2, 2}, {1, -2, 3, -4});
  EXPECT_EQ(out->at(0).raw_data(), weights.raw_data());  // weights are shared, never copied per use
}

TEST(InterpConstTest, ScalarAndZeroSizeConstants) {
  Module module;
  Function* f = module.add_function("main");
  module.add_constant("s", Tensor::from_doubles(DType::BF16, {}, {1.5}));
  module.add_constant("e", Tensor(DType::F32, {0, 3}));
  Op* s = f->append(OpKind::Const, {}, {{DType::BF16, {}}}, {{"name", "s"}});
  Op* e = f->append(OpKind::Const, {}, {{DType::F32, {0, 3}}}, {{"name", "e"}});
  f->set_outputs({s->result(), e->result()}, {"s", "e"});
  ASSERT_TRUE(verify(module).ok());
  auto out = interpret(*f, {});
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::BF16, {}, {1.5});
  expect_tensor(out->at(1), DType::F32, {0, 3}, {});
}

TEST(InterpConstTest, DeclaredTypeMustMatchThePool) {
  Module module;
  Function* f = module.add_function("main");
  module.add_constant("w", Tensor(DType::F32, {3}));
  f->append(OpKind::Const, {}, {{DType::F32, {4}}}, {{"name", "w"}});
  Status status = verify(module);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().str(), HasSubstr("has type f32[4], but the operands imply f32[3]"));
}

}  // namespace
}  // namespace tessel
