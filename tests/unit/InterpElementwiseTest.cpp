// Interpreter and shape-rule tests for the elementwise families: unary,
// binary, where and cast. Expected values are computed by hand; where a value
// is a constant (erf(1), e, ...) the formula is in a comment.
#include <cmath>
#include <limits>
#include <numbers>

#include <gmock/gmock.h>

#include "tests/unit/InterpTestUtil.h"

namespace tessel {
namespace {

using testing::infer;
using testing::run_error;

using testing::expect_tensor;
using ::testing::HasSubstr;
using testing::Operand;
using testing::run1;
using testing::run_op;
using testing::T;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = std::numbers::pi;
constexpr double kE = std::numbers::e;

constexpr DType kFloatDTypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16};
constexpr DType kSignedDTypes[] = {DType::I8, DType::I16, DType::I32, DType::I64};
constexpr DType kUnsignedDTypes[] = {DType::U8, DType::U16, DType::U32, DType::U64};
constexpr DType kIntDTypes[] = {DType::I8, DType::I16, DType::I32, DType::I64,
                                DType::U8, DType::U16, DType::U32, DType::U64};

const Dim N = Dim::symbol("N");
const Dim M = Dim::symbol("M");

/// Relative + absolute tolerance matching each float dtype's precision (inputs are rounded too).
double tolerance(DType dtype) {
  switch (dtype) {
    case DType::F64: return 1e-12;
    case DType::F16: return 2e-3;
    case DType::BF16: return 1e-2;
    default: return 1e-6;
  }
}

std::string infer_error(OpKind kind, std::vector<TensorType> types, AttrMap attrs = {}) {
  auto result = infer(kind, std::move(types), std::move(attrs));
  EXPECT_FALSE(result.ok()) << "expected " << op_info(kind).name << " to fail";
  return result.ok() ? "" : result.error().str();
}

struct UnaryCase {
  OpKind kind;
  std::vector<double> in, out;
  AttrMap attrs = {};
};

struct BinaryCase {
  OpKind kind;
  std::vector<double> a, b, out;
  AttrMap attrs = {};
};

void run_unary_cases(const std::vector<UnaryCase>& cases, DType dtype, double tol) {
  for (const UnaryCase& c : cases) {
    SCOPED_TRACE(std::string(op_info(c.kind).name) + " on " + std::string(dtype_name(dtype)));
    int64_t n = static_cast<int64_t>(c.in.size());
    expect_tensor(run1(c.kind, {T(dtype, {n}, c.in)}, c.attrs), dtype, {n}, c.out, tol);
  }
}

void run_binary_cases(const std::vector<BinaryCase>& cases, DType dtype, double tol) {
  for (const BinaryCase& c : cases) {
    SCOPED_TRACE(std::string(op_info(c.kind).name) + " on " + std::string(dtype_name(dtype)));
    int64_t n = static_cast<int64_t>(c.a.size());
    expect_tensor(run1(c.kind, {T(dtype, {n}, c.a), T(dtype, {n}, c.b)}, c.attrs), dtype, {n}, c.out, tol);
  }
}

// ---- Unary ------------------------------------------------------------------------------------------

TEST(InterpElementwiseUnary, FloatOpsOnEveryFloatDType) {
  const std::vector<UnaryCase> cases = {
      {OpKind::Neg, {-2.5, 0, 3, kNaN}, {2.5, 0, -3, kNaN}},
      {OpKind::Abs, {-2.5, 0, 3, kNaN, -kInf}, {2.5, 0, 3, kNaN, kInf}},
      {OpKind::Sign, {-2.5, 0, 3, kNaN}, {-1, 0, 1, kNaN}},
      {OpKind::Exp, {0, 1, -1}, {1, kE, 1 / kE}},
      {OpKind::Log, {1, kE, 0, -1}, {0, 1, -kInf, kNaN}},
      {OpKind::Sqrt, {4, 2, -1, 0}, {2, std::numbers::sqrt2, kNaN, 0}},
      {OpKind::Rsqrt, {4, 0.25, 0}, {0.5, 2, kInf}},
      {OpKind::Reciprocal, {2, -0.5, 0}, {0.5, -2, kInf}},
      {OpKind::Tanh, {0, 0.5, -100}, {0, 0.46211715726000974, -1}},
      // 1/(1+e^-2) = 0.8807970779778823; large |x| must not overflow to NaN.
      {OpKind::Sigmoid, {0, 2, -2, 100, -1000}, {0.5, 0.8807970779778823, 0.11920292202211755, 1, 0}},
      {OpKind::Erf, {0, 1, -1, kInf}, {0, 0.8427007929497149, -0.8427007929497149, 1}},
      // 0.5*x*(1+erf(x/sqrt2)): x=1 -> 0.5*(1+0.6826894921370859); x=2 -> 1+erf(sqrt2) = 1.9544997361036416.
      {OpKind::Gelu,
       {0, 1, -1, 2, -kInf, kInf},
       {0, 0.8413447460685429, -0.15865525393145707, 1.9544997361036416, 0, kInf}},
      // 0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715x^3))): x=1 -> 0.5*(1+tanh(0.7978845608*1.044715)).
      {OpKind::Gelu,
       {0, 1, -1, 2},
       {0, 0.8411919906082768, -0.15880800939172324, 1.954597694087775},
       {{"approximate", "tanh"}}},
      {OpKind::Relu, {-1, 0, 2, kNaN}, {0, 0, 2, kNaN}},
      {OpKind::LeakyRelu, {-2, 3, 0}, {-0.2, 3, 0}, {{"alpha", 0.1}}},
      {OpKind::LeakyRelu, {-100, 5}, {-1, 5}},  // default alpha 0.01
      {OpKind::Clip, {-3, 0.5, 5, kNaN}, {-1, 0.5, 2, kNaN}, {{"min", -1.0}, {"max", 2.0}}},
      {OpKind::Clip, {-3, 10}, {0, 10}, {{"min", 0.0}}},                   // max defaults to inf
      {OpKind::Clip, {0, 2, 5}, {1, 1, 1}, {{"min", 3.0}, {"max", 1.0}}},  // min > max: everything is max
      {OpKind::Floor, {-1.5, 1.5, 2, -0.25}, {-2, 1, 2, -1}},
      {OpKind::Ceil, {-1.5, 1.5, 2, 0.25}, {-1, 2, 2, 1}},
      {OpKind::Round, {0.5, 1.5, 2.5, -0.5, -1.5, 2.25, 2.75}, {0, 2, 2, -0.0, -2, 2, 3}},  // half to even
      {OpKind::Sin, {0, kPi / 2, -kPi / 2}, {0, 1, -1}},
      {OpKind::Cos, {0, kPi}, {1, -1}},
      {OpKind::Tan, {0, kPi / 4}, {0, 1}},
      {OpKind::Asin, {1, 0, 2}, {kPi / 2, 0, kNaN}},
      {OpKind::Acos, {1, 0, -1}, {0, kPi / 2, kPi}},
      {OpKind::Atan, {1, kInf, 0}, {kPi / 4, kPi / 2, 0}},
      {OpKind::Sinh, {0, 1}, {0, 1.1752011936438014}},              // (e - 1/e) / 2
      {OpKind::Cosh, {0, 1}, {1, 1.5430806348152437}},              // (e + 1/e) / 2
      {OpKind::Asinh, {0, 1}, {0, 0.881373587019543}},              // ln(1 + sqrt2)
      {OpKind::Acosh, {1, 2, 0.5}, {0, 1.3169578969248166, kNaN}},  // ln(2 + sqrt3)
      {OpKind::Atanh, {0, 0.5, 1}, {0, 0.5493061443340548, kInf}},  // ln(3) / 2
  };
  for (DType dtype : kFloatDTypes) run_unary_cases(cases, dtype, tolerance(dtype));
}

TEST(InterpElementwiseUnary, HalfTypesRoundEachResult) {
  // e = 2.71828...: f16 spacing at 2 is 2^-9, 1391.8 steps -> 1392 * 2^-9 = 2.71875, exactly.
  expect_tensor(run1(OpKind::Exp, {T(DType::F16, {1}, {1})}), DType::F16, {1}, {2.71875}, 0);
  // sqrt2 = 1.41421...: bf16 spacing at 1 is 2^-7, 181.02 steps -> 181 * 2^-7 = 1.4140625.
  expect_tensor(run1(OpKind::Sqrt, {T(DType::BF16, {1}, {2})}), DType::BF16, {1}, {1.4140625}, 0);
  expect_tensor(run1(OpKind::Exp, {T(DType::F64, {1}, {1})}), DType::F64, {1}, {kE}, 1e-16);
}

TEST(InterpElementwiseUnary, SignedZeroAndTinySigmoid) {
  Tensor rounded = run1(OpKind::Round, {T(DType::F32, {2}, {-0.5, 0.5})});
  EXPECT_TRUE(std::signbit(rounded.get_double(0)));  // -0.5 rounds to -0
  EXPECT_FALSE(std::signbit(rounded.get_double(1)));
  // sigmoid(-700) = e^-700 / (1 + e^-700) = 9.85967654375977e-305: computed without cancellation.
  Tensor tiny = run1(OpKind::Sigmoid, {T(DType::F64, {1}, {-700})});
  EXPECT_NEAR(tiny.get_double(0) / 9.85967654375977e-305, 1.0, 1e-12);
}

TEST(InterpElementwiseUnary, SignedIntegerOps) {
  const std::vector<UnaryCase> cases = {
      {OpKind::Neg, {-3, 0, 5}, {3, 0, -5}},
      {OpKind::Abs, {-3, 0, 5}, {3, 0, 5}},
      {OpKind::Sign, {-3, 0, 5}, {-1, 0, 1}},
      {OpKind::Relu, {-3, 0, 5}, {0, 0, 5}},
      // Bounds round toward the interior: [-1.5, 2.5] -> [-1, 2].
      {OpKind::Clip, {-5, -1, 0, 2, 3}, {-1, -1, 0, 2, 2}, {{"min", -1.5}, {"max", 2.5}}},
  };
  for (DType dtype : kSignedDTypes) run_unary_cases(cases, dtype, 0);
}

TEST(InterpElementwiseUnary, UnsignedIntegerOps) {
  const std::vector<UnaryCase> cases = {
      {OpKind::Abs, {0, 7, 200}, {0, 7, 200}},
      {OpKind::Sign, {0, 7, 200}, {0, 1, 1}},
      {OpKind::Relu, {0, 7, 200}, {0, 7, 200}},
      {OpKind::Clip, {0, 7, 200}, {2, 7, 99}, {{"min", 1.2}, {"max", 99.9}}},  // [1.2, 99.9] -> [2, 99]
  };
  for (DType dtype : kUnsignedDTypes) run_unary_cases(cases, dtype, 0);
  EXPECT_THAT(run_error(OpKind::Neg, {T(DType::U8, {3}, {1, 2, 3})}),
              HasSubstr("neg needs a float or signed integer operand, got u8[3]"));
}

TEST(InterpElementwiseUnary, IntegerEdgeCases) {
  // Two's complement: -(-128) and |-128| wrap to -128.
  expect_tensor(run1(OpKind::Neg, {T(DType::I8, {1}, {-128})}), DType::I8, {1}, {-128});
  expect_tensor(run1(OpKind::Abs, {T(DType::I8, {1}, {-128})}), DType::I8, {1}, {-128});
  Tensor min64 = Tensor::of<int64_t>({1}, {std::numeric_limits<int64_t>::min()});
  EXPECT_EQ(run1(OpKind::Abs, {min64}).data<int64_t>()[0], std::numeric_limits<int64_t>::min());
  // Bounds beyond the type's range saturate: [-1000, 1e9] on i8 is the whole range.
  expect_tensor(run1(OpKind::Clip, {T(DType::I8, {2}, {-128, 127})}, {{"min", -1000.0}, {"max", 1e9}}), DType::I8, {2},
                {-128, 127});
  // [0.2, 0.8] contains no integer: interior bounds are 1 > 0, so (as min > max) everything becomes 0.
  expect_tensor(run1(OpKind::Clip, {T(DType::I32, {2}, {-1, 5})}, {{"min", 0.2}, {"max", 0.8}}), DType::I32, {2},
                {0, 0});
}

TEST(InterpElementwiseUnary, BoolOpsAndFloatTests) {
  expect_tensor(run1(OpKind::Not, {T(DType::Bool, {2}, {1, 0})}), DType::Bool, {2}, {0, 1});
  for (DType dtype : kFloatDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor x = T(dtype, {4}, {kNaN, 1, kInf, -kInf});
    expect_tensor(run1(OpKind::IsNan, {x}), DType::Bool, {4}, {1, 0, 0, 0});
    expect_tensor(run1(OpKind::IsInf, {x}), DType::Bool, {4}, {0, 0, 1, 1});
    expect_tensor(run1(OpKind::IsInf, {x}, {{"detect_negative", int64_t{0}}}), DType::Bool, {4}, {0, 0, 1, 0});
    expect_tensor(run1(OpKind::IsInf, {x}, {{"detect_positive", int64_t{0}}}), DType::Bool, {4}, {0, 0, 0, 1});
  }
}

TEST(InterpElementwiseUnary, ScalarsZeroSizeAndSymbolicShapes) {
  expect_tensor(run1(OpKind::Exp, {T(DType::F32, {}, {0})}), DType::F32, {}, {1});
  expect_tensor(run1(OpKind::Relu, {T(DType::F32, {0, 3}, {})}), DType::F32, {0, 3}, {});
  expect_tensor(run1(OpKind::IsNan, {T(DType::F16, {2, 0}, {})}), DType::Bool, {2, 0}, {});
  auto relu = infer(OpKind::Relu, {{DType::F32, {N, 3}}});
  ASSERT_TRUE(relu.ok()) << relu.error().str();
  EXPECT_EQ(relu->at(0), (TensorType{DType::F32, {N, 3}}));
  auto is_inf = infer(OpKind::IsInf, {{DType::BF16, {N * 2}}});
  ASSERT_TRUE(is_inf.ok()) << is_inf.error().str();
  EXPECT_EQ(is_inf->at(0), (TensorType{DType::Bool, {N * 2}}));
}

TEST(InterpElementwiseUnary, DTypeErrors) {
  const OpKind float_only[] = {OpKind::Exp,   OpKind::Log,     OpKind::Sqrt,  OpKind::Rsqrt, OpKind::Reciprocal,
                               OpKind::Tanh,  OpKind::Sigmoid, OpKind::Erf,   OpKind::Gelu,  OpKind::LeakyRelu,
                               OpKind::Floor, OpKind::Ceil,    OpKind::Round, OpKind::Sin,   OpKind::Cos,
                               OpKind::Tan,   OpKind::Asin,    OpKind::Acos,  OpKind::Atan,  OpKind::Sinh,
                               OpKind::Cosh,  OpKind::Asinh,   OpKind::Acosh, OpKind::Atanh, OpKind::IsNan,
                               OpKind::IsInf};
  for (OpKind kind : float_only) {
    std::string name(op_info(kind).name);
    EXPECT_THAT(infer_error(kind, {{DType::I32, {2}}}), HasSubstr(name + " needs a float operand"));
    EXPECT_THAT(infer_error(kind, {{DType::Bool, {2}}}), HasSubstr("got bool[2]"));
  }
  for (OpKind kind : {OpKind::Abs, OpKind::Sign, OpKind::Relu, OpKind::Clip})
    EXPECT_THAT(infer_error(kind, {{DType::Bool, {N}}}),
                HasSubstr("needs a numeric (float or integer) operand, got bool[N]"));
  EXPECT_THAT(infer_error(OpKind::Neg, {{DType::Bool, {1}}}), HasSubstr("float or signed integer"));
  EXPECT_THAT(run_error(OpKind::Not, {T(DType::F32, {2}, {1, 0})}),
              HasSubstr("not needs a bool or integer operand, got f32[2]"));
  EXPECT_THAT(run_error(OpKind::Exp, {T(DType::I64, {3}, {1, 2, 3})}),
              HasSubstr("exp needs a float operand (f32, f64, f16 or bf16), got i64[3]"));
}

TEST(InterpElementwiseUnary, AttributeErrors) {
  EXPECT_THAT(infer_error(OpKind::Gelu, {{DType::F32, {2}}}, {{"approximate", "erf"}}),
              HasSubstr("gelu attribute approximate must be \"none\" or \"tanh\", got \"erf\""));
  EXPECT_THAT(run_error(OpKind::Clip, {T(DType::F32, {1}, {0})}, {{"min", kNaN}}),
              HasSubstr("clip bounds must not be NaN"));
}

// ---- Binary -----------------------------------------------------------------------------------------

TEST(InterpElementwiseBinary, FloatOpsOnEveryFloatDType) {
  const std::vector<BinaryCase> cases = {
      {OpKind::Add, {1.5, -2, 0.25, kNaN}, {0.5, 4, -1, 1}, {2, 2, -0.75, kNaN}},
      {OpKind::Sub, {1.5, -2, 0.25, 1}, {0.5, 4, -1, kNaN}, {1, -6, 1.25, kNaN}},
      {OpKind::Mul, {1.5, -2, 0.25}, {0.5, 4, -1}, {0.75, -8, -0.25}},
      {OpKind::Div, {1.5, -2, 0.25, 1, -1, 0}, {0.5, 4, -1, 0, 0, 0}, {3, -0.5, -0.25, kInf, -kInf, kNaN}},
      {OpKind::Pow, {2, 4, 2, -8, 0}, {3, 0.5, -1, 0.5, 0}, {8, 2, 0.5, kNaN, 1}},
      {OpKind::Min, {1, -5, kNaN, 2}, {3, -7, 1, kNaN}, {1, -7, kNaN, kNaN}},
      {OpKind::Max, {1, -5, kNaN, 2}, {3, -7, 1, kNaN}, {3, -5, kNaN, kNaN}},
      // Python %: sign of the divisor. 5.5 % -2 = 5.5 - 2*(-3) ... = -0.5; -5.5 % 2 = 0.5.
      {OpKind::Mod, {5.5, -5.5, 5.5, -5.5, 4, 1}, {2, 2, -2, -2, 2, 0}, {1.5, 0.5, -0.5, -1.5, 0, kNaN}},
      // C fmod: sign of the dividend.
      {OpKind::Mod,
       {5.5, -5.5, 5.5, -5.5, 4, 1},
       {2, 2, -2, -2, 2, 0},
       {1.5, -1.5, 1.5, -1.5, 0, kNaN},
       {{"fmod", int64_t{1}}}},
  };
  for (DType dtype : kFloatDTypes) run_binary_cases(cases, dtype, 0);
}

TEST(InterpElementwiseBinary, FloatModZeroTakesDivisorSign) {
  // Python: 4.0 % -2.0 == -0.0 and -4.0 % 2.0 == 0.0.
  Tensor r = run1(OpKind::Mod, {T(DType::F64, {2}, {4, -4}), T(DType::F64, {2}, {-2, 2})});
  EXPECT_TRUE(std::signbit(r.get_double(0)));
  EXPECT_FALSE(std::signbit(r.get_double(1)));
}

TEST(InterpElementwiseBinary, HalfTypesRoundEachResult) {
  // f16 spacing at 2048 is 2: 2048 + 1 is a tie and rounds to the even 2048; 65504 + 32 passes 65520 -> inf.
  expect_tensor(run1(OpKind::Add, {T(DType::F16, {2}, {2048, 65504}), T(DType::F16, {2}, {1, 32})}), DType::F16, {2},
                {2048, kInf}, 0);
  // bf16 spacing at 256 is 2: 256 + 1 ties to 256, 256 + 3 = 259 ties to the even 260.
  expect_tensor(run1(OpKind::Add, {T(DType::BF16, {2}, {256, 256}), T(DType::BF16, {2}, {1, 3})}), DType::BF16, {2},
                {256, 260}, 0);
}

TEST(InterpElementwiseBinary, IntegerOpsOnEveryIntDType) {
  const std::vector<BinaryCase> cases = {
      {OpKind::Add, {1, 2, 100}, {4, 5, 20}, {5, 7, 120}},
      {OpKind::Sub, {10, 7, 100}, {4, 7, 1}, {6, 0, 99}},
      {OpKind::Mul, {3, 0, 11}, {4, 9, 11}, {12, 0, 121}},
      {OpKind::Div, {7, 9, 100, 5}, {2, 3, 7, 0}, {3, 3, 14, 0}},  // truncates; x / 0 = 0
      {OpKind::Mod, {7, 9, 100, 5}, {2, 3, 7, 0}, {1, 0, 2, 0}},   // x % 0 = 0
      {OpKind::Mod, {7, 9, 100, 5}, {2, 3, 7, 0}, {1, 0, 2, 0}, {{"fmod", int64_t{1}}}},
      {OpKind::Pow, {2, 3, 5, 0}, {3, 2, 0, 0}, {8, 9, 1, 1}},
      {OpKind::Min, {1, 9, 100}, {3, 7, 100}, {1, 7, 100}},
      {OpKind::Max, {1, 9, 100}, {3, 7, 100}, {3, 9, 100}},
  };
  for (DType dtype : kIntDTypes) run_binary_cases(cases, dtype, 0);
}

TEST(InterpElementwiseBinary, SignedDivisionAndModRules) {
  Tensor a = T(DType::I32, {6}, {7, -7, 7, -7, 5, 6});
  Tensor b = T(DType::I32, {6}, {3, 3, -3, -3, 0, 3});
  expect_tensor(run1(OpKind::Div, {a, b}), DType::I32, {6}, {2, -2, -2, 2, 0, 2});  // toward zero
  expect_tensor(run1(OpKind::Mod, {a, b}), DType::I32, {6}, {1, 2, -2, -1, 0, 0});  // sign of divisor
  expect_tensor(run1(OpKind::Mod, {a, b}, {{"fmod", int64_t{1}}}), DType::I32, {6}, {1, -1, 1, -1, 0, 0});
  // INT_MIN / -1 wraps to INT_MIN and INT_MIN % -1 is 0 (neither traps).
  expect_tensor(run1(OpKind::Div, {T(DType::I8, {1}, {-128}), T(DType::I8, {1}, {-1})}), DType::I8, {1}, {-128});
  expect_tensor(run1(OpKind::Mod, {T(DType::I8, {1}, {-128}), T(DType::I8, {1}, {-1})}), DType::I8, {1}, {0});
  Tensor min64 = Tensor::of<int64_t>({1}, {std::numeric_limits<int64_t>::min()});
  Tensor minus1 = Tensor::of<int64_t>({1}, {-1});
  EXPECT_EQ(run1(OpKind::Div, {min64, minus1}).data<int64_t>()[0], std::numeric_limits<int64_t>::min());
  expect_tensor(run1(OpKind::Min, {T(DType::I16, {2}, {-5, 3}), T(DType::I16, {2}, {-7, 4})}), DType::I16, {2},
                {-7, 3});
}

TEST(InterpElementwiseBinary, IntegerOverflowWraps) {
  auto check = [](OpKind kind, DType dtype, double a, double b, double expected) {
    SCOPED_TRACE(std::string(op_info(kind).name) + " " + std::string(dtype_name(dtype)));
    expect_tensor(run1(kind, {T(dtype, {1}, {a}), T(dtype, {1}, {b})}), dtype, {1}, {expected});
  };
  check(OpKind::Add, DType::I8, 127, 1, -128);
  check(OpKind::Sub, DType::I8, -128, 1, 127);
  check(OpKind::Mul, DType::I8, 16, 16, 0);         // 256 mod 2^8
  check(OpKind::Mul, DType::I16, 300, 300, 24464);  // 90000 - 65536
  check(OpKind::Mul, DType::U16, 65535, 65535, 1);  // (2^16-1)^2 = 2^32 - 2^17 + 1
  check(OpKind::Add, DType::U8, 250, 10, 4);
  check(OpKind::Sub, DType::U8, 3, 5, 254);
  check(OpKind::Add, DType::I32, 2147483647, 1, -2147483648.0);
  check(OpKind::Pow, DType::I8, 2, 7, -128);  // 128 wraps
  check(OpKind::Pow, DType::I8, 3, 5, -13);   // 243 - 256
  check(OpKind::Pow, DType::U8, 2, 9, 0);     // 512 mod 256
  Tensor max64 = Tensor::of<int64_t>({1}, {std::numeric_limits<int64_t>::max()});
  EXPECT_EQ(run1(OpKind::Add, {max64, Tensor::of<int64_t>({1}, {1})}).data<int64_t>()[0],
            std::numeric_limits<int64_t>::min());
  Tensor zero = Tensor::of<uint64_t>({1}, {0});
  EXPECT_EQ(run1(OpKind::Sub, {zero, Tensor::of<uint64_t>({1}, {1})}).data<uint64_t>()[0],
            std::numeric_limits<uint64_t>::max());
}

TEST(InterpElementwiseBinary, PowMixedDTypes) {
  // Integer power with negative exponents: 0 except for bases 1 and -1.
  expect_tensor(run1(OpKind::Pow, {T(DType::I32, {5}, {2, 1, -1, -1, 0}), T(DType::I32, {5}, {-1, -5, -2, -3, -1})}),
                DType::I32, {5}, {0, 1, 1, -1, 0});
  expect_tensor(run1(OpKind::Pow, {T(DType::I32, {2}, {-2, 10}), T(DType::I32, {2}, {3, 9})}), DType::I32, {2},
                {-8, 1e9});
  // Exponent of another integer dtype; result keeps the base dtype.
  expect_tensor(run1(OpKind::Pow, {T(DType::I64, {1}, {3}), T(DType::I8, {1}, {4})}), DType::I64, {1}, {81});
  // Integer base, float exponent: double result truncated and saturated: sqrt2 -> 1, 9^0.5 = 3, 10^-1 -> 0.
  expect_tensor(run1(OpKind::Pow, {T(DType::I32, {3}, {2, 9, 10}), T(DType::F32, {3}, {0.5, 0.5, -1})}), DType::I32,
                {3}, {1, 3, 0});
  expect_tensor(run1(OpKind::Pow, {T(DType::U8, {1}, {2}), T(DType::F64, {1}, {10})}), DType::U8, {1}, {255});
  // Float base, integer exponent.
  expect_tensor(run1(OpKind::Pow, {T(DType::F32, {2}, {2, 3}), T(DType::I32, {2}, {10, -2})}), DType::F32, {2},
                {1024, 1.0 / 9});
  expect_tensor(run1(OpKind::Pow, {T(DType::F16, {1}, {1.5}), T(DType::U8, {1}, {2})}), DType::F16, {1}, {2.25}, 0);
}

TEST(InterpElementwiseBinary, LogicalOps) {
  Tensor a = T(DType::Bool, {4}, {1, 1, 0, 0});
  Tensor b = T(DType::Bool, {4}, {1, 0, 1, 0});
  expect_tensor(run1(OpKind::And, {a, b}), DType::Bool, {4}, {1, 0, 0, 0});
  expect_tensor(run1(OpKind::Or, {a, b}), DType::Bool, {4}, {1, 1, 1, 0});
  expect_tensor(run1(OpKind::Xor, {a, b}), DType::Bool, {4}, {0, 1, 1, 0});
  expect_tensor(run1(OpKind::And, {T(DType::Bool, {2, 1}, {1, 0}), T(DType::Bool, {3}, {1, 0, 1})}), DType::Bool,
                {2, 3}, {1, 0, 1, 0, 0, 0});
  // Integers are bitwise (InterpBitwiseTest.cpp); floats are rejected.
  EXPECT_THAT(run_error(OpKind::Or, {T(DType::F32, {2}, {1, 0}), T(DType::F32, {2}, {1, 0})}),
              HasSubstr("or needs bool or integer operands, got f32[2]"));
}

TEST(InterpElementwiseBinary, Comparisons) {
  const std::vector<double> a = {1, 2, 3, kNaN}, b = {2, 2, 2, kNaN};
  const std::pair<OpKind, std::vector<double>> cases[] = {
      {OpKind::Equal, {0, 1, 0, 0}},   {OpKind::Less, {1, 0, 0, 0}},         {OpKind::LessEqual, {1, 1, 0, 0}},
      {OpKind::Greater, {0, 0, 1, 0}}, {OpKind::GreaterEqual, {0, 1, 1, 0}},
  };
  for (DType dtype : kComputeDTypes) {
    if (dtype == DType::Bool) continue;
    int64_t n = is_float(dtype) ? 4 : 3;  // NaN only where it exists
    for (const auto& [kind, expected] : cases) {
      SCOPED_TRACE(std::string(op_info(kind).name) + " on " + std::string(dtype_name(dtype)));
      expect_tensor(run1(kind, {T(dtype, {n}, a), T(dtype, {n}, b)}), DType::Bool, {n},
                    std::vector<double>(expected.begin(), expected.begin() + n));
    }
  }
  expect_tensor(run1(OpKind::Equal, {T(DType::Bool, {2}, {1, 0}), T(DType::Bool, {2}, {1, 1})}), DType::Bool, {2},
                {1, 0});
  expect_tensor(run1(OpKind::Less, {T(DType::I8, {2}, {-1, 5}), T(DType::I8, {}, {0})}), DType::Bool, {2}, {1, 0});
  EXPECT_THAT(run_error(OpKind::Less, {T(DType::Bool, {2}, {1, 0}), T(DType::Bool, {2}, {1, 1})}),
              HasSubstr("less needs numeric (float or integer) operands, got bool[2]"));
}

TEST(InterpElementwiseBinary, Broadcasting) {
  // Scalar with tensor, both orders.
  expect_tensor(run1(OpKind::Add, {T(DType::F32, {}, {10}), T(DType::F32, {2, 2}, {1, 2, 3, 4})}), DType::F32, {2, 2},
                {11, 12, 13, 14});
  expect_tensor(run1(OpKind::Sub, {T(DType::F32, {2, 2}, {1, 2, 3, 4}), T(DType::F32, {}, {10})}), DType::F32, {2, 2},
                {-9, -8, -7, -6});
  // [3,1] + [1,4]: out[i][j] = a[i] + b[j].
  expect_tensor(run1(OpKind::Add, {T(DType::I32, {3, 1}, {0, 10, 20}), T(DType::I32, {1, 4}, {1, 2, 3, 4})}),
                DType::I32, {3, 4}, {1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24});
  // Rank mismatch: [3] - [2,3] subtracts each row from the vector (operand order kept).
  expect_tensor(run1(OpKind::Sub, {T(DType::F64, {3}, {10, 20, 30}), T(DType::F64, {2, 3}, {1, 2, 3, 4, 5, 6})}),
                DType::F64, {2, 3}, {9, 18, 27, 6, 15, 24});
  // [2,1,3] * [4,1] -> [2,4,3]: out[i][j][k] = a[i][0][k] * b[j][0].
  std::vector<double> av = {1, 2, 3, 4, 5, 6}, bv = {1, 10, 100, 1000}, expected;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 3; ++k) expected.push_back(av[i * 3 + k] * bv[j]);
  expect_tensor(run1(OpKind::Mul, {T(DType::F32, {2, 1, 3}, av), T(DType::F32, {4, 1}, bv)}), DType::F32, {2, 4, 3},
                expected);
}

