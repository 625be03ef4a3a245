// Interpreter tests for the recurrent family (lstm, gru, rnn): tiny hand-traceable cells (hidden size 1,
// weights chosen so each gate's pre-activation is a known number), directions, sequence_lens, layout,
// clip, peepholes, every activation, dtypes, symbolic shape rules, errors, and two ONNX node-test cases
// (test_lstm_with_peepholes, test_gru_batchwise) with their numbers written inline.
#include <cmath>
#include <functional>

#include <gmock/gmock.h>

#include "InterpTestUtil.h"

namespace tessel {
namespace {

using namespace tessel::testing;
using ::testing::HasSubstr;

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

Tensor F(std::vector<int64_t> shape, std::vector<double> values) { return T(DType::F32, std::move(shape), values); }

Tensor filled(std::vector<int64_t> shape, double value) {
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  return F(shape, std::vector<double>(static_cast<size_t>(count), value));
}

AttrMap hidden(int64_t size, AttrMap extra = {}) {
  extra.emplace("hidden_size", size);
  return extra;
}

std::vector<Tensor> run_ok(OpKind kind, std::vector<Operand> operands, AttrMap attrs, int num_results) {
  auto results = run_op(kind, std::move(operands), std::move(attrs), num_results);
  EXPECT_TRUE(results.ok()) << (results.ok() ? "" : results.error().str());
  if (!results.ok()) return std::vector<Tensor>(static_cast<size_t>(num_results));
  return *results;
}

std::string error_of(OpKind kind, std::vector<Operand> operands, AttrMap attrs, int num_results = 1) {
  auto results = run_op(kind, std::move(operands), std::move(attrs), num_results);
  return results.ok() ? "(no error)" : results.error().str();
}

// ---- rnn ------------------------------------------------------------------------------------------

// W = R = 1, hidden 1, x = [0.5, 0.25]: h1 = tanh(0.5), h2 = tanh(0.25 + h1).
TEST(InterpRecurrent, RnnForward) {
  auto r = run_ok(OpKind::Rnn, {F({2, 1, 1}, {0.5, 0.25}), F({1, 1, 1}, {1}), F({1, 1, 1}, {1})}, hidden(1), 2);
  double h1 = std::tanh(0.5), h2 = std::tanh(0.25 + h1);
  expect_tensor(r[0], DType::F32, {2, 1, 1, 1}, {h1, h2}, 1e-5);
  expect_tensor(r[1], DType::F32, {1, 1, 1}, {h2}, 1e-5);
}

// h = tanh(W x + R h0 + Wb + Rb) = tanh(2*1 + 0.5*0.4 + 0.1 + 0.2) = tanh(2.5).
TEST(InterpRecurrent, RnnBiasAndInitialState) {
  Tensor y = run1(OpKind::Rnn,
                  {F({1, 1, 1}, {1}), F({1, 1, 1}, {2}), F({1, 1, 1}, {0.5}), F({1, 2}, {0.1, 0.2}), std::nullopt,
                   F({1, 1, 1}, {0.4})},
                  hidden(1));
  expect_tensor(y, DType::F32, {1, 1, 1, 1}, {std::tanh(2.5)}, 1e-5);
}

// Reverse runs t = 1 first: h(1) = tanh(0.25), h(0) = tanh(0.5 + h(1)); Y stays in time order, Y_h = h(0).
TEST(InterpRecurrent, RnnReverse) {
  auto r = run_ok(OpKind::Rnn, {F({2, 1, 1}, {0.5, 0.25}), F({1, 1, 1}, {1}), F({1, 1, 1}, {1})},
                  hidden(1, {{"direction", "reverse"}}), 2);
  double h1 = std::tanh(0.25), h0 = std::tanh(0.5 + h1);
  expect_tensor(r[0], DType::F32, {2, 1, 1, 1}, {h0, h1}, 1e-5);
  expect_tensor(r[1], DType::F32, {1, 1, 1}, {h0}, 1e-5);
}

// Forward W = R = 1; backward W = 2, R = 0.5: b(1) = tanh(2*0.25), b(0) = tanh(2*0.5 + 0.5*b(1)).
TEST(InterpRecurrent, RnnBidirectional) {
  auto r = run_ok(OpKind::Rnn, {F({2, 1, 1}, {0.5, 0.25}), F({2, 1, 1}, {1, 2}), F({2, 1, 1}, {1, 0.5})},
                  hidden(1, {{"direction", "bidirectional"}}), 2);
  double f1 = std::tanh(0.5), f2 = std::tanh(0.25 + f1);
  double b1 = std::tanh(0.5), b0 = std::tanh(1.0 + 0.5 * b1);
  expect_tensor(r[0], DType::F32, {2, 2, 1, 1}, {f1, b0, f2, b1}, 1e-5);  // [seq, dirs, batch, hidden]
  expect_tensor(r[1], DType::F32, {2, 1, 1}, {f2, b0}, 1e-5);
}

// Row 0 has length 3, row 1 length 1 (its later inputs, 9, must be ignored). The backward direction of
// row 1 starts at its own last valid step t = 0; Y beyond a row's length is 0.
TEST(InterpRecurrent, RnnSequenceLensBidirectional) {
  Tensor x = F({3, 2, 1}, {0.1, 0.4, 0.2, 9, 0.3, 9});
  auto r = run_ok(OpKind::Rnn,
                  {x, F({2, 1, 1}, {1, 2}), F({2, 1, 1}, {1, 0.5}), std::nullopt, Tensor::of<int32_t>({2}, {3, 1})},
                  hidden(1, {{"direction", "bidirectional"}}), 2);
  double f1 = std::tanh(0.1), f2 = std::tanh(0.2 + f1), f3 = std::tanh(0.3 + f2);
  double g3 = std::tanh(0.6), g2 = std::tanh(0.4 + 0.5 * g3), g1 = std::tanh(0.2 + 0.5 * g2);
  double k = std::tanh(0.4), kb = std::tanh(0.8);
  expect_tensor(r[0], DType::F32, {3, 2, 2, 1}, {f1, k, g1, kb, f2, 0, g2, 0, f3, 0, g3, 0}, 1e-5);
  expect_tensor(r[1], DType::F32, {2, 2, 1}, {f3, k, g1, kb}, 1e-5);
}

// A row of length 0 runs no step: Y is all zeros and Y_h is the initial state.
TEST(InterpRecurrent, RnnZeroLengthRowKeepsInitialState) {
  auto r = run_ok(OpKind::Rnn,
                  {F({2, 1, 1}, {1, 1}), F({1, 1, 1}, {1}), F({1, 1, 1}, {1}), std::nullopt,
                   Tensor::of<int64_t>({1}, {0}), F({1, 1, 1}, {0.7})},
                  hidden(1), 2);
  expect_tensor(r[0], DType::F32, {2, 1, 1, 1}, {0, 0});
  expect_tensor(r[1], DType::F32, {1, 1, 1}, {0.7});
}

// layout 1: X [batch, seq, input], initial_h / Y_h [batch, dirs, hidden], Y [batch, seq, dirs, hidden].
// Row 1 starts from h0 = 0.5: k1 = tanh(1 + 0.5), k2 = tanh(-1 + k1).
TEST(InterpRecurrent, RnnLayoutBatchFirst) {
  auto r = run_ok(OpKind::Rnn,
                  {F({2, 2, 1}, {0.5, 0.25, 1, -1}), F({1, 1, 1}, {1}), F({1, 1, 1}, {1}), std::nullopt, std::nullopt,
                   F({2, 1, 1}, {0, 0.5})},
                  hidden(1, {{"layout", 1}}), 2);
  double h1 = std::tanh(0.5), h2 = std::tanh(0.25 + h1), k1 = std::tanh(1.5), k2 = std::tanh(-1 + k1);
  expect_tensor(r[0], DType::F32, {2, 2, 1, 1}, {h1, h2, k1, k2}, 1e-5);
  expect_tensor(r[1], DType::F32, {2, 1, 1}, {h2, k2}, 1e-5);
}

// Every supported activation, on one step with W = 1, R = 0 so that Y = act(x).
TEST(InterpRecurrent, RnnEveryActivation) {
  struct Case {
    std::string name;
    std::vector<double> alpha, beta;
    std::function<double(double)> fn;
  };
  std::vector<Case> cases = {
      {"Relu", {}, {}, [](double x) { return std::max(0.0, x); }},
      {"tanh", {}, {}, [](double x) { return std::tanh(x); }},  // names match case-insensitively
      {"Sigmoid", {}, {}, sigmoid},
      {"Affine", {2}, {0.5}, [](double x) { return 2 * x + 0.5; }},
      {"Affine", {}, {}, [](double x) { return x; }},  // defaults alpha 1, beta 0
      {"LeakyRelu", {0.1}, {}, [](double x) { return x < 0 ? 0.1 * x : x; }},
      {"LeakyRelu", {}, {}, [](double x) { return x < 0 ? 0.01 * x : x; }},
      {"ThresholdedRelu", {0.4}, {}, [](double x) { return x > 0.4 ? x : 0; }},
      {"ThresholdedRelu", {}, {}, [](double x) { return x > 1 ? x : 0; }},
      {"ScaledTanh", {2}, {0.5}, [](double x) { return 2 * std::tanh(0.5 * x); }},
      {"HardSigmoid", {0.25}, {0.5}, [](double x) { return std::clamp(0.25 * x + 0.5, 0.0, 1.0); }},
      {"HardSigmoid", {}, {}, [](double x) { return std::clamp(0.2 * x + 0.5, 0.0, 1.0); }},
      {"Elu", {0.5}, {}, [](double x) { return x < 0 ? 0.5 * (std::exp(x) - 1) : x; }},
      {"Softsign", {}, {}, [](double x) { return x / (1 + std::abs(x)); }},
      {"Softplus", {}, {}, [](double x) { return std::log(1 + std::exp(x)); }},
  };
  std::vector<double> xs = {-2, -0.5, 0, 0.5, 3};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    AttrMap attrs = hidden(1, {{"activations", std::vector<std::string>{c.name}}});
    if (!c.alpha.empty()) attrs.emplace("activation_alpha", c.alpha);
    if (!c.beta.empty()) attrs.emplace("activation_beta", c.beta);
    Tensor y = run1(OpKind::Rnn, {F({1, 5, 1}, xs), F({1, 1, 1}, {1}), F({1, 1, 1}, {0})}, attrs);
    std::vector<double> expected;
    for (double x : xs) expected.push_back(c.fn(x));
    expect_tensor(y, DType::F32, {1, 1, 5, 1}, expected, 1e-5);
  }
}

// alpha / beta are consumed in order by the activations that read them: LeakyRelu takes alpha 0.5,
// Affine (backward direction) alpha 3 and beta 1. x = -1: forward -0.5, backward 3*-1 + 1 = -2.
TEST(InterpRecurrent, RnnPerDirectionActivationParameters) {
  AttrMap attrs = hidden(1, {{"direction", "bidirectional"},
                             {"activations", std::vector<std::string>{"LeakyRelu", "Affine"}},
                             {"activation_alpha", std::vector<double>{0.5, 3}},
                             {"activation_beta", std::vector<double>{1}}});
  Tensor y = run1(OpKind::Rnn, {F({1, 1, 1}, {-1}), F({2, 1, 1}, {1, 1}), F({2, 1, 1}, {0, 0})}, attrs);
  expect_tensor(y, DType::F32, {1, 2, 1, 1}, {-0.5, -2});
}

// clip bounds pre-activations to [-0.5, 0.5]; Affine (identity) shows them directly.
TEST(InterpRecurrent, RnnClip) {
  AttrMap attrs = hidden(1, {{"clip", 0.5}, {"activations", std::vector<std::string>{"Affine"}}});
  Tensor y = run1(OpKind::Rnn, {F({1, 3, 1}, {2, -3, 0.2}), F({1, 1, 1}, {1}), F({1, 1, 1}, {0})}, attrs);
  expect_tensor(y, DType::F32, {1, 1, 3, 1}, {0.5, -0.5, 0.2});
}

// The RnnForward case in every float dtype (f16 / bf16 compute in float and round once).
TEST(InterpRecurrent, RnnDtypes) {
  double h1 = std::tanh(0.5), h2 = std::tanh(0.25 + h1);
  for (auto [dtype, tolerance] : {std::pair{DType::F64, 1e-12}, {DType::F16, 2e-3}, {DType::BF16, 1e-2}}) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor y = run1(OpKind::Rnn, {T(dtype, {2, 1, 1}, {0.5, 0.25}), T(dtype, {1, 1, 1}, {1}), T(dtype, {1, 1, 1}, {1})},
                    hidden(1));
    expect_tensor(y, dtype, {2, 1, 1, 1}, {h1, h2}, tolerance);
  }
}

