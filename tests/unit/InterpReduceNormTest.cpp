// Interpreter and shape-rule tests for the Reduce family (reduce_*, argmax, argmin) and the Norm family
// (softmax, log_softmax, layer_norm). Expected values are computed by hand; the arithmetic is in the
// comments where it is not obvious.
#include <cmath>
#include <cstdint>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/InterpTestUtil.h"

namespace tessel::testing {
namespace {

using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

AttrMap reduce_attrs(std::vector<int64_t> axes, int keepdims) {
  return {{"axes", std::move(axes)}, {"keepdims", keepdims}};
}
AttrMap arg_attrs(int64_t axis, int keepdims = 1, int last = 0) {
  return {{"axis", axis}, {"keepdims", keepdims}, {"select_last_index", last}};
}

// The error of running `kind`, as text; fails the test if the op succeeds.
std::string error_of(OpKind kind, std::vector<Operand> operands, AttrMap attrs = {}) {
  auto results = run_op(kind, std::move(operands), std::move(attrs));
  EXPECT_FALSE(results.ok());
  return results.ok() ? std::string() : results.error().str();
}

// The result types the shape rule gives for one op on `inputs`.
Expected<std::vector<TensorType>> infer(OpKind kind, std::vector<TensorType> inputs, AttrMap attrs = {},
                                        int num_results = 1) {
  Module module;
  Builder b(module.add_function("main"));
  std::vector<Value*> values;
  for (size_t i = 0; i < inputs.size(); ++i) values.push_back(b.input("in" + std::to_string(i), inputs[i]));
  auto results = b.create(kind, values, std::move(attrs), num_results);
  TESSEL_TRY(b.status());
  std::vector<TensorType> types;
  for (Value* result : results) types.push_back(result->type());
  return types;
}

const Tensor k2x3 = T(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});

// ---- Reductions: values, axes, keepdims ----------------------------------------------------------------

TEST(InterpReduceNormReduce, SumAxesAndKeepdims) {
  expect_tensor(run1(OpKind::ReduceSum, {k2x3}, reduce_attrs({1}, 0)), DType::F32, {2}, {6, 15});
  expect_tensor(run1(OpKind::ReduceSum, {k2x3}, reduce_attrs({0}, 1)), DType::F32, {1, 3}, {5, 7, 9});
  expect_tensor(run1(OpKind::ReduceSum, {k2x3}, reduce_attrs({-1}, 1)), DType::F32, {2, 1}, {6, 15});
  expect_tensor(run1(OpKind::ReduceSum, {k2x3}, reduce_attrs({}, 1)), DType::F32, {1, 1}, {21});
  expect_tensor(run1(OpKind::ReduceSum, {k2x3}, reduce_attrs({}, 0)), DType::F32, {}, {21});
  expect_tensor(run1(OpKind::ReduceSum, {k2x3}, reduce_attrs({0, 1}, 0)), DType::F32, {}, {21});
  // The defaults are axes=[] and keepdims=1.
  expect_tensor(run1(OpKind::ReduceSum, {k2x3}), DType::F32, {1, 1}, {21});
}

TEST(InterpReduceNormReduce, MultipleAxesOnRank3) {
  // x[i][j][k] = 4i + 2j + k. Over axes {0, 2}: j=0 -> 0+1+4+5 = 10, j=1 -> 2+3+6+7 = 18.
  Tensor x = T(DType::F32, {2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  expect_tensor(run1(OpKind::ReduceSum, {x}, reduce_attrs({0, 2}, 0)), DType::F32, {2}, {10, 18});
  expect_tensor(run1(OpKind::ReduceSum, {x}, reduce_attrs({2, 0}, 0)), DType::F32, {2}, {10, 18});
  expect_tensor(run1(OpKind::ReduceSum, {x}, reduce_attrs({-3, -1}, 1)), DType::F32, {1, 2, 1}, {10, 18});
  // Max over axis 1: (max(0, 2), max(1, 3), max(4, 6), max(5, 7)).
  expect_tensor(run1(OpKind::ReduceMax, {x}, reduce_attrs({1}, 0)), DType::F32, {2, 2}, {2, 3, 6, 7});
}

TEST(InterpReduceNormReduce, EveryReductionOnRows) {
  expect_tensor(run1(OpKind::ReduceMean, {k2x3}, reduce_attrs({1}, 0)), DType::F32, {2}, {2, 5});
  expect_tensor(run1(OpKind::ReduceMean, {k2x3}, reduce_attrs({}, 0)), DType::F32, {}, {3.5});
  expect_tensor(run1(OpKind::ReduceMax, {k2x3}, reduce_attrs({0}, 0)), DType::F32, {3}, {4, 5, 6});
  expect_tensor(run1(OpKind::ReduceMin, {k2x3}, reduce_attrs({1}, 1)), DType::F32, {2, 1}, {1, 4});
  expect_tensor(run1(OpKind::ReduceProd, {k2x3}, reduce_attrs({1}, 0)), DType::F32, {2}, {6, 120});
  Tensor signs = T(DType::F32, {2, 3}, {-1, 2, -3, 4, -5, 6});
  expect_tensor(run1(OpKind::ReduceL1, {signs}, reduce_attrs({1}, 0)), DType::F32, {2}, {6, 15});
  // sqrt(9 + 16) = 5, sqrt(36 + 64) = 10.
  Tensor legs = T(DType::F32, {2, 2}, {3, -4, -6, 8});
  expect_tensor(run1(OpKind::ReduceL2, {legs}, reduce_attrs({1}, 0)), DType::F32, {2}, {5, 10});
}

TEST(InterpReduceNormReduce, LogSumExpIsStable) {
  // log(e^0 + e^0) = ln 2; log(e^1000 + e^1000) = 1000 + ln 2 (no overflow); all -inf gives -inf.
  Tensor x = T(DType::F32, {3, 2}, {0, 0, 1000, 1000, -kInf, -kInf});
  expect_tensor(run1(OpKind::ReduceLogSumExp, {x}, reduce_attrs({1}, 0)), DType::F32, {3},
                {0.6931472, 1000.6931472, -kInf});
  // log(e^1 + e^2 + e^3) = 3 + log(e^-2 + e^-1 + 1) = 3 + ln(1.5032147) = 3.4076060.
  Tensor row = T(DType::F64, {3}, {1, 2, 3});
  expect_tensor(run1(OpKind::ReduceLogSumExp, {row}, reduce_attrs({0}, 0)), DType::F64, {}, {3.4076059644443806},
                1e-12);
}

TEST(InterpReduceNormReduce, NaNPropagatesThroughMaxAndMin) {
  Tensor x = T(DType::F32, {2, 3}, {1, kNaN, 3, 4, 5, 6});
  expect_tensor(run1(OpKind::ReduceMax, {x}, reduce_attrs({1}, 0)), DType::F32, {2}, {kNaN, 6});
  expect_tensor(run1(OpKind::ReduceMin, {x}, reduce_attrs({1}, 0)), DType::F32, {2}, {kNaN, 4});
  // NaN last in the row must not be lost either.
  Tensor last = T(DType::F64, {3}, {1, 2, kNaN});
  expect_tensor(run1(OpKind::ReduceMax, {last}, reduce_attrs({}, 0)), DType::F64, {}, {kNaN});
  expect_tensor(run1(OpKind::ReduceLogSumExp, {last}, reduce_attrs({}, 0)), DType::F64, {}, {kNaN});
}

// ---- Reductions: zero-size dims and scalars -----------------------------------------------------------

TEST(InterpReduceNormReduce, EmptyReducedAxisGivesTheIdentity) {
  Tensor x(DType::F32, {2, 0});
  auto reduce = [&](OpKind kind) { return run1(kind, {x}, reduce_attrs({1}, 0)); };
  expect_tensor(reduce(OpKind::ReduceSum), DType::F32, {2}, {0, 0});
  expect_tensor(reduce(OpKind::ReduceProd), DType::F32, {2}, {1, 1});
  expect_tensor(reduce(OpKind::ReduceMean), DType::F32, {2}, {kNaN, kNaN});
  expect_tensor(reduce(OpKind::ReduceMax), DType::F32, {2}, {-kInf, -kInf});
  expect_tensor(reduce(OpKind::ReduceMin), DType::F32, {2}, {kInf, kInf});
  expect_tensor(reduce(OpKind::ReduceL1), DType::F32, {2}, {0, 0});
  expect_tensor(reduce(OpKind::ReduceL2), DType::F32, {2}, {0, 0});
  expect_tensor(reduce(OpKind::ReduceLogSumExp), DType::F32, {2}, {-kInf, -kInf});
  // axes=[] over a zero-size tensor reduces everything to one identity element.
  expect_tensor(run1(OpKind::ReduceProd, {x}, reduce_attrs({}, 1)), DType::F32, {1, 1}, {1});
  Tensor ints(DType::I32, {0, 3});
  expect_tensor(run1(OpKind::ReduceMax, {ints}, reduce_attrs({0}, 0)), DType::I32, {3},
                {-2147483648.0, -2147483648.0, -2147483648.0});
  expect_tensor(run1(OpKind::ReduceMin, {ints}, reduce_attrs({0}, 1)), DType::I32, {1, 3},
                {2147483647, 2147483647, 2147483647});
  // Integer mean of nothing is 0 / 0, which the IR's integer division defines as 0.
  expect_tensor(run1(OpKind::ReduceMean, {ints}, reduce_attrs({0}, 0)), DType::I32, {3}, {0, 0, 0});
}

TEST(InterpReduceNormReduce, ReducingOtherAxesOfAnEmptyTensorIsEmpty) {
  Tensor x(DType::F32, {2, 0, 3});
  expect_tensor(run1(OpKind::ReduceSum, {x}, reduce_attrs({0}, 0)), DType::F32, {0, 3}, {});
  expect_tensor(run1(OpKind::ReduceMax, {x}, reduce_attrs({2}, 1)), DType::F32, {2, 0, 1}, {});
  expect_tensor(run1(OpKind::ArgMax, {x}, arg_attrs(0, 0)), DType::I64, {0, 3}, {});
}

TEST(InterpReduceNormReduce, ScalarsReduceToThemselves) {
  Tensor x = T(DType::F32, {}, {-5});
  for (OpKind kind : {OpKind::ReduceSum, OpKind::ReduceMean, OpKind::ReduceMax, OpKind::ReduceMin, OpKind::ReduceProd})
    expect_tensor(run1(kind, {x}, reduce_attrs({}, 1)), DType::F32, {}, {-5});
  expect_tensor(run1(OpKind::ReduceL1, {x}, reduce_attrs({}, 0)), DType::F32, {}, {5});
  expect_tensor(run1(OpKind::ReduceL2, {x}, reduce_attrs({}, 0)), DType::F32, {}, {5});
  expect_tensor(run1(OpKind::ReduceLogSumExp, {x}, reduce_attrs({}, 0)), DType::F32, {}, {-5});
}

// ---- Reductions: dtypes ----------------------------------------------------------------------------------

TEST(InterpReduceNormReduce, FloatsAccumulateWide) {
  // Summed in the input type, 2048 + 1 rounds back to 2048 (f16 spacing there is 2); in double it is 2050.
  expect_tensor(run1(OpKind::ReduceSum, {T(DType::F16, {3}, {2048, 1, 1})}, reduce_attrs({}, 0)), DType::F16, {},
                {2050});
  // bf16 spacing at 256 is 2; f32 spacing at 2^24 is 2.
  expect_tensor(run1(OpKind::ReduceSum, {T(DType::BF16, {3}, {256, 1, 1})}, reduce_attrs({}, 0)), DType::BF16, {},
                {258});
  expect_tensor(run1(OpKind::ReduceSum, {T(DType::F32, {3}, {16777216, 1, 1})}, reduce_attrs({}, 0)), DType::F32, {},
                {16777218});
  expect_tensor(run1(OpKind::ReduceMean, {T(DType::F64, {4}, {0.1, 0.2, 0.3, 0.4})}, reduce_attrs({}, 0)), DType::F64,
                {}, {0.25}, 1e-15);
  expect_tensor(run1(OpKind::ReduceMax, {T(DType::BF16, {2, 2}, {1.5, -2, 0.25, 8})}, reduce_attrs({1}, 0)),
                DType::BF16, {2}, {1.5, 8});
  expect_tensor(run1(OpKind::ReduceL2, {T(DType::F16, {2}, {3, 4})}, reduce_attrs({}, 0)), DType::F16, {}, {5});
}

TEST(InterpReduceNormReduce, IntegersWrapAndTruncate) {
  // i32: 2147483647 + 1 wraps to -2147483648; u8: 200 + 100 = 300 wraps to 44.
  expect_tensor(run1(OpKind::ReduceSum, {Tensor::of<int32_t>({2}, {2147483647, 1})}, reduce_attrs({}, 0)), DType::I32,
                {}, {-2147483648.0});
  expect_tensor(run1(OpKind::ReduceSum, {Tensor::of<uint8_t>({2}, {200, 100})}, reduce_attrs({}, 0)), DType::U8, {},
                {44});
  // i64: 2^62 * 4 = 2^64 wraps to 0; u32: 65536 * 65537 = 2^32 + 65536 wraps to 65536.
  expect_tensor(run1(OpKind::ReduceProd, {Tensor::of<int64_t>({2}, {int64_t{1} << 62, 4})}, reduce_attrs({}, 0)),
                DType::I64, {}, {0});
  expect_tensor(run1(OpKind::ReduceProd, {Tensor::of<uint32_t>({2}, {65536, 65537})}, reduce_attrs({}, 0)), DType::U32,
                {}, {65536});
  // i8 mean of 100, 100, 100 is 100 even though the sum (300) does not fit in i8; -7 / 2 truncates to -3.
  expect_tensor(run1(OpKind::ReduceMean, {Tensor::of<int8_t>({3}, {100, 100, 100})}, reduce_attrs({}, 0)), DType::I8,
                {}, {100});
  expect_tensor(run1(OpKind::ReduceMean, {Tensor::of<int32_t>({2, 2}, {-7, 0, 7, 0})}, reduce_attrs({1}, 0)),
                DType::I32, {2}, {-3, 3});
  expect_tensor(run1(OpKind::ReduceL1, {Tensor::of<int16_t>({3}, {-3, 4, -5})}, reduce_attrs({}, 0)), DType::I16, {},
                {12});
  expect_tensor(run1(OpKind::ReduceMax, {Tensor::of<uint8_t>({2, 2}, {7, 250, 9, 3})}, reduce_attrs({1}, 0)), DType::U8,
                {2}, {250, 9});
  expect_tensor(run1(OpKind::ReduceMin, {Tensor::of<int64_t>({3}, {5, -9, 2})}, reduce_attrs({0}, 1)), DType::I64, {1},
                {-9});
  // i64 max in its own type: 2^62 + 1 and 2^62 are the same double.
  Tensor big = Tensor::of<int64_t>({2}, {(int64_t{1} << 62) + 1, int64_t{1} << 62});
  Tensor max = run1(OpKind::ReduceMax, {big}, reduce_attrs({}, 0));
  EXPECT_EQ(max.get_int(0), (int64_t{1} << 62) + 1);
}

// ---- argmax / argmin ---------------------------------------------------------------------------------------

TEST(InterpReduceNormArg, AxesAndKeepdims) {
  Tensor x = T(DType::F32, {2, 3}, {1, 5, 2, 7, 0, 7});
  expect_tensor(run1(OpKind::ArgMax, {x}, arg_attrs(1, 0)), DType::I64, {2}, {1, 0});
  expect_tensor(run1(OpKind::ArgMax, {x}, arg_attrs(-1, 1)), DType::I64, {2, 1}, {1, 0});
  expect_tensor(run1(OpKind::ArgMax, {x}, arg_attrs(0, 1)), DType::I64, {1, 3}, {1, 0, 1});
  expect_tensor(run1(OpKind::ArgMin, {x}, arg_attrs(1, 0)), DType::I64, {2}, {0, 1});
  expect_tensor(run1(OpKind::ArgMin, {x}, arg_attrs(-2, 0)), DType::I64, {3}, {0, 1, 0});
  // Defaults: axis 0, keepdims 1.
  expect_tensor(run1(OpKind::ArgMax, {x}), DType::I64, {1, 3}, {1, 0, 1});
}

TEST(InterpReduceNormArg, SelectLastIndexBreaksTies) {
  Tensor x = T(DType::F32, {2, 3}, {3, 1, 3, 1, 5, 1});
  expect_tensor(run1(OpKind::ArgMax, {x}, arg_attrs(1, 0, 0)), DType::I64, {2}, {0, 1});
  expect_tensor(run1(OpKind::ArgMax, {x}, arg_attrs(1, 0, 1)), DType::I64, {2}, {2, 1});
  expect_tensor(run1(OpKind::ArgMin, {x}, arg_attrs(1, 0, 0)), DType::I64, {2}, {1, 0});
  expect_tensor(run1(OpKind::ArgMin, {x}, arg_attrs(1, 0, 1)), DType::I64, {2}, {1, 2});
}

TEST(InterpReduceNormArg, NaNWins) {
  // As numpy: the first NaN is both the argmax and the argmin; with select_last_index, the last NaN.
  Tensor x = T(DType::F32, {4}, {1, kNaN, 3, kNaN});
  expect_tensor(run1(OpKind::ArgMax, {x}, arg_attrs(0, 0)), DType::I64, {}, {1});
  expect_tensor(run1(OpKind::ArgMin, {x}, arg_attrs(0, 0)), DType::I64, {}, {1});
  expect_tensor(run1(OpKind::ArgMax, {x}, arg_attrs(0, 0, 1)), DType::I64, {}, {3});
  Tensor first = T(DType::F64, {3}, {kNaN, 9, -9});
  expect_tensor(run1(OpKind::ArgMin, {first}, arg_attrs(0, 0)), DType::I64, {}, {0});
}

TEST(InterpReduceNormArg, Dtypes) {
  expect_tensor(run1(OpKind::ArgMax, {T(DType::F16, {3}, {0.5, -1, 0.75})}, arg_attrs(0, 0)), DType::I64, {}, {2});
  expect_tensor(run1(OpKind::ArgMin, {T(DType::BF16, {3}, {0.5, -1, 0.75})}, arg_attrs(0, 0)), DType::I64, {}, {1});
  expect_tensor(run1(OpKind::ArgMin, {Tensor::of<int32_t>({3}, {4, -8, -8})}, arg_attrs(0, 0, 1)), DType::I64, {}, {2});
  expect_tensor(run1(OpKind::ArgMax, {Tensor::of<uint8_t>({2, 2}, {0, 255, 200, 100})}, arg_attrs(1, 0)), DType::I64,
                {2}, {1, 0});
  // Compared as i64, not as doubles (where both values are 2^62).
  Tensor big = Tensor::of<int64_t>({2}, {int64_t{1} << 62, (int64_t{1} << 62) + 1});
  expect_tensor(run1(OpKind::ArgMax, {big}, arg_attrs(0, 0)), DType::I64, {}, {1});
}

TEST(InterpReduceNormArg, EmptyAxisIsAnError) {
  EXPECT_THAT(error_of(OpKind::ArgMax, {Tensor(DType::F32, {2, 0})}, arg_attrs(1)),
              HasSubstr("argmax on f32[2, 0]: axis 1 has size 0"));
  // With a symbolic dim the shape rule cannot tell; the kernel reports it.
  Module module;
  Builder b(module.add_function("main"));
  b.output(b.op(OpKind::ArgMin, {b.input("x", {DType::F32, {Dim::symbol("N")}})}));
  ASSERT_TRUE(b.status().ok());
  auto results = interpret(*module.entry(), {Tensor(DType::F32, {0})});
  ASSERT_FALSE(results.ok());
  EXPECT_THAT(results.error().str(), HasSubstr("argmin on f32[0]: axis 0 has size 0"));
}

// ---- softmax / log_softmax --------------------------------------------------------------------------------

TEST(InterpReduceNormSoftmax, Values) {
  // exp(x - 3) = (0.1353353, 0.3678794, 1), sum 1.5032147.
  Tensor x = T(DType::F32, {3}, {1, 2, 3});
  expect_tensor(run1(OpKind::Softmax, {x}), DType::F32, {3}, {0.0900306, 0.2447285, 0.6652410});
  // x - 3 - ln(1.5032147) = x - 3.4076059.
  expect_tensor(run1(OpKind::LogSoftmax, {x}), DType::F32, {3}, {-2.4076059, -1.4076059, -0.4076059});
}

TEST(InterpReduceNormSoftmax, LargeInputsDoNotOverflow) {
  // e^1000 overflows a double; after subtracting the max: 1 / (1 + e) = 0.2689414.
  Tensor x = T(DType::F32, {2}, {1000, 1001});
  Tensor y = run1(OpKind::Softmax, {x});
  expect_tensor(y, DType::F32, {2}, {0.2689414, 0.7310586});
  EXPECT_NEAR(y.get_double(0) + y.get_double(1), 1.0, 1e-6);
  expect_tensor(run1(OpKind::LogSoftmax, {x}), DType::F32, {2}, {-1.3132617, -0.3132617});
}

TEST(InterpReduceNormSoftmax, AxisAndNegativeInfinity) {
  // Along axis 0: column (1, 1) -> 0.5 each; column (1, 3) -> 1 / (1 + e^2) = 0.1192029 and 0.8807971.
  Tensor x = T(DType::F64, {2, 2}, {1, 1, 1, 3});
  expect_tensor(run1(OpKind::Softmax, {x}, {{"axis", 0}}), DType::F64, {2, 2}, {0.5, 0.1192029, 0.5, 0.8807971});
  expect_tensor(run1(OpKind::Softmax, {x}, {{"axis", -2}}), DType::F64, {2, 2}, {0.5, 0.1192029, 0.5, 0.8807971});
  // A row of -inf is NaN (exp(-inf - -inf)); a single -inf among finite values is probability 0.
  Tensor inf = T(DType::F32, {2, 2}, {-kInf, -kInf, -kInf, 0});
  expect_tensor(run1(OpKind::Softmax, {inf}), DType::F32, {2, 2}, {kNaN, kNaN, 0, 1});
  expect_tensor(run1(OpKind::LogSoftmax, {inf}), DType::F32, {2, 2}, {kNaN, kNaN, -kInf, 0});
}

TEST(InterpReduceNormSoftmax, DtypesAndZeroSize) {
  // Two equal logits: 0.5 each; log 0.5 = -0.6931472.
  expect_tensor(run1(OpKind::Softmax, {T(DType::F16, {2}, {7, 7})}), DType::F16, {2}, {0.5, 0.5});
  expect_tensor(run1(OpKind::LogSoftmax, {T(DType::BF16, {2}, {-3, -3})}), DType::BF16, {2}, {-0.6931472, -0.6931472},
                1e-2);
  expect_tensor(run1(OpKind::Softmax, {Tensor(DType::F32, {2, 0})}), DType::F32, {2, 0}, {});
  expect_tensor(run1(OpKind::LogSoftmax, {Tensor(DType::F32, {0, 3})}, {{"axis", 0}}), DType::F32, {0, 3}, {});
}

// ---- layer_norm -------------------------------------------------------------------------------------------

// Rows (1, 2, 3) and (4, 6, 8): means 2 and 6, variances 2/3 and 8/3, so with epsilon 0 the inverse
// standard deviations are sqrt(1.5) = 1.2247449 and sqrt(0.375) = 0.6123724, and both rows normalize to
// (-1.2247449, 0, 1.2247449).
const Tensor kRows = T(DType::F32, {2, 3}, {1, 2, 3, 4, 6, 8});
constexpr double kZ = 1.2247449;

TEST(InterpReduceNormLayerNorm, ThreeOutputsWithoutAffine) {
  auto results = run_op(OpKind::LayerNorm, {kRows}, {{"epsilon", 0.0}}, 3);
  ASSERT_TRUE(results.ok()) << results.error().str();
  ASSERT_EQ(results->size(), 3u);
  expect_tensor((*results)[0], DType::F32, {2, 3}, {-kZ, 0, kZ, -kZ, 0, kZ});
  expect_tensor((*results)[1], DType::F32, {2, 1}, {2, 6});
  expect_tensor((*results)[2], DType::F32, {2, 1}, {1.2247449, 0.6123724});
}

TEST(InterpReduceNormLayerNorm, ScaleAndBias) {
  Tensor scale = T(DType::F32, {3}, {2, 0.5, 1}), bias = T(DType::F32, {3}, {1, 1, -1});
  // (-1.2247449 * 2 + 1, 0 * 0.5 + 1, 1.2247449 * 1 - 1).
  std::vector<double> affine{-1.4494897, 1, 0.2247449, -1.4494897, 1, 0.2247449};
  expect_tensor(run1(OpKind::LayerNorm, {kRows, scale, bias}, {{"epsilon", 0.0}}), DType::F32, {2, 3}, affine);
  expect_tensor(run1(OpKind::LayerNorm, {kRows, scale, std::nullopt}, {{"epsilon", 0.0}}), DType::F32, {2, 3},
                {-2 * kZ, 0, kZ, -2 * kZ, 0, kZ});
  expect_tensor(run1(OpKind::LayerNorm, {kRows, std::nullopt, bias}, {{"epsilon", 0.0}}), DType::F32, {2, 3},
                {-kZ + 1, 1, kZ - 1, -kZ + 1, 1, kZ - 1});
  // A scale of shape [1] broadcasts over the normalized axis.
  expect_tensor(run1(OpKind::LayerNorm, {kRows, T(DType::F32, {1}, {3})}, {{"epsilon", 0.0}}), DType::F32, {2, 3},
                {-3 * kZ, 0, 3 * kZ, -3 * kZ, 0, 3 * kZ});
}

TEST(InterpReduceNormLayerNorm, DefaultEpsilon) {
  // Row (1, -1): mean 0, variance 1; 1 / sqrt(1 + 1e-5) = 0.9999950.
  auto results = run_op(OpKind::LayerNorm, {T(DType::F64, {1, 2}, {1, -1})}, {}, 3);
  ASSERT_TRUE(results.ok()) << results.error().str();
  expect_tensor((*results)[0], DType::F64, {1, 2}, {0.999995000037, -0.999995000037}, 1e-11);
  expect_tensor((*results)[2], DType::F64, {1, 1}, {0.999995000037}, 1e-11);
}

TEST(InterpReduceNormLayerNorm, Axis1OnRank3) {
  // Each batch (0..3 and 4..7) normalizes over its 2x2 block: mean 1.5 / 5.5, variance
  // (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25, inverse std 1 / sqrt(1.25) = 0.8944272; so
  // y = (-1.5, -0.5, 0.5, 1.5) * 0.8944272 = (-1.3416408, -0.4472136, 0.4472136, 1.3416408).
  Tensor x = T(DType::F32, {2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  std::vector<double> y{-1.3416408, -0.4472136, 0.4472136, 1.3416408};
  auto results = run_op(OpKind::LayerNorm, {x}, {{"axis", 1}, {"epsilon", 0.0}}, 3);
  ASSERT_TRUE(results.ok()) << results.error().str();
  expect_tensor((*results)[0], DType::F32, {2, 2, 2}, {y[0], y[1], y[2], y[3], y[0], y[1], y[2], y[3]});
  expect_tensor((*results)[1], DType::F32, {2, 1, 1}, {1.5, 5.5});
  expect_tensor((*results)[2], DType::F32, {2, 1, 1}, {0.8944272, 0.8944272});
  // Scale [2, 2] = (1, 2, 3, 4) elementwise; scale [2] = (1, 2) along the last axis.
  expect_tensor(run1(OpKind::LayerNorm, {x, T(DType::F32, {2, 2}, {1, 2, 3, 4})}, {{"axis", -2}, {"epsilon", 0.0}}),
                DType::F32, {2, 2, 2}, {y[0], 2 * y[1], 3 * y[2], 4 * y[3], y[0], 2 * y[1], 3 * y[2], 4 * y[3]});
  expect_tensor(run1(OpKind::LayerNorm, {x, T(DType::F32, {2}, {1, 2})}, {{"axis", 1}, {"epsilon", 0.0}}), DType::F32,
                {2, 2, 2}, {y[0], 2 * y[1], y[2], 2 * y[3], y[0], 2 * y[1], y[2], 2 * y[3]});
}

TEST(InterpReduceNormLayerNorm, HalfPrecisionKeepsStatisticsInF32) {
  Tensor x = T(DType::F16, {2, 3}, {1, 2, 3, 4, 6, 8});
  auto results = run_op(OpKind::LayerNorm, {x, T(DType::F16, {3}, {1, 1, 1})}, {{"epsilon", 0.0}}, 3);
  ASSERT_TRUE(results.ok()) << results.error().str();
  expect_tensor((*results)[0], DType::F16, {2, 3}, {-kZ, 0, kZ, -kZ, 0, kZ}, 1e-3);
  expect_tensor((*results)[1], DType::F32, {2, 1}, {2, 6});
  expect_tensor((*results)[2], DType::F32, {2, 1}, {1.2247449, 0.6123724});
  auto bf16 = run_op(OpKind::LayerNorm, {T(DType::BF16, {1, 2}, {3, 5})}, {{"epsilon", 0.0}}, 2);
  ASSERT_TRUE(bf16.ok()) << bf16.error().str();
  expect_tensor((*bf16)[0], DType::BF16, {1, 2}, {-1, 1});
  expect_tensor((*bf16)[1], DType::F32, {1, 1}, {4});
}

TEST(InterpReduceNormLayerNorm, ZeroSizeBatch) {
  auto results = run_op(OpKind::LayerNorm, {Tensor(DType::F32, {0, 4})}, {}, 3);
  ASSERT_TRUE(results.ok()) << results.error().str();
  expect_tensor((*results)[0], DType::F32, {0, 4}, {});
  expect_tensor((*results)[1], DType::F32, {0, 1}, {});
}

// ---- Shape rules on symbolic dims --------------------------------------------------------------------------

TEST(InterpReduceNormShape, SymbolicDims) {
  Dim n = Dim::symbol("N"), seq = Dim::symbol("seq");
  TensorType x{DType::F32, {n, seq, 768}};
  auto mean = infer(OpKind::ReduceMean, {x}, reduce_attrs({1}, 0));
  ASSERT_TRUE(mean.ok()) << mean.error().str();
  EXPECT_EQ(mean->at(0).str(), "f32[N, 768]");
  auto kept = infer(OpKind::ReduceSum, {x}, reduce_attrs({-1, 0}, 1));
  ASSERT_TRUE(kept.ok()) << kept.error().str();
  EXPECT_EQ(kept->at(0).str(), "f32[1, seq, 1]");
  auto all = infer(OpKind::ReduceMax, {x}, reduce_attrs({}, 0));
  ASSERT_TRUE(all.ok()) << all.error().str();
  EXPECT_EQ(all->at(0).str(), "f32[]");
  auto arg = infer(OpKind::ArgMax, {x}, arg_attrs(1, 0));
  ASSERT_TRUE(arg.ok()) << arg.error().str();
  EXPECT_EQ(arg->at(0).str(), "i64[N, 768]");
  auto softmax = infer(OpKind::Softmax, {x});
  ASSERT_TRUE(softmax.ok()) << softmax.error().str();
  EXPECT_EQ(softmax->at(0), x);
}

TEST(InterpReduceNormShape, SymbolicLayerNorm) {
  TensorType x{DType::F32, {Dim::symbol("N"), Dim::symbol("seq"), 768}}, scale{DType::F32, {768}};
  auto one = infer(OpKind::LayerNorm, {x, scale, scale}, {{"axis", -1}});
  ASSERT_TRUE(one.ok()) << one.error().str();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->at(0), x);
  auto three = infer(OpKind::LayerNorm, {x}, {{"axis", 1}}, 3);
  ASSERT_TRUE(three.ok()) << three.error().str();
  ASSERT_EQ(three->size(), 3u);
  EXPECT_EQ(three->at(1).str(), "f32[N, 1, 1]");
  EXPECT_EQ(three->at(2).str(), "f32[N, 1, 1]");
  auto half = infer(OpKind::LayerNorm, {{DType::F16, {Dim::symbol("N"), 8}}}, {}, 2);
  ASSERT_TRUE(half.ok()) << half.error().str();
  EXPECT_EQ(half->at(1).str(), "f32[N, 1]");
}

// ---- Errors ------------------------------------------------------------------------------------------------

TEST(InterpReduceNormErrors, BadAxes) {
  EXPECT_THAT(error_of(OpKind::ReduceSum, {k2x3}, reduce_attrs({1, -1}, 1)),
              HasSubstr("reduce_sum on f32[2, 3]: axis -1 is repeated"));
  EXPECT_THAT(error_of(OpKind::ReduceMean, {k2x3}, reduce_attrs({2}, 1)),
              HasSubstr("reduce_mean on f32[2, 3]: axis 2 is out of range for rank 2"));
  EXPECT_THAT(error_of(OpKind::ReduceMin, {k2x3}, reduce_attrs({-3}, 1)), HasSubstr("axis -3 is out of range"));
  EXPECT_THAT(error_of(OpKind::ArgMax, {k2x3}, arg_attrs(2)),
              HasSubstr("argmax on f32[2, 3]: axis 2 is out of range for rank 2"));
  EXPECT_THAT(error_of(OpKind::ArgMin, {T(DType::F32, {}, {1})}, arg_attrs(0)),
              HasSubstr("axis 0 is out of range for rank 0"));
  EXPECT_THAT(error_of(OpKind::ReduceSum, {T(DType::F32, {}, {1})}, reduce_attrs({0}, 1)),
              HasSubstr("axis 0 is out of range for rank 0"));
  EXPECT_THAT(error_of(OpKind::Softmax, {k2x3}, {{"axis", 2}}),
              HasSubstr("softmax on f32[2, 3]: axis 2 is out of range for rank 2"));
  EXPECT_THAT(error_of(OpKind::LayerNorm, {k2x3}, {{"axis", -3}}),
              HasSubstr("layer_norm on f32[2, 3]: axis -3 is out of range for rank 2"));
}

TEST(InterpReduceNormErrors, BadDtypes) {
  Tensor ints = Tensor::of<int32_t>({2}, {3, 4});
  EXPECT_THAT(error_of(OpKind::ReduceL2, {ints}), HasSubstr("reduce_l2 expects a float tensor, got i32[2]"));
  EXPECT_THAT(error_of(OpKind::ReduceLogSumExp, {ints}),
              HasSubstr("reduce_log_sum_exp expects a float tensor, got i32[2]"));
  Tensor flags = Tensor::of<bool>({2}, {true, false});
  EXPECT_THAT(error_of(OpKind::ReduceSum, {flags}),
              HasSubstr("reduce_sum expects a float or integer tensor, got bool[2]"));
  EXPECT_THAT(error_of(OpKind::ArgMax, {flags}), HasSubstr("argmax expects a float or integer tensor, got bool[2]"));
  EXPECT_THAT(error_of(OpKind::Softmax, {ints}), HasSubstr("softmax expects a float tensor, got i32[2]"));
  EXPECT_THAT(error_of(OpKind::LogSoftmax, {ints}), HasSubstr("log_softmax expects a float tensor, got i32[2]"));
  EXPECT_THAT(error_of(OpKind::LayerNorm, {ints}), HasSubstr("layer_norm expects a float tensor, got i32[2]"));
}

TEST(InterpReduceNormErrors, LayerNormAffineShapes) {
  EXPECT_THAT(error_of(OpKind::LayerNorm, {kRows, T(DType::F32, {4}, {1, 1, 1, 1})}),
              HasSubstr("layer_norm scale f32[4] does not broadcast to the normalized shape [3] of x f32[2, 3]"));
  // A scale of rank above the normalized rank would grow the result.
  EXPECT_THAT(error_of(OpKind::LayerNorm, {kRows, std::nullopt, T(DType::F32, {1, 3}, {0, 0, 0})}),
              HasSubstr("layer_norm bias f32[1, 3] does not broadcast to the normalized shape [3]"));
  EXPECT_THAT(error_of(OpKind::LayerNorm, {kRows, T(DType::F64, {3}, {1, 1, 1})}),
              HasSubstr("layer_norm scale f64[3] must have the dtype of x (f32[2, 3])"));
}

}  // namespace
}  // namespace tessel::testing