TEST(InterpElementwiseBinary, ZeroSizeDims) {
  expect_tensor(run1(OpKind::Add, {T(DType::F32, {0, 3}, {}), T(DType::F32, {1, 3}, {1, 2, 3})}), DType::F32, {0, 3},
                {});
  expect_tensor(run1(OpKind::Mul, {T(DType::I64, {0, 1}, {}), T(DType::I64, {1, 4}, {1, 2, 3, 4})}), DType::I64, {0, 4},
                {});
  expect_tensor(run1(OpKind::Less, {T(DType::F32, {0}, {}), T(DType::F32, {}, {1})}), DType::Bool, {0}, {});
  EXPECT_THAT(run_error(OpKind::Add, {T(DType::F32, {0}, {}), T(DType::F32, {2}, {1, 2})}),
              HasSubstr("do not broadcast (dim 0 vs 2)"));
}

TEST(InterpElementwiseBinary, SymbolicShapeRules) {
  auto sum = infer(OpKind::Add, {{DType::F32, {N, 1}}, {DType::F32, {1, 4}}});
  ASSERT_TRUE(sum.ok()) << sum.error().str();
  EXPECT_EQ(sum->at(0), (TensorType{DType::F32, {N, 4}}));
  auto cmp = infer(OpKind::Greater, {{DType::I32, {N * 2, 3}}, {DType::I32, {3}}});
  ASSERT_TRUE(cmp.ok()) << cmp.error().str();
  EXPECT_EQ(cmp->at(0), (TensorType{DType::Bool, {N * 2, 3}}));
  auto same = infer(OpKind::Max, {{DType::F16, {N, M}}, {DType::F16, {N, M}}});
  ASSERT_TRUE(same.ok()) << same.error().str();
  EXPECT_EQ(same->at(0), (TensorType{DType::F16, {N, M}}));
  EXPECT_THAT(infer_error(OpKind::Add, {{DType::F32, {N}}, {DType::F32, {M}}}),
              HasSubstr("add: shapes [N] and [M] do not broadcast (dim N vs M)"));
}