TEST(InterpRecurrent, RnnZeroSizeDims) {
  // seq = 0: Y is empty, Y_h is the initial state.
  auto r =
      run_ok(OpKind::Rnn,
             {F({0, 1, 1}, {}), F({1, 1, 1}, {1}), F({1, 1, 1}, {1}), std::nullopt, std::nullopt, F({1, 1, 1}, {0.7})},
             hidden(1), 2);
  expect_tensor(r[0], DType::F32, {0, 1, 1, 1}, {});
  expect_tensor(r[1], DType::F32, {1, 1, 1}, {0.7});
  // batch = 0.
  r = run_ok(OpKind::Rnn, {F({2, 0, 1}, {}), F({1, 1, 1}, {1}), F({1, 1, 1}, {1})}, hidden(1), 2);
  expect_tensor(r[0], DType::F32, {2, 1, 0, 1}, {});
  expect_tensor(r[1], DType::F32, {1, 0, 1}, {});
}

// ---- gru ------------------------------------------------------------------------------------------

// Gate order z, r, h. W = [1, 0, 3], R = [0, 2, 1], h0 = 0.5, x = 0.5:
// z = sigmoid(0.5), r = sigmoid(2*0.5), n = tanh(3*0.5 + 1*(r*0.5)), h = (1 - z) n + z*0.5.
TEST(InterpRecurrentGru, GateOrder) {
  auto r = run_ok(OpKind::Gru,
                  {F({1, 1, 1}, {0.5}), F({1, 3, 1}, {1, 0, 3}), F({1, 3, 1}, {0, 2, 1}), std::nullopt, std::nullopt,
                   F({1, 1, 1}, {0.5})},
                  hidden(1), 2);
  double z = sigmoid(0.5), reset = sigmoid(1), n = std::tanh(1.5 + reset * 0.5), h = (1 - z) * n + z * 0.5;
  expect_tensor(r[0], DType::F32, {1, 1, 1, 1}, {h}, 1e-5);
  expect_tensor(r[1], DType::F32, {1, 1, 1}, {h}, 1e-5);
}

