// The pass manager (passes/PassManager.h) and the graph passes' C++ contracts: the table and the
// pipelines, unknown names, verify-each naming the pass that broke the IR, stop-after, printing,
// timing; infer-shapes propagation and conflicts; the fold-constants size budget.
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ir/Builder.h"
#include "ir/Verifier.h"
#include "ir/interp/Interpreter.h"
#include "passes/PassManager.h"
#include "passes/Passes.h"

namespace tessel {
namespace {

using ::testing::HasSubstr;

/// @main(x: f32[N, 4]) = add(exp(x), exp(x)) plus an unused neg(x).
std::unique_ptr<Module> small_module() {
  auto module = std::make_unique<Module>();
  Builder b(module->add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 4}});
  Value* y = b.add(b.exp(x), b.exp(x));
  b.op(OpKind::Neg, {x});
  b.output(y, "y");
  EXPECT_TRUE(b.status().ok());
  return module;
}

TEST(PassManagerTest, EveryPipelineNamesOnlyTablePasses) {
  for (int level = 0; level <= 3; ++level) {
    auto names = build_pipeline(level);
    ASSERT_TRUE(names.ok());
    for (const std::string& name : *names) EXPECT_NE(find_pass(name), nullptr) << "-O" << level << ": " << name;
    PassContext context;
    PassManager pm(context);
    pm.add_pipeline(level);
    EXPECT_TRUE(pm.status().ok());
    EXPECT_EQ(pm.pass_names(), *names);
  }
  EXPECT_TRUE(build_pipeline(0)->empty());
  EXPECT_THAT(build_pipeline(4).error().message, HasSubstr("unknown optimization level -O4"));
}

TEST(PassManagerTest, UnknownPassListsTheKnownOnes) {
  PassContext context;
  PassManager pm(context);
  pm.add("cse").add("no-such-pass");
  auto module = small_module();
  auto result = pm.run(*module);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message,
              HasSubstr("unknown pass 'no-such-pass'; known passes: block-activations, canonicalize, "));
}

TEST(PassManagerTest, CseAndDceChangeTheModuleAndReportIt) {
  PassContext context;
  PassManager pm(context);
  pm.add_list("cse,dce");
  auto module = small_module();
  EXPECT_EQ(module->entry()->num_ops(), 4u);
  auto changed = pm.run(*module);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_EQ(module->entry()->num_ops(), 2u);  // exp, add
  auto again = pm.run(*module);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

Expected<bool> break_ir(Module& module, PassContext&) {
  // A relu whose declared type contradicts its shape rule: f32[7] for an f32[N, 4] operand.
  Function* main = module.entry();
  main->append(OpKind::Relu, {main->inputs()[0]}, {{DType::F32, {Dim(7)}}});
  return true;
}

TEST(PassManagerTest, VerifyEachNamesTheBrokenPass) {
  PassContext context;
  context.options.verify_each = true;
  PassManager pm(context);
  pm.add("cse").add(PassInfo{"break-ir", "test pass", &break_ir}).add("dce");
  auto module = small_module();
  auto result = pm.run(*module);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("pass 'break-ir' produced invalid IR"));
  EXPECT_THAT(result.error().message, HasSubstr("op 'relu'"));
}

Expected<bool> failing_pass(Module&, PassContext&) { return make_error("cannot do this"); }

TEST(PassManagerTest, PassErrorsNameThePass) {
  PassContext context;
  PassManager pm(context);
  pm.add(PassInfo{"fails", "test pass", &failing_pass});
  auto module = small_module();
  auto result = pm.run(*module);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "pass 'fails' failed: cannot do this");
}