TEST(InterpElementwiseBinary, Errors) {
  std::string mismatch = run_error(OpKind::Add, {T(DType::F32, {2}, {1, 2}), T(DType::I32, {2}, {1, 2})});
  EXPECT_THAT(mismatch, HasSubstr("op 'add'"));
  EXPECT_THAT(mismatch,
              HasSubstr("add needs operands of the same dtype (no implicit promotion), got f32[2] and i32[2]"));
  EXPECT_THAT(run_error(OpKind::Mul, {T(DType::Bool, {2}, {1, 0}), T(DType::Bool, {2}, {1, 1})}),
              HasSubstr("mul needs numeric (float or integer) operands, got bool[2] for the first operand"));
  EXPECT_THAT(infer_error(OpKind::Pow, {{DType::F32, {2}}, {DType::Bool, {2}}}),
              HasSubstr("pow needs numeric (float or integer) operands, got bool[2] for the exponent"));
  EXPECT_THAT(run_error(OpKind::Add, {T(DType::F32, {2, 3}, {}), T(DType::F32, {4}, {})}),
              HasSubstr("add: shapes [2, 3] and [4] do not broadcast (dim 3 vs 4)"));
  EXPECT_THAT(infer_error(OpKind::Mod, {{DType::I32, {2}}, {DType::I32, {2}}}, {{"fmod", int64_t{2}}}),
              HasSubstr("mod attribute fmod must be 0 or 1, got 2"));
}