// W = [0, 0, 1], R = [0, 0, 1], Rbh = 0.4, h0 = 0.5, x = 1, so z = r = sigmoid(0) = 0.5.
// linear_before_reset 0: n = tanh(1 + 1*(0.5*0.5) + 0.4) = tanh(1.65)
// linear_before_reset 1: n = tanh(1 + 0.5*(1*0.5 + 0.4)) = tanh(1.45); h = 0.5 n + 0.25.
TEST(InterpRecurrentGru, LinearBeforeReset) {
  std::vector<Operand> operands = {
      F({1, 1, 1}, {1}), F({1, 3, 1}, {0, 0, 1}), F({1, 3, 1}, {0, 0, 1}), F({1, 6}, {0, 0, 0, 0, 0, 0.4}),
      std::nullopt,      F({1, 1, 1}, {0.5})};
  Tensor y0 = run1(OpKind::Gru, operands, hidden(1));
  expect_tensor(y0, DType::F32, {1, 1, 1, 1}, {0.5 * std::tanh(1.65) + 0.25}, 1e-5);
  Tensor y1 = run1(OpKind::Gru, operands, hidden(1, {{"linear_before_reset", 1}}));
  expect_tensor(y1, DType::F32, {1, 1, 1, 1}, {0.5 * std::tanh(1.45) + 0.25}, 1e-5);
}