TEST(PassManagerTest, StopAfterPrintingAndTiming) {
  PassContext context;
  std::ostringstream dumps;
  PassInstrumentation inst;
  inst.print_after_all = true;
  inst.print_before = {"cse"};
  inst.stop_after = "cse";
  inst.time_passes = true;
  inst.ir_out = &dumps;
  PassManager pm(context, inst);
  pm.add_list("infer-shapes,cse,dce");
  auto module = small_module();
  auto result = pm.run(*module);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(module->entry()->num_ops(), 3u);  // dce did not run: neg(x) is still there
  std::string text = dumps.str();
  EXPECT_THAT(text, HasSubstr("// -----// IR Dump After infer-shapes //----- //\n"));
  EXPECT_THAT(text, HasSubstr("// -----// IR Dump Before cse //----- //\n"));
  EXPECT_THAT(text, HasSubstr("// -----// IR Dump After cse //----- //\n"));
  EXPECT_EQ(text.find("dce"), std::string::npos);
  ASSERT_EQ(pm.timings().size(), 2u);
  EXPECT_EQ(pm.timings()[0].name, "infer-shapes");
  EXPECT_EQ(pm.timings()[1].runs, 1);
  std::ostringstream table;
  pm.print_timings(table);
  EXPECT_THAT(table.str(), HasSubstr("pass"));
  EXPECT_THAT(table.str(), HasSubstr("total"));
}

TEST(PassManagerTest, StopAfterAPassNotInThePipelineIsAnError) {
  PassContext context;
  PassInstrumentation inst;
  inst.stop_after = "dce";
  PassManager pm(context, inst);
  pm.add("cse");
  EXPECT_THAT(pm.status().error().message, HasSubstr("--stop-after: pass 'dce' is not in the pipeline (cse)"));
}

TEST(PassManagerTest, InferShapesPropagatesANewInputType) {
  auto module = small_module();
  Function* main = module->entry();
  main->inputs()[0]->set_type({DType::F32, {Dim(3), Dim(4)}});  // bind N = 3
  PassContext context;
  auto changed = infer_shapes(*module, context);
  ASSERT_TRUE(changed.ok()) << changed.error().str();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(main->outputs()[0]->type().str(), "f32[3, 4]");
  EXPECT_TRUE(verify(*module).ok());
}

TEST(PassManagerTest, InferShapesRefinesFreeSymbolsAndRejectsConflicts) {
  Module module;
  Function* main = module.add_function("main");
  Value* x = main->add_input("x", {DType::F32, {Dim(2), Dim(3)}});
  Op* a = main->append(OpKind::Exp, {x}, {{DType::F32, {Dim::symbol("unknown"), Dim(3)}}});
  Op* b = main->append(OpKind::Neg, {a->result()}, {{DType::F32, {Dim(2), Dim(3)}}});
  main->set_outputs({b->result()}, {"y"});
  PassContext context;
  auto changed = infer_shapes(module, context);
  ASSERT_TRUE(changed.ok()) << changed.error().str();
  EXPECT_EQ(a->result()->type().str(), "f32[2, 3]");

  // A constant dim that the rule contradicts is a conflict, not a refinement.
  Op* c = main->append(OpKind::Relu, {b->result()}, {{DType::F32, {Dim(5), Dim(3)}}});
  main->set_outputs({c->result()}, {"y"});
  auto conflict = infer_shapes(module, context);
  ASSERT_FALSE(conflict.ok());
  EXPECT_THAT(conflict.error().str(), HasSubstr("declared type f32[5, 3] conflicts with the inferred f32[2, 3]"));
  EXPECT_THAT(conflict.error().str(), HasSubstr("op 'relu'"));
}

TEST(PassManagerTest, FoldConstantsRespectsTheSizeBudget) {
  Module module;
  Builder b(module.add_function("main"));
  Value* one = b.constant(Tensor::of<float>({}, {1.0f}), "one");
  Value* big = b.op(OpKind::Expand, {one}, {{"shape", Shape{256, 256}}});                     // 256 KiB
  Value* small = b.op(OpKind::Add, {one, b.constant(Tensor::of<float>({}, {2.0f}), "two")});  // 4 bytes
  b.output(big, "big");
  b.output(small, "small");
  ASSERT_TRUE(b.status().ok());
  PassContext context;
  context.options.fold_max_bytes = 1024;
  auto changed = fold_constants(module, context);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  const Function& main = *module.entry();
  EXPECT_EQ(main.outputs()[0]->producer()->kind(), OpKind::Expand);  // over budget: kept
  ASSERT_EQ(main.outputs()[1]->producer()->kind(), OpKind::Const);
  const Tensor* folded = module.constant(main.outputs()[1]->producer()->attr().s("name"));
  ASSERT_NE(folded, nullptr);
  EXPECT_EQ(folded->get_double(0), 3.0);  // 1 + 2
  EXPECT_TRUE(verify(module).ok());
}

}  // namespace
}  // namespace tessel