// ---- where ------------------------------------------------------------------------------------------

TEST(InterpElementwiseSelect, PicksPerElementForEveryDType) {
  Tensor cond = T(DType::Bool, {3}, {1, 0, 1});
  for (DType dtype : kComputeDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    // Picks a[0], b[1], a[2]; bool sees the same values as != 0.
    std::vector<double> expected = dtype == DType::Bool ? std::vector<double>{1, 1, 0} : std::vector<double>{1, 5, 0};
    expect_tensor(run1(OpKind::Where, {cond, T(dtype, {3}, {1, 2, 0}), T(dtype, {3}, {0, 5, 7})}), dtype, {3},
                  expected);
  }
  expect_tensor(run1(OpKind::Where, {cond, T(DType::F32, {3}, {1, 2, 3}), T(DType::F32, {3}, {10, kNaN, 30})}),
                DType::F32, {3}, {1, kNaN, 3});
}

TEST(InterpElementwiseSelect, ThreeWayBroadcasting) {
  // cond [2,1], a [1,3], b scalar -> [2,3]: row 0 from a, row 1 from b.
  expect_tensor(
      run1(OpKind::Where, {T(DType::Bool, {2, 1}, {1, 0}), T(DType::I16, {1, 3}, {1, 2, 3}), T(DType::I16, {}, {-1})}),
      DType::I16, {2, 3}, {1, 2, 3, -1, -1, -1});
  // cond [3] alternates along the last axis of a [2,3]; b [2,1] per row.
  expect_tensor(run1(OpKind::Where, {T(DType::Bool, {3}, {1, 0, 1}), T(DType::F64, {2, 3}, {1, 2, 3, 4, 5, 6}),
                                     T(DType::F64, {2, 1}, {-1, -2})}),
                DType::F64, {2, 3}, {1, -1, 3, 4, -2, 6});
  expect_tensor(run1(OpKind::Where, {T(DType::Bool, {}, {0}), T(DType::F32, {}, {1}), T(DType::F32, {}, {2})}),
                DType::F32, {}, {2});
  expect_tensor(
      run1(OpKind::Where, {T(DType::Bool, {0, 1}, {}), T(DType::F32, {1, 3}, {1, 2, 3}), T(DType::F32, {1}, {0})}),
      DType::F32, {0, 3}, {});
  auto type = infer(OpKind::Where, {{DType::Bool, {N, 1}}, {DType::BF16, {1, 4}}, {DType::BF16, {}}});
  ASSERT_TRUE(type.ok()) << type.error().str();
  EXPECT_EQ(type->at(0), (TensorType{DType::BF16, {N, 4}}));
}

