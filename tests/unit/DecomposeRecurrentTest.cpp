// The `decompose` pass on lstm with sequence_lens (and peepholes): the unrolled steps update only the rows
// still inside their length and leave zeros in Y past it, as the interpreter's lstm does; the result agrees
// with the interpreter before and after the pass and compiled through the LLVM backend. A reverse
// direction with sequence_lens is kept as an lstm (its rows would start at different steps).
#include "codegen/llvm/Jit.h"
#include "passes/PassManager.h"
#include "tests/unit/LowerTestUtil.h"

namespace tessel {
namespace {

using lower_test::expect_close;
using lower_test::random_tensor;

/// lstm over seq 3, batch 4, input 2, hidden 2 with every optional operand; `direction` as given.
std::unique_ptr<Module> lstm_module(const std::string& direction) {
  auto m = std::make_unique<Module>();
  Builder b(m->add_function("main"));
  Value* x = b.input("x", {DType::F32, {3, 4, 2}});
  Value* w = b.input("w", {DType::F32, {1, 8, 2}});
  Value* r = b.input("r", {DType::F32, {1, 8, 2}});
  Value* bias = b.input("b", {DType::F32, {1, 16}});
  Value* lens = b.input("lens", {DType::I32, {4}});
  Value* h0 = b.input("h0", {DType::F32, {1, 4, 2}});
  Value* c0 = b.input("c0", {DType::F32, {1, 4, 2}});
  Value* p = b.input("p", {DType::F32, {1, 6}});
  auto results = b.create(OpKind::Lstm, {x, w, r, bias, lens, h0, c0, p},
                          {{"hidden_size", int64_t{2}}, {"direction", direction}}, 3);
  for (Value* v : results) b.output(v);
  EXPECT_TRUE(b.status().ok()) << b.status().error().str();
  return m;
}

std::vector<Tensor> lstm_inputs() {
  // Lengths 0 (the initial state passes through), 1, 3 (all steps) and 2.
  return {random_tensor(DType::F32, {3, 4, 2}, 1), random_tensor(DType::F32, {1, 8, 2}, 2),
          random_tensor(DType::F32, {1, 8, 2}, 3), random_tensor(DType::F32, {1, 16}, 4),
          Tensor::of<int32_t>({4}, {0, 1, 3, 2}),  random_tensor(DType::F32, {1, 4, 2}, 5),
          random_tensor(DType::F32, {1, 4, 2}, 6), random_tensor(DType::F32, {1, 6}, 7)};
}

int count_lstm(const Module& m) {
  int count = 0;
  for (const Op* op : m.entry()->ops()) count += op->kind() == OpKind::Lstm;
  return count;
}

TEST(DecomposeRecurrent, LstmWithSequenceLengthsAndPeepholesUnrolls) {
  std::vector<Tensor> inputs = lstm_inputs();
  auto reference = lstm_module("forward");
  auto want = interpret(*reference->entry(), inputs);
  ASSERT_TRUE(want.ok()) << want.error().str();
  // Y past each row's length is zero: row 0 (length 0) everywhere, row 1 from step 1 on.
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t h = 0; h < 2; ++h) EXPECT_EQ((*want)[0].get_double((t * 4 + 0) * 2 + h), 0.0);
  EXPECT_EQ((*want)[0].get_double((1 * 4 + 1) * 2), 0.0);

  auto m = lstm_module("forward");
  PassContext context;
  context.options.verify_each = true;
  PassManager manager(context);
  manager.add("decompose");
  auto changed = manager.run(*m);
  ASSERT_TRUE(changed.ok()) << changed.error().str();
  EXPECT_EQ(count_lstm(*m), 0);
  auto got = interpret(*m->entry(), inputs);
  ASSERT_TRUE(got.ok()) << got.error().str();
  for (size_t i = 0; i < 3; ++i) expect_close((*got)[i], (*want)[i], "decomposed output " + std::to_string(i));

  jit::CompileOptions options;
  options.verify_each = true;
  auto executable = jit::compile(lstm_module("forward"), options);
  ASSERT_TRUE(executable.ok()) << executable.error().str();
  auto compiled = (*executable)->run(inputs);
  ASSERT_TRUE(compiled.ok()) << compiled.error().str();
  for (size_t i = 0; i < 3; ++i) expect_close((*compiled)[i], (*want)[i], "compiled output " + std::to_string(i));
}

TEST(DecomposeRecurrent, ReverseWithSequenceLengthsStaysAnLstm) {
  auto m = lstm_module("reverse");
  PassContext context;
  PassManager manager(context);
  manager.add("decompose");
  auto changed = manager.run(*m);
  ASSERT_TRUE(changed.ok()) << changed.error().str();
  EXPECT_EQ(count_lstm(*m), 1);
}

}  // namespace
}  // namespace tessel