// Reverse and clip: two steps, W = [0, 0, 1], R = 0, x = [0.5, 2], clip 1 => n = tanh(min(x, 1)), z = 0.5.
// Reverse: t = 1 first: h = 0.5 tanh(1); then t = 0: h' = 0.5 tanh(0.5) + 0.5 h.
TEST(InterpRecurrentGru, ReverseWithClip) {
  auto r = run_ok(OpKind::Gru, {F({2, 1, 1}, {0.5, 2}), F({1, 3, 1}, {0, 0, 1}), F({1, 3, 1}, {0, 0, 0})},
                  hidden(1, {{"direction", "reverse"}, {"clip", 1.0}}), 2);
  double h1 = 0.5 * std::tanh(1.0), h0 = 0.5 * std::tanh(0.5) + 0.5 * h1;
  expect_tensor(r[0], DType::F32, {2, 1, 1, 1}, {h0, h1}, 1e-5);
  expect_tensor(r[1], DType::F32, {1, 1, 1}, {h0}, 1e-5);
}

// ONNX node test test_gru_batchwise: layout 1, hidden 6, X [3, 1, 2], W = R = 0.2 everywhere.
TEST(InterpRecurrentGru, OnnxNodeTestBatchwise) {
  auto r = run_ok(OpKind::Gru, {F({3, 1, 2}, {1, 2, 3, 4, 5, 6}), filled({1, 18, 2}, 0.2), filled({1, 18, 6}, 0.2)},
                  hidden(6, {{"layout", 1}}), 2);
  std::vector<double> y;
  for (double v : {0.19030014, 0.1751368, 0.09733085}) y.insert(y.end(), 6, v);
  expect_tensor(r[0], DType::F32, {3, 1, 1, 6}, y, 1e-6);
  expect_tensor(r[1], DType::F32, {3, 1, 6}, y, 1e-6);
}