TEST(InterpElementwiseSelect, Errors) {
  Tensor x = T(DType::F32, {3}, {1, 2, 3});
  EXPECT_THAT(run_error(OpKind::Where, {x, x, x}), HasSubstr("where needs a bool condition, got f32[3]"));
  EXPECT_THAT(run_error(OpKind::Where, {T(DType::Bool, {3}, {}), x, T(DType::F64, {3}, {})}),
              HasSubstr("where needs both branches of the same dtype (no implicit promotion), got f32[3] and f64[3]"));
  EXPECT_THAT(infer_error(OpKind::Where, {{DType::Bool, {2}}, {DType::F32, {3}}, {DType::F32, {1}}}),
              HasSubstr("where: condition [2], first branch [3] and second branch [1] do not broadcast together"));
  EXPECT_THAT(infer_error(OpKind::Where, {{DType::Bool, {N}}, {DType::F32, {1}}, {DType::F32, {M}}}),
              HasSubstr("do not broadcast together"));
}

// ---- cast -------------------------------------------------------------------------------------------

Tensor cast(const Tensor& x, DType to) { return run1(OpKind::Cast, {x}, {{"to", to}}); }

TEST(InterpElementwiseCast, FloatToIntTruncatesAndSaturates) {
  Tensor x = T(DType::F32, {4}, {1.9, -1.9, 0.5, -0.5});
  for (DType dtype : kSignedDTypes) expect_tensor(cast(x, dtype), dtype, {4}, {1, -1, 0, 0});
  Tensor wide = T(DType::F64, {7}, {300, -300, 1e10, -1e10, kInf, -kInf, kNaN});
  expect_tensor(cast(wide, DType::I8), DType::I8, {7}, {127, -128, 127, -128, 127, -128, 0});
  expect_tensor(cast(wide, DType::U8), DType::U8, {7}, {255, 0, 255, 0, 255, 0, 0});
  expect_tensor(cast(wide, DType::I32), DType::I32, {7},
                {300, -300, 2147483647, -2147483648.0, 2147483647, -2147483648.0, 0});
  Tensor i64 = cast(wide, DType::I64);
  EXPECT_EQ(i64.data<int64_t>()[2], 10000000000);
  EXPECT_EQ(i64.data<int64_t>()[4], std::numeric_limits<int64_t>::max());
  EXPECT_EQ(i64.data<int64_t>()[5], std::numeric_limits<int64_t>::min());
  EXPECT_EQ(cast(T(DType::F64, {1}, {1e20}), DType::U64).data<uint64_t>()[0], std::numeric_limits<uint64_t>::max());
  expect_tensor(cast(T(DType::F16, {2}, {-1, 65504}), DType::U16), DType::U16, {2}, {0, 65504});
  expect_tensor(cast(T(DType::BF16, {2}, {-2.5, kNaN}), DType::I16), DType::I16, {2}, {-2, 0});
}

