#include "ir/Verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ir/Module.h"

namespace tessel {
namespace {

using ::testing::HasSubstr;

const TensorType kF32x2{DType::F32, {2}};

std::string verify_error(const Module& module) {
  Status status = verify(module);
  EXPECT_FALSE(status.ok());
  return status.ok() ? "" : status.error().str();
}

TEST(VerifierTest, AcceptsWellTypedFunction) {
  Module module;
  Function* f = module.add_function("main");
  Value* x = f->add_input("x", kF32x2);
  Op* relu = f->append(OpKind::Relu, {x}, {kF32x2});
  f->set_outputs({relu->result()}, {"y"});
  EXPECT_TRUE(verify(module).ok());
}

TEST(VerifierTest, RejectsUseBeforeDefinition) {
  Module module;
  Function* f = module.add_function("main");
  Value* x = f->add_input("x", kF32x2);
  Op* second = f->append(OpKind::Relu, {x}, {kF32x2});
  Op* first = f->insert_before(second, OpKind::Neg, {second->result()}, {kF32x2});
  f->set_outputs({first->result()}, {"y"});
  EXPECT_THAT(verify_error(module), HasSubstr("operand 0 (%1) is used before it is defined"));
}

TEST(VerifierTest, RejectsWrongOperandCount) {
  Module module;
  Function* f = module.add_function("main");
  Value* x = f->add_input("x", kF32x2);
  f->append(OpKind::Add, {x}, {kF32x2}, {}, "adder");
  std::string error = verify_error(module);
  EXPECT_THAT(error, HasSubstr("@main: op 'add' (%0, node 'adder')"));
  EXPECT_THAT(error, HasSubstr("takes 2 operands, got 1"));
}

TEST(VerifierTest, RejectsAbsentRequiredOperand) {
  Module module;
  Function* f = module.add_function("main");
  Value* x = f->add_input("x", kF32x2);
  f->append(OpKind::Add, {x, nullptr}, {kF32x2});
  EXPECT_THAT(verify_error(module), HasSubstr("operand 1 is required but absent"));
}

TEST(VerifierTest, RejectsUnknownAttribute) {
  Module module;
  Function* f = module.add_function("main");
  Value* x = f->add_input("x", kF32x2);
  f->append(OpKind::Relu, {x}, {kF32x2}, {{"alpha", 0.5}});
  EXPECT_THAT(verify_error(module), HasSubstr("op 'relu' (%0): has no attribute 'alpha'"));
}

TEST(VerifierTest, RejectsAttributeOfWrongKind) {
  Module module;
  Function* f = module.add_function("main");
  Value* x = f->add_input("x", kF32x2);
  f->append(OpKind::LeakyRelu, {x}, {kF32x2}, {{"alpha", "steep"}});
  EXPECT_THAT(verify_error(module), HasSubstr("attribute 'alpha' must be float, got string"));
}

TEST(VerifierTest, RejectsMissingRequiredAttribute) {
  Module module;
  Function* f = module.add_function("main");
  Value* x = f->add_input("x", kF32x2);
  f->append(OpKind::Cast, {x}, {{DType::I32, {2}}});
  EXPECT_THAT(verify_error(module), HasSubstr("requires attribute 'to' (type)"));
}

TEST(VerifierTest, RejectsResultTypeThatDisagreesWithShapeRule) {
  Module module;
  Function* f = module.add_function("main");
  Value* x = f->add_input("x", {DType::F32, {Dim::symbol("N"), 4}});
  f->append(OpKind::Relu, {x}, {{DType::F32, {Dim::symbol("M"), 4}}});
  EXPECT_THAT(verify_error(module), HasSubstr("result %0 has type f32[M, 4], but the operands imply f32[N, 4]"));
}

TEST(VerifierTest, RejectsUndefinedOutput) {
  Module module;
  Function* other = module.add_function("other");
  Value* foreign = other->add_input("z", kF32x2);
  Function* f = module.add_function("main");
  f->set_outputs({foreign}, {"y"});
  EXPECT_THAT(verify_error(module), HasSubstr("@main: output 0 ('y') is not defined in the function"));
}

TEST(VerifierTest, RejectsConstReferringToMissingConstant) {
  Module module;
  Function* f = module.add_function("main");
  f->append(OpKind::Const, {}, {kF32x2}, {{"name", "weights"}});
  EXPECT_THAT(verify_error(module), HasSubstr("refers to constant @weights, which the module does not define"));
}

TEST(VerifierTest, RejectsDuplicateFunctionNames) {
  Module module;
  module.add_function("main");
  module.add_function("main");
  EXPECT_THAT(verify_error(module), HasSubstr("function @main is defined twice"));
}

}  // namespace
}  // namespace tessel