// ---- lstm -----------------------------------------------------------------------------------------

// Gate order i, o, f, c. W = [1, 2, 3, 4], R = 0, x = 0.5, c0 = 1:
// i = sigmoid(0.5), o = sigmoid(1), f = sigmoid(1.5), g = tanh(2); C = f*1 + i*g, H = o tanh(C).
TEST(InterpRecurrentLstm, GateOrder) {
  auto r = run_ok(OpKind::Lstm,
                  {F({1, 1, 1}, {0.5}), F({1, 4, 1}, {1, 2, 3, 4}), F({1, 4, 1}, {0, 0, 0, 0}), std::nullopt,
                   std::nullopt, std::nullopt, F({1, 1, 1}, {1})},
                  hidden(1), 3);
  double c = sigmoid(1.5) + sigmoid(0.5) * std::tanh(2), h = sigmoid(1) * std::tanh(c);
  expect_tensor(r[0], DType::F32, {1, 1, 1, 1}, {h}, 1e-5);
  expect_tensor(r[1], DType::F32, {1, 1, 1}, {h}, 1e-5);
  expect_tensor(r[2], DType::F32, {1, 1, 1}, {c}, 1e-5);
}

// Peepholes P = [pi, po, pf] = [0.5, -0.5, 0.25] with the GateOrder numbers: i = sigmoid(0.5 + 0.5*1),
// f = sigmoid(1.5 + 0.25*1), C = f + i tanh(2), o = sigmoid(1 - 0.5*C) (the new cell), H = o tanh(C).
TEST(InterpRecurrentLstm, Peepholes) {
  auto r = run_ok(OpKind::Lstm,
                  {F({1, 1, 1}, {0.5}), F({1, 4, 1}, {1, 2, 3, 4}), F({1, 4, 1}, {0, 0, 0, 0}), std::nullopt,
                   std::nullopt, std::nullopt, F({1, 1, 1}, {1}), F({1, 3}, {0.5, -0.5, 0.25})},
                  hidden(1), 3);
  double c = sigmoid(1.75) + sigmoid(1) * std::tanh(2), h = sigmoid(1 - 0.5 * c) * std::tanh(c);
  expect_tensor(r[1], DType::F32, {1, 1, 1}, {h}, 1e-5);
  expect_tensor(r[2], DType::F32, {1, 1, 1}, {c}, 1e-5);
}

// input_forget couples the gates: f = 1 - i, so C = (1 - sigmoid(0.5))*1 + sigmoid(0.5) tanh(2).
TEST(InterpRecurrentLstm, InputForget) {
  auto r = run_ok(OpKind::Lstm,
                  {F({1, 1, 1}, {0.5}), F({1, 4, 1}, {1, 2, 3, 4}), F({1, 4, 1}, {0, 0, 0, 0}), std::nullopt,
                   std::nullopt, std::nullopt, F({1, 1, 1}, {1})},
                  hidden(1, {{"input_forget", 1}}), 3);
  double c = (1 - sigmoid(0.5)) + sigmoid(0.5) * std::tanh(2), h = sigmoid(1) * std::tanh(c);
  expect_tensor(r[1], DType::F32, {1, 1, 1}, {h}, 1e-5);
  expect_tensor(r[2], DType::F32, {1, 1, 1}, {c}, 1e-5);
}