TEST(InterpElementwiseCast, IntToIntWrapsAndBoolIsNonZero) {
  expect_tensor(cast(T(DType::I32, {3}, {300, -1, 256}), DType::U8), DType::U8, {3}, {44, 255, 0});
  expect_tensor(cast(T(DType::U8, {1}, {200}), DType::I8), DType::I8, {1}, {-56});  // 200 - 256
  expect_tensor(cast(T(DType::I64, {1}, {-1}), DType::U32), DType::U32, {1}, {4294967295.0});
  expect_tensor(cast(T(DType::I8, {1}, {-1}), DType::I64), DType::I64, {1}, {-1});  // sign-extends
  expect_tensor(cast(T(DType::F32, {5}, {0, -0.0, 0.1, kNaN, -kInf}), DType::Bool), DType::Bool, {5}, {0, 0, 1, 1, 1});
  expect_tensor(cast(T(DType::I32, {3}, {0, 5, -1}), DType::Bool), DType::Bool, {3}, {0, 1, 1});
  Tensor flags = T(DType::Bool, {2}, {1, 0});
  for (DType dtype : kComputeDTypes) expect_tensor(cast(flags, dtype), dtype, {2}, {1, 0});
}

TEST(InterpElementwiseCast, RoundsToNearestEvenOnce) {
  const double ulp11 = std::ldexp(1.0, -11), ulp23 = std::ldexp(1.0, -23);
  // f16 keeps 10 fraction bits: 1 + 2^-11 is a tie (-> 1), a float ulp above it rounds up to 1 + 2^-10,
  // 1 + 2^-10 + tiny stays 1.0009765625, and 1 + 3*2^-11 ties up to the even 1 + 2^-9.
  Tensor x = T(DType::F32, {6}, {1 + ulp11, 1 + ulp11 + ulp23, 1.0009765625 + ulp23, 1 + 3 * ulp11, 65519, 65520});
  expect_tensor(cast(x, DType::F16), DType::F16, {6}, {1, 1.0009765625, 1.0009765625, 1.001953125, 65504, kInf}, 0);
  // Below half the smallest subnormal (2^-25) flushes to 0; just above rounds up to 2^-24.
  expect_tensor(cast(T(DType::F32, {3}, {1e-8, 3e-8, kNaN}), DType::F16), DType::F16, {3},
                {0, std::ldexp(1.0, -24), kNaN}, 0);
  // f64 -> f16 in one rounding: via f32 the 2^-40 would be lost, leaving a tie that rounds down to 1.
  expect_tensor(cast(T(DType::F64, {1}, {1 + ulp11 + std::ldexp(1.0, -40)}), DType::F16), DType::F16, {1},
                {1.0009765625}, 0);
  // bf16 keeps 7 fraction bits: 1 + 2^-8 + 2^-40 rounds up to 1 + 2^-7.
  expect_tensor(cast(T(DType::F64, {1}, {1 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40)}), DType::BF16), DType::BF16,
                {1}, {1.0078125}, 0);
  // i64 2^62 + 2^54 + 1 is just above the bf16 tie between 2^62 and 2^62 + 2^55.
  Tensor big = Tensor::of<int64_t>({1}, {(int64_t{1} << 62) + (int64_t{1} << 54) + 1});
  expect_tensor(cast(big, DType::BF16), DType::BF16, {1}, {std::ldexp(1.0, 62) + std::ldexp(1.0, 55)}, 0);
  // Integers to f16: 2049 ties to 2048, 2051 ties to 2052, 70000 overflows.
  expect_tensor(cast(T(DType::I32, {3}, {2049, 2051, 70000}), DType::F16), DType::F16, {3}, {2048, 2052, kInf}, 0);
  expect_tensor(cast(T(DType::I32, {1}, {16777217}), DType::F32), DType::F32, {1}, {16777216}, 0);  // 2^24 + 1
  Tensor umax = Tensor::of<uint64_t>({1}, {std::numeric_limits<uint64_t>::max()});
  expect_tensor(cast(umax, DType::F32), DType::F32, {1}, {std::ldexp(1.0, 64)}, 0);
}

