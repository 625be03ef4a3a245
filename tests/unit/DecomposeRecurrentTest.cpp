// The `decompose` pass on lstm / gru / rnn with sequence_lens (and lstm peepholes): the unrolled steps
// update only the rows still inside their length and leave zeros in Y past it, as the interpreter's ops do;
// a reverse direction starts each row at its own last valid step. The results agree with the interpreter
// before and after the pass, forward, reverse and bidirectional, and compiled through the LLVM backend.
#include "codegen/llvm/Jit.h"
#include "passes/PassManager.h"
#include "tests/unit/LowerTestUtil.h"

namespace tessel {
namespace {

using lower_test::expect_close;
using lower_test::random_tensor;

constexpr int64_t kSeq = 3, kBatch = 4, kInput = 2, kHidden = 2;

int64_t gates_of(OpKind kind) { return kind == OpKind::Lstm ? 4 : kind == OpKind::Gru ? 3 : 1; }
int64_t dirs_of(const std::string& direction) { return direction == "bidirectional" ? 2 : 1; }

/// `kind` over seq 3, batch 4, input 2, hidden 2 with every optional operand; `direction` as given.
std::unique_ptr<Module> recurrent_module(OpKind kind, const std::string& direction) {
  int64_t d = dirs_of(direction), gh = gates_of(kind) * kHidden;
  auto m = std::make_unique<Module>();
  Builder b(m->add_function("main"));
  std::vector<Value*> operands{b.input("x", {DType::F32, {kSeq, kBatch, kInput}}),
                               b.input("w", {DType::F32, {d, gh, kInput}}),
                               b.input("r", {DType::F32, {d, gh, kHidden}}),
                               b.input("b", {DType::F32, {d, 2 * gh}}),
                               b.input("lens", {DType::I32, {kBatch}}),
                               b.input("h0", {DType::F32, {d, kBatch, kHidden}})};
  if (kind == OpKind::Lstm) {
    operands.push_back(b.input("c0", {DType::F32, {d, kBatch, kHidden}}));
    operands.push_back(b.input("p", {DType::F32, {d, 3 * kHidden}}));
  }
  int results = kind == OpKind::Lstm ? 3 : 2;
  for (Value* v : b.create(kind, operands, {{"hidden_size", kHidden}, {"direction", direction}}, results)) b.output(v);
  EXPECT_TRUE(b.status().ok()) << b.status().error().str();
  return m;
}

/// Inputs in operand order; lengths 0 (the initial state passes through), 1, 3 (all steps) and 2.
std::vector<Tensor> recurrent_inputs(OpKind kind, const std::string& direction) {
  int64_t d = dirs_of(direction), gh = gates_of(kind) * kHidden;
  std::vector<Tensor> inputs{
      random_tensor(DType::F32, {kSeq, kBatch, kInput}, 1), random_tensor(DType::F32, {d, gh, kInput}, 2),
      random_tensor(DType::F32, {d, gh, kHidden}, 3),       random_tensor(DType::F32, {d, 2 * gh}, 4),
      Tensor::of<int32_t>({kBatch}, {0, 1, 3, 2}),          random_tensor(DType::F32, {d, kBatch, kHidden}, 5)};
  if (kind == OpKind::Lstm) {
    inputs.push_back(random_tensor(DType::F32, {d, kBatch, kHidden}, 6));
    inputs.push_back(random_tensor(DType::F32, {d, 3 * kHidden}, 7));
  }
  return inputs;
}

int count_recurrent(const Module& m) {
  int count = 0;
  for (const Op* op : m.entry()->ops())
    count += op->kind() == OpKind::Lstm || op->kind() == OpKind::Gru || op->kind() == OpKind::Rnn;
  return count;
}

/// Decomposes the op and checks that the interpreter computes the same before and after.
void expect_decomposes_exactly(OpKind kind, const std::string& direction) {
  SCOPED_TRACE(std::string(op_info(kind).name) + " " + direction);
  std::vector<Tensor> inputs = recurrent_inputs(kind, direction);
  auto want = interpret(*recurrent_module(kind, direction)->entry(), inputs);
  ASSERT_TRUE(want.ok()) << want.error().str();
  auto m = recurrent_module(kind, direction);
  PassContext context;
  context.options.verify_each = true;
  PassManager manager(context);
  manager.add("decompose");
  auto changed = manager.run(*m);
  ASSERT_TRUE(changed.ok()) << changed.error().str();
  EXPECT_EQ(count_recurrent(*m), 0);
  auto got = interpret(*m->entry(), inputs);
  ASSERT_TRUE(got.ok()) << got.error().str();
  ASSERT_EQ(got->size(), want->size());
  for (size_t i = 0; i < got->size(); ++i)
    expect_close((*got)[i], (*want)[i], "decomposed output " + std::to_string(i));
}

/// Y[t, d, b, h] of a [seq, D, batch, hidden] tensor.
double y_at(const Tensor& y, int64_t dirs, int64_t t, int64_t d, int64_t b, int64_t h) {
  return y.get_double(((t * dirs + d) * kBatch + b) * kHidden + h);
}

TEST(DecomposeRecurrent, LstmWithSequenceLengthsAndPeepholesUnrolls) {
  std::vector<Tensor> inputs = recurrent_inputs(OpKind::Lstm, "forward");
  auto want = interpret(*recurrent_module(OpKind::Lstm, "forward")->entry(), inputs);
  ASSERT_TRUE(want.ok()) << want.error().str();
  // Y past each row's length is zero: row 0 (length 0) everywhere, row 1 from step 1 on.
  for (int64_t t = 0; t < kSeq; ++t)
    for (int64_t h = 0; h < kHidden; ++h) EXPECT_EQ(y_at((*want)[0], 1, t, 0, 0, h), 0.0);
  EXPECT_EQ(y_at((*want)[0], 1, 1, 0, 1, 0), 0.0);
  expect_decomposes_exactly(OpKind::Lstm, "forward");

  jit::CompileOptions options;
  options.verify_each = true;
  auto executable = jit::compile(recurrent_module(OpKind::Lstm, "forward"), options);
  ASSERT_TRUE(executable.ok()) << executable.error().str();
  auto compiled = (*executable)->run(inputs);
  ASSERT_TRUE(compiled.ok()) << compiled.error().str();
  for (size_t i = 0; i < 3; ++i) expect_close((*compiled)[i], (*want)[i], "compiled output " + std::to_string(i));
}

TEST(DecomposeRecurrent, ReverseStartsEachRowAtItsOwnLastStep) {
  std::vector<Tensor> inputs = recurrent_inputs(OpKind::Lstm, "reverse");
  auto want = interpret(*recurrent_module(OpKind::Lstm, "reverse")->entry(), inputs);
  ASSERT_TRUE(want.ok()) << want.error().str();
  // Row 3 (length 2) is zero at step 2 and valid at steps 1 and 0; Y_h of row 3 is its Y at step 0 (the
  // state after the reverse pass's last step), and Y_h of row 0 (length 0) is initial_h.
  EXPECT_EQ(y_at((*want)[0], 1, 2, 0, 3, 0), 0.0);
  EXPECT_NE(y_at((*want)[0], 1, 1, 0, 3, 0), 0.0);
  EXPECT_EQ((*want)[1].get_double(3 * kHidden), y_at((*want)[0], 1, 0, 0, 3, 0));
  EXPECT_EQ((*want)[1].get_double(0), inputs[5].get_double(0));
  expect_decomposes_exactly(OpKind::Lstm, "reverse");
}

TEST(DecomposeRecurrent, EveryKindAndDirectionWithSequenceLengthsMatchesTheInterpreter) {
  for (OpKind kind : {OpKind::Lstm, OpKind::Gru, OpKind::Rnn})
    for (const char* direction : {"forward", "reverse", "bidirectional"}) expect_decomposes_exactly(kind, direction);
}

TEST(DecomposeRecurrent, BidirectionalLstmWithSequenceLengthsCompiles) {
  std::vector<Tensor> inputs = recurrent_inputs(OpKind::Lstm, "bidirectional");
  auto want = interpret(*recurrent_module(OpKind::Lstm, "bidirectional")->entry(), inputs);
  ASSERT_TRUE(want.ok()) << want.error().str();
  jit::CompileOptions options;
  options.verify_each = true;
  auto executable = jit::compile(recurrent_module(OpKind::Lstm, "bidirectional"), options);
  ASSERT_TRUE(executable.ok()) << executable.error().str();
  auto compiled = (*executable)->run(inputs);
  ASSERT_TRUE(compiled.ok()) << compiled.error().str();
  for (size_t i = 0; i < 3; ++i) expect_close((*compiled)[i], (*want)[i], "compiled output " + std::to_string(i));
}

}  // namespace
}  // namespace tessel