// clip 0.8 bounds the pre-activations 0.5, 1, 1.5, 2 to 0.5, 0.8, 0.8, 0.8; the cell itself
// (C = sigmoid(0.8) + sigmoid(0.5) tanh(0.8) ~ 1.1) is not clipped.
TEST(InterpRecurrentLstm, Clip) {
  auto r = run_ok(OpKind::Lstm,
                  {F({1, 1, 1}, {0.5}), F({1, 4, 1}, {1, 2, 3, 4}), F({1, 4, 1}, {0, 0, 0, 0}), std::nullopt,
                   std::nullopt, std::nullopt, F({1, 1, 1}, {1})},
                  hidden(1, {{"clip", 0.8}}), 3);
  double c = sigmoid(0.8) + sigmoid(0.5) * std::tanh(0.8), h = sigmoid(0.8) * std::tanh(c);
  expect_tensor(r[1], DType::F32, {1, 1, 1}, {h}, 1e-5);
  expect_tensor(r[2], DType::F32, {1, 1, 1}, {c}, 1e-5);
}

// Bidirectional, layout 1, three results. W = R = [0, 0, 0, 1] per direction, so i = o = f = 0.5 and
// g = tanh(x + H). Forward over x = [1, 2]: C1 = 0.5 tanh(1), H1 = 0.5 tanh(C1),
// C2 = 0.5 C1 + 0.5 tanh(2 + H1), H2 = 0.5 tanh(C2). Backward: D1 = 0.5 tanh(2), G1 = 0.5 tanh(D1),
// D0 = 0.5 D1 + 0.5 tanh(1 + G1), G0 = 0.5 tanh(D0).
TEST(InterpRecurrentLstm, BidirectionalBatchFirst) {
  Tensor w = F({2, 4, 1}, {0, 0, 0, 1, 0, 0, 0, 1});
  auto r =
      run_ok(OpKind::Lstm, {F({1, 2, 1}, {1, 2}), w, w}, hidden(1, {{"direction", "bidirectional"}, {"layout", 1}}), 3);
  double c1 = 0.5 * std::tanh(1), h1 = 0.5 * std::tanh(c1);
  double c2 = 0.5 * c1 + 0.5 * std::tanh(2 + h1), h2 = 0.5 * std::tanh(c2);
  double d1 = 0.5 * std::tanh(2), g1 = 0.5 * std::tanh(d1);
  double d0 = 0.5 * d1 + 0.5 * std::tanh(1 + g1), g0 = 0.5 * std::tanh(d0);
  expect_tensor(r[0], DType::F32, {1, 2, 2, 1}, {h1, g0, h2, g1}, 1e-5);  // [batch, seq, dirs, hidden]
  expect_tensor(r[1], DType::F32, {1, 2, 1}, {h2, g0}, 1e-5);             // [batch, dirs, hidden]
  expect_tensor(r[2], DType::F32, {1, 2, 1}, {c2, d0}, 1e-5);
}

// ONNX node test test_lstm_with_peepholes: every operand present; W = R = P = 0.1, B = h0 = c0 = 0.
TEST(InterpRecurrentLstm, OnnxNodeTestWithPeepholes) {
  auto r = run_ok(
      OpKind::Lstm,
      {F({1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}), filled({1, 12, 4}, 0.1), filled({1, 12, 3}, 0.1), filled({1, 24}, 0),
       Tensor::of<int32_t>({2}, {1, 1}), filled({1, 2, 3}, 0), filled({1, 2, 3}, 0), filled({1, 9}, 0.1)},
      hidden(3), 2);
  expect_tensor(r[1], DType::F32, {1, 2, 3}, {0.3750691, 0.3750691, 0.3750691, 0.6801309, 0.6801309, 0.6801309}, 1e-6);
}

// ---- shape rules and errors --------------------------------------------------------------------------