TEST(InterpElementwiseCast, BetweenFloatTypes) {
  expect_tensor(cast(T(DType::F16, {2}, {1.0009765625, -kInf}), DType::F32), DType::F32, {2}, {1.0009765625, -kInf}, 0);
  // bf16 spacing at 1 is 2^-7: 1 + 2^-10 rounds to 1.
  expect_tensor(cast(T(DType::F16, {1}, {1.0009765625}), DType::BF16), DType::BF16, {1}, {1}, 0);
  expect_tensor(cast(T(DType::BF16, {1}, {3.140625}), DType::F16), DType::F16, {1}, {3.140625}, 0);
  // The f32 nearest 0.1 is 0.100000001490116119384765625, exactly representable in f64.
  expect_tensor(cast(T(DType::F32, {1}, {0.1}), DType::F64), DType::F64, {1}, {0.100000001490116119384765625}, 0);
  expect_tensor(cast(T(DType::F64, {2}, {0.1, 1e300}), DType::F32), DType::F32, {2}, {0.1f, kInf}, 0);
  expect_tensor(cast(T(DType::F64, {1}, {1e300}), DType::BF16), DType::BF16, {1}, {kInf}, 0);
}

TEST(InterpElementwiseCast, ShapesAndErrors) {
  Tensor same = T(DType::I16, {2}, {1, -2});
  expect_tensor(cast(same, DType::I16), DType::I16, {2}, {1, -2});
  expect_tensor(cast(T(DType::F32, {0, 2}, {}), DType::I32), DType::I32, {0, 2}, {});
  expect_tensor(cast(T(DType::F32, {}, {-7.5}), DType::I8), DType::I8, {}, {-7});
  auto type = infer(OpKind::Cast, {{DType::F32, {N, 2}}}, {{"to", DType::I8}});
  ASSERT_TRUE(type.ok()) << type.error().str();
  EXPECT_EQ(type->at(0), (TensorType{DType::I8, {N, 2}}));
  EXPECT_THAT(infer_error(OpKind::Cast, {{DType::F32, {2}}}), HasSubstr("cast requires attribute 'to'"));
}

}  // namespace
}  // namespace tessel