TEST(InterpRecurrentShape, SymbolicSeqAndBatch) {
  Module module;
  Builder b(module.add_function("main"));
  Dim seq = Dim::symbol("seq"), n = Dim::symbol("N");
  Value* x = b.input("x", {DType::F32, {seq, n, 8}});
  Value* w = b.input("w", {DType::F32, {1, 64, 8}});
  Value* r = b.input("r", {DType::F32, {1, 64, 16}});
  Value* lens = b.input("lens", {DType::I32, {n}});
  auto lstm = b.create(OpKind::Lstm, {x, w, r, nullptr, lens}, hidden(16), 3);
  Value* xb = b.input("xb", {DType::F32, {n, seq, 8}});
  Value* wg = b.input("wg", {DType::F32, {2, 48, 8}});
  Value* rg = b.input("rg", {DType::F32, {2, 48, 16}});
  auto gru = b.create(OpKind::Gru, {xb, wg, rg}, hidden(16, {{"direction", "bidirectional"}, {"layout", 1}}), 2);
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  EXPECT_EQ(lstm[0]->type().str(), "f32[seq, 1, N, 16]");
  EXPECT_EQ(lstm[1]->type().str(), "f32[1, N, 16]");
  EXPECT_EQ(lstm[2]->type().str(), "f32[1, N, 16]");
  EXPECT_EQ(gru[0]->type().str(), "f32[N, seq, 2, 16]");
  EXPECT_EQ(gru[1]->type().str(), "f32[N, 2, 16]");
  b.output(lstm[0]);
  b.output(gru[1]);
  ASSERT_TRUE(verify(module).ok());
  // Zero weights keep every state at 0; the run checks that results bind seq = 3, N = 2.
  auto outputs = interpret(*module.entry(), {filled({3, 2, 8}, 1), filled({1, 64, 8}, 0), filled({1, 64, 16}, 0),
                                             Tensor::of<int32_t>({2}, {3, 2}), filled({2, 3, 8}, 1),
                                             filled({2, 48, 8}, 0), filled({2, 48, 16}, 0)});
  ASSERT_TRUE(outputs.ok()) << outputs.error().str();
  expect_tensor((*outputs)[0], DType::F32, {3, 1, 2, 16}, std::vector<double>(96, 0.0));
  expect_tensor((*outputs)[1], DType::F32, {2, 2, 16}, std::vector<double>(64, 0.0));
}

// A symbolic input size cannot be compared with W's when the op is built; the kernel checks it.
TEST(InterpRecurrentShape, SymbolicInputSizeCheckedAtRun) {
  Module module;
  Builder b(module.add_function("main"));
  Value* x = b.input("x", {DType::F32, {1, 1, Dim::symbol("K")}});
  Value* w = b.input("w", {DType::F32, {1, 1, 3}});
  Value* r = b.input("r", {DType::F32, {1, 1, 1}});
  b.output(b.op(OpKind::Rnn, {x, w, r}, hidden(1)));
  ASSERT_TRUE(b.status().ok());
  auto outputs = interpret(*module.entry(), {filled({1, 1, 2}, 1), filled({1, 1, 3}, 1), filled({1, 1, 1}, 1)});
  ASSERT_FALSE(outputs.ok());
  EXPECT_THAT(outputs.error().str(), HasSubstr("W must have shape [1, 1, 2]"));
}

TEST(InterpRecurrentShape, OperandErrors) {
  Tensor x = F({1, 1, 2}, {1, 2});
  EXPECT_THAT(error_of(OpKind::Rnn, {x, filled({1, 1, 2}, 0)}, hidden(1)), HasSubstr("rnn needs operand 2 (R)"));
  EXPECT_THAT(error_of(OpKind::Lstm, {x, filled({1, 6, 2}, 0), filled({1, 8, 2}, 0)}, hidden(2)),
              HasSubstr("W must have shape [1, 8, 2] (num_directions, 4*hidden_size, gates i, o, f, c, input_size), "
                        "got f32[1, 6, 2]"));
  EXPECT_THAT(error_of(OpKind::Gru, {x, filled({1, 3, 2}, 0), filled({1, 3, 1}, 0)},
                       hidden(1, {{"direction", "bidirectional"}})),
              HasSubstr("W must have shape [2, 3, 2]"));
  EXPECT_THAT(error_of(OpKind::Rnn, {x, filled({1, 1, 2}, 0), filled({1, 1, 2}, 0)}, hidden(1)),
              HasSubstr("R must have shape [1, 1, 1]"));
  EXPECT_THAT(error_of(OpKind::Rnn, {x, filled({1, 1, 2}, 0), T(DType::F64, {1, 1, 1}, {0})}, hidden(1)),
              HasSubstr("R must have the dtype of X (f32), got f64[1, 1, 1]"));
  EXPECT_THAT(
      error_of(OpKind::Rnn, {T(DType::I32, {1, 1, 2}, {1, 2}), filled({1, 1, 2}, 0), filled({1, 1, 1}, 0)}, hidden(1)),
      HasSubstr("X as a float tensor [seq, batch, input_size], got i32[1, 1, 2]"));
  EXPECT_THAT(error_of(OpKind::Rnn, {x, filled({1, 1, 2}, 0), filled({1, 1, 1}, 0), filled({1, 3}, 0)}, hidden(1)),
              HasSubstr("B must have shape [1, 2]"));
  EXPECT_THAT(
      error_of(OpKind::Rnn, {x, filled({1, 1, 2}, 0), filled({1, 1, 1}, 0), std::nullopt, filled({1}, 1)}, hidden(1)),
      HasSubstr("sequence_lens must be i32 or i64, got f32[1]"));
  EXPECT_THAT(error_of(OpKind::Lstm,
                       {x, filled({1, 4, 2}, 0), filled({1, 4, 1}, 0), std::nullopt, std::nullopt, filled({1, 1, 1}, 0),
                        std::nullopt, filled({1, 4}, 0)},
                       hidden(1)),
              HasSubstr("P must have shape [1, 3]"));
  EXPECT_THAT(error_of(OpKind::Gru,
                       {x, filled({1, 3, 2}, 0), filled({1, 3, 1}, 0), std::nullopt, std::nullopt, filled({1, 1, 1}, 0),
                        filled({1, 1, 1}, 0)},
                       hidden(1)),
              HasSubstr("gru takes at most 6 operands, got 7"));
  // layout 1 wants initial_h as [batch, dirs, hidden] = [1, 2, 1].
  EXPECT_THAT(
      error_of(OpKind::Rnn,
               {x, filled({2, 1, 2}, 0), filled({2, 1, 1}, 0), std::nullopt, std::nullopt, filled({2, 1, 1}, 0)},
               hidden(1, {{"direction", "bidirectional"}, {"layout", 1}})),
      HasSubstr("initial_h must have shape [1, 2, 1] (batch, num_directions, hidden_size)"));
}

TEST(InterpRecurrentShape, AttributeAndResultErrors) {
  std::vector<Operand> rnn = {F({2, 1, 1}, {1, 1}), filled({1, 1, 1}, 0), filled({1, 1, 1}, 0)};
  auto with = [](AttrMap attrs) { return hidden(1, std::move(attrs)); };
  EXPECT_THAT(error_of(OpKind::Rnn, rnn, with({{"activations", std::vector<std::string>{"Swish"}}})),
              HasSubstr("unknown activation 'Swish' in activations[0]; supported: Relu, Tanh, Sigmoid"));
  EXPECT_THAT(
      error_of(OpKind::Gru, {F({2, 1, 1}, {1, 1}), filled({2, 3, 1}, 0), filled({2, 3, 1}, 0)},
               with({{"direction", "bidirectional"}, {"activations", std::vector<std::string>{"Sigmoid", "Tanh"}}})),
      HasSubstr("activations has 2 names, but gru with 2 direction(s) needs 4 (2 per direction: f, g)"));
  EXPECT_THAT(error_of(OpKind::Rnn, rnn, with({{"activation_alpha", std::vector<double>{1.0}}})),
              HasSubstr("activation_alpha has 1 values, but the activations [Tanh] read only 0"));
  EXPECT_THAT(error_of(OpKind::Rnn, rnn, with({{"direction", "both"}})),
              HasSubstr("direction must be forward, reverse or bidirectional, got 'both'"));
  EXPECT_THAT(error_of(OpKind::Rnn, rnn, with({{"layout", 2}})), HasSubstr("layout must be 0 or 1, got 2"));
  EXPECT_THAT(error_of(OpKind::Rnn, rnn, with({{"clip", -1.0}})), HasSubstr("clip must be >= 0"));
  EXPECT_THAT(error_of(OpKind::Rnn, rnn, {{"hidden_size", int64_t{0}}}), HasSubstr("hidden_size must be at least 1"));
  EXPECT_THAT(error_of(OpKind::Lstm, {F({2, 1, 1}, {1, 1}), filled({1, 4, 1}, 0), filled({1, 4, 1}, 0)},
                       with({{"input_forget", 2}})),
              HasSubstr("input_forget must be 0 or 1, got 2"));
  EXPECT_THAT(error_of(OpKind::Rnn, rnn, hidden(1), 3), HasSubstr("rnn defines 1 to 2 results (Y, Y_h), got 3"));
  // sequence_lens values are checked when the op runs.
  std::vector<Operand> with_lens = rnn;
  with_lens.push_back(std::nullopt);
  with_lens.push_back(Tensor::of<int32_t>({1}, {5}));
  EXPECT_THAT(error_of(OpKind::Rnn, with_lens, hidden(1)), HasSubstr("sequence_lens[0] is 5, outside [0, seq = 2]"));
}

}  // namespace
}  // namespace tessel
