// Interpreter and shape-rule tests for the matmul family: matmul (numpy batching, 1-D promotion, symbolic
// batch dims) and gemm (transposes, alpha/beta, C broadcast). Expected values are computed by hand; the
// arithmetic is in a comment where it is not obvious.
#include <limits>

#include <gmock/gmock.h>

#include "tests/unit/InterpTestUtil.h"

namespace tessel {
namespace {

using testing::infer;
using testing::infer_type;
using testing::run_error;
using testing::run_typed;

using testing::expect_tensor;
using ::testing::HasSubstr;
using testing::Operand;
using testing::run1;
using testing::run_op;
using testing::T;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr DType kFloatDTypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16};
constexpr DType kIntDTypes[] = {DType::I8, DType::I16, DType::I32, DType::I64,
                                DType::U8, DType::U16, DType::U32, DType::U64};

const Dim N = Dim::symbol("N");

// ---- matmul -------------------------------------------------------------------------------------------

TEST(InterpMatMul, TwoByThreeTimesThreeByTwo) {
  // [1 2 3; 4 5 6] * [7 8; 9 10; 11 12]: 1*7+2*9+3*11 = 58, 1*8+2*10+3*12 = 64, 4*7+5*9+6*11 = 139, 4*8+5*10+6*12 =
  // 154.
  Tensor y =
      run1(OpKind::MatMul, {T(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6}), T(DType::F32, {3, 2}, {7, 8, 9, 10, 11, 12})});
  expect_tensor(y, DType::F32, {2, 2}, {58, 64, 139, 154});
}

TEST(InterpMatMul, EveryFloatDType) {
  for (DType dtype : kFloatDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    // [1 -2; 0.5 4] * [2 0; 1 -1] = [1*2-2*1, 0+2; 0.5*2+4*1, 0-4] = [0 2; 5 -4] (exact in every float type).
    Tensor y = run1(OpKind::MatMul, {T(dtype, {2, 2}, {1, -2, 0.5, 4}), T(dtype, {2, 2}, {2, 0, 1, -1})});
    expect_tensor(y, dtype, {2, 2}, {0, 2, 5, -4});
  }
}

TEST(InterpMatMul, OneDimensionalOperandsArePromotedThenSqueezed) {
  // 1-D . 1-D: 1*4 + 2*5 + 3*6 = 32, a scalar.
  expect_tensor(run1(OpKind::MatMul, {T(DType::F32, {3}, {1, 2, 3}), T(DType::F32, {3}, {4, 5, 6})}), DType::F32, {},
                {32});
  // [1 2] * [1 2 3; 4 5 6] = [1+8, 2+10, 3+12], shape [3] (the prepended 1 is removed).
  expect_tensor(run1(OpKind::MatMul, {T(DType::F32, {2}, {1, 2}), T(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6})}),
                DType::F32, {3}, {9, 12, 15});
  // [1 2 3; 4 5 6] * [1 0 -1] = [1-3, 4-6], shape [2] (the appended 1 is removed).
  expect_tensor(run1(OpKind::MatMul, {T(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6}), T(DType::F32, {3}, {1, 0, -1})}),
                DType::F32, {2}, {-2, -2});
  // 1-D times a batch of two 2x2 matrices: [1 2] * [1 2; 3 4] = [7 10], [1 2] * [0 1; 1 0] = [2 1]; shape [2, 2].
  expect_tensor(run1(OpKind::MatMul, {T(DType::F32, {2}, {1, 2}), T(DType::F32, {2, 2, 2}, {1, 2, 3, 4, 0, 1, 1, 0})}),
                DType::F32, {2, 2}, {7, 10, 2, 1});
  // A batch of two 2x2 matrices times 1-D [1 1]: row sums, shape [2, 2].
  expect_tensor(run1(OpKind::MatMul, {T(DType::F32, {2, 2, 2}, {1, 2, 3, 4, 0, 1, 1, 0}), T(DType::F32, {2}, {1, 1})}),
                DType::F32, {2, 2}, {3, 7, 1, 1});
}

TEST(InterpMatMul, BatchDimsBroadcast) {
  // A[2, 1, 2, 2] = {1*I, 2*I}; B[3, 2, 2] = {P, Q, R}: result[i, j] = (i+1) * B[j], shape [2, 3, 2, 2].
  Tensor a = T(DType::F32, {2, 1, 2, 2}, {1, 0, 0, 1, 2, 0, 0, 2});
  Tensor b = T(DType::F32, {3, 2, 2}, {1, 2, 3, 4, 0, 1, 1, 0, -1, 0, 0, 5});
  expect_tensor(run1(OpKind::MatMul, {a, b}), DType::F32, {2, 3, 2, 2},
                {1, 2, 3, 4, 0, 1, 1, 0, -1, 0, 0, 5, 2, 4, 6, 8, 0, 2, 2, 0, -2, 0, 0, 10});
  // A's batch of one broadcasts against B's batch of two: A[1, 1, 2] = [1 1] times B[0] = [3; 4] -> 7 and
  // B[1] = [5; -1] -> 4.
  expect_tensor(run1(OpKind::MatMul, {T(DType::F32, {1, 1, 2}, {1, 1}), T(DType::F32, {2, 2, 1}, {3, 4, 5, -1})}),
                DType::F32, {2, 1, 1}, {7, 4});
}

TEST(InterpMatMul, IntegersWrapAround) {
  for (DType dtype : kIntDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    // [1 2; 3 4] * [5 6; 7 8] = [19 22; 43 50], small enough for every integer type.
    expect_tensor(run1(OpKind::MatMul, {T(dtype, {2, 2}, {1, 2, 3, 4}), T(dtype, {2, 2}, {5, 6, 7, 8})}), dtype, {2, 2},
                  {19, 22, 43, 50});
  }
  // i8: 100*2 + 1*1 = 201 wraps to 201 - 256 = -55; u8: 16*16 = 256 wraps to 0.
  expect_tensor(run1(OpKind::MatMul, {T(DType::I8, {2}, {100, 1}), T(DType::I8, {2}, {2, 1})}), DType::I8, {}, {-55});
  expect_tensor(run1(OpKind::MatMul, {T(DType::U8, {1}, {16}), T(DType::U8, {1}, {16})}), DType::U8, {}, {0});
  // i32: [2^30 -3] * [4 4; 0 5] = [2^32, 2^32 - 15], which wrap to [0, -15].
  expect_tensor(run1(OpKind::MatMul, {T(DType::I32, {1, 2}, {1 << 30, -3}), T(DType::I32, {2, 2}, {4, 4, 0, 5})}),
                DType::I32, {1, 2}, {0, -15});
}

TEST(InterpMatMul, F32AccumulatesInDouble) {
  // 1e8 + 1 - 1e8: a float accumulator loses the 1 (the f32 spacing at 1e8 is 8), a double one keeps it.
  expect_tensor(run1(OpKind::MatMul, {T(DType::F32, {3}, {1e8, 1, -1e8}), T(DType::F32, {3}, {1, 1, 1})}), DType::F32,
                {}, {1});
}

TEST(InterpMatMul, NaNPropagates) {
  // Row 0 meets the NaN (NaN * 0 is NaN); row 1 does not.
  expect_tensor(run1(OpKind::MatMul, {T(DType::F32, {2, 2}, {kNaN, 1, 2, 3}), T(DType::F32, {2, 1}, {0, 1})}),
                DType::F32, {2, 1}, {kNaN, 3});
}

TEST(InterpMatMul, ZeroSizeDims) {
  // K = 0: every element is an empty sum.
  expect_tensor(run1(OpKind::MatMul, {T(DType::F32, {2, 0}, {}), T(DType::F32, {0, 3}, {})}), DType::F32, {2, 3},
                {0, 0, 0, 0, 0, 0});
  expect_tensor(run1(OpKind::MatMul, {T(DType::F32, {0, 2}, {}), T(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6})}),
                DType::F32, {0, 3}, {});
  expect_tensor(run1(OpKind::MatMul, {T(DType::F32, {0, 1, 2}, {}), T(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6})}),
                DType::F32, {0, 1, 3}, {});
}

TEST(InterpMatMul, SymbolicBatchShapeRule) {
  Dim m = Dim::symbol("M");
  EXPECT_EQ(infer_type(OpKind::MatMul, {{DType::F32, {N, 4, 3}}, {DType::F32, {3, 5}}}), "f32[N, 4, 5]");
  EXPECT_EQ(infer_type(OpKind::MatMul, {{DType::F32, {N, 1, 4, 3}}, {DType::F32, {7, 3, 5}}}), "f32[N, 7, 4, 5]");
  EXPECT_EQ(infer_type(OpKind::MatMul, {{DType::F32, {N, 2, 3}}, {DType::F32, {1, 3, 4}}}), "f32[N, 2, 4]");
  EXPECT_EQ(infer_type(OpKind::MatMul, {{DType::F32, {N, m, 8}}, {DType::F32, {8}}}), "f32[N, M]");
  EXPECT_EQ(infer_type(OpKind::MatMul, {{DType::F32, {8}}, {DType::F32, {N, 8, m}}}), "f32[N, M]");
  EXPECT_EQ(infer_type(OpKind::MatMul, {{DType::I64, {m}}, {DType::I64, {m}}}), "i64[]");
  // N against 7 cannot be proven to broadcast.
  auto bad = infer(OpKind::MatMul, {{DType::F32, {N, 2, 3}}, {DType::F32, {7, 3, 4}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().str(), HasSubstr("batch dims"));

  // Run with the symbolic batch bound to 2 and to 0: x[N, 1, 2] * w[2, 2] = rows times [1 2; 3 4].
  Tensor w = T(DType::F32, {2, 2}, {1, 2, 3, 4});
  auto two = run_typed(OpKind::MatMul, {{DType::F32, {N, 1, 2}}, {DType::F32, {2, 2}}},
                       {T(DType::F32, {2, 1, 2}, {1, 0, 1, 1}), w});
  ASSERT_TRUE(two.ok()) << two.error().str();
  expect_tensor(two->at(0), DType::F32, {2, 1, 2}, {1, 2, 4, 6});
  auto none =
      run_typed(OpKind::MatMul, {{DType::F32, {N, 1, 2}}, {DType::F32, {2, 2}}}, {T(DType::F32, {0, 1, 2}, {}), w});
  ASSERT_TRUE(none.ok()) << none.error().str();
  expect_tensor(none->at(0), DType::F32, {0, 1, 2}, {});
}

TEST(InterpMatMul, Errors) {
  EXPECT_THAT(run_error(OpKind::MatMul, {T(DType::F32, {2, 3}, {}), T(DType::F32, {4, 2}, {})}),
              HasSubstr("inner dims differ: f32[2, 3] has K = 3 but f32[4, 2] has K = 4"));
  EXPECT_THAT(run_error(OpKind::MatMul, {T(DType::F32, {2, 3}, {}), T(DType::F64, {3, 2}, {})}),
              HasSubstr("same dtype, got f32[2, 3] and f64[3, 2]"));
  EXPECT_THAT(run_error(OpKind::MatMul, {T(DType::F32, {}, {1}), T(DType::F32, {3}, {})}), HasSubstr("rank >= 1"));
  EXPECT_THAT(run_error(OpKind::MatMul, {T(DType::Bool, {2}, {}), T(DType::Bool, {2}, {})}),
              HasSubstr("float or integer"));
  EXPECT_THAT(run_error(OpKind::MatMul, {T(DType::F32, {2, 2, 3}, {}), T(DType::F32, {3, 3, 4}, {})}),
              HasSubstr("do not broadcast"));
  EXPECT_THAT(run_error(OpKind::MatMul, {T(DType::F32, {3}, {}), T(DType::F32, {2}, {})}), HasSubstr("inner dims"));
}

// ---- gemm -----------------------------------------------------------------------------------------------

TEST(InterpGemm, DefaultsWithMatrixC) {
  // [1 2 3; 4 5 6] * [7 8; 9 10; 11 12] = [58 64; 139 154], plus C = [1 2; 3 4].
  Tensor y = run1(OpKind::Gemm, {T(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6}),
                                 T(DType::F32, {3, 2}, {7, 8, 9, 10, 11, 12}), T(DType::F32, {2, 2}, {1, 2, 3, 4})});
  expect_tensor(y, DType::F32, {2, 2}, {59, 66, 142, 158});
  // Without C.
  expect_tensor(run1(OpKind::Gemm, {T(DType::F32, {1, 2}, {1, 2}), T(DType::F32, {2, 1}, {3, 4})}), DType::F32, {1, 1},
                {11});
}

TEST(InterpGemm, Transposes) {
  // A stored [3, 2] with trans_a: op(A) = [1 2 3; 4 5 6]. B stored [2, 3] with trans_b: op(B) = [7 8; 9 10; 11 12].
  Tensor a_t = T(DType::F32, {3, 2}, {1, 4, 2, 5, 3, 6});
  Tensor b_t = T(DType::F32, {2, 3}, {7, 9, 11, 8, 10, 12});
  Tensor a = T(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = T(DType::F32, {3, 2}, {7, 8, 9, 10, 11, 12});
  expect_tensor(run1(OpKind::Gemm, {a_t, b}, {{"trans_a", 1}}), DType::F32, {2, 2}, {58, 64, 139, 154});
  expect_tensor(run1(OpKind::Gemm, {a, b_t}, {{"trans_b", 1}}), DType::F32, {2, 2}, {58, 64, 139, 154});
  expect_tensor(run1(OpKind::Gemm, {a_t, b_t}, {{"trans_a", 1}, {"trans_b", 1}}), DType::F32, {2, 2},
                {58, 64, 139, 154});
}

TEST(InterpGemm, AlphaBetaAndCBroadcast) {
  // A*B = [1 2; 3 4] (B is the identity); Y = 2*A*B + 0.5*C.
  Tensor a = T(DType::F32, {2, 2}, {1, 2, 3, 4});
  Tensor b = T(DType::F32, {2, 2}, {1, 0, 0, 1});
  AttrMap attrs{{"alpha", 2.0}, {"beta", 0.5}};
  // C [2] is a row added to every row: [2+5, 4+10; 6+5, 8+10].
  expect_tensor(run1(OpKind::Gemm, {a, b, T(DType::F32, {2}, {10, 20})}, attrs), DType::F32, {2, 2}, {7, 14, 11, 18});
  // C [2, 1] is a column added to every column: [2+5, 4+5; 6+10, 8+10].
  expect_tensor(run1(OpKind::Gemm, {a, b, T(DType::F32, {2, 1}, {10, 20})}, attrs), DType::F32, {2, 2}, {7, 9, 16, 18});
  // C scalar and C [1, 1]: add 0.5 * 4 = 2 everywhere.
  expect_tensor(run1(OpKind::Gemm, {a, b, T(DType::F32, {}, {4})}, attrs), DType::F32, {2, 2}, {4, 6, 8, 10});
  expect_tensor(run1(OpKind::Gemm, {a, b, T(DType::F32, {1, 1}, {4})}, attrs), DType::F32, {2, 2}, {4, 6, 8, 10});
  // beta = 0 ignores C, even a NaN in it.
  expect_tensor(run1(OpKind::Gemm, {a, b, T(DType::F32, {2}, {kNaN, 1})}, {{"beta", 0.0}}), DType::F32, {2, 2},
                {1, 2, 3, 4});
}

TEST(InterpGemm, EveryFloatDType) {
  for (DType dtype : kFloatDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    // op(A) = A^T = [1 3; 2 4]; op(A) * [1; -1] = [-2; -2]; 0.5 * that + 2 * [1] = [1; 1].
    Tensor y = run1(OpKind::Gemm, {T(dtype, {2, 2}, {1, 2, 3, 4}), T(dtype, {2, 1}, {1, -1}), T(dtype, {1}, {1})},
                    {{"trans_a", 1}, {"alpha", 0.5}, {"beta", 2.0}});
    expect_tensor(y, dtype, {2, 1}, {1, 1});
  }
}

TEST(InterpGemm, IntegersWithWholeAlphaBeta) {
  for (DType dtype : {DType::I32, DType::I64, DType::U32, DType::U64, DType::I8, DType::U8}) {
    SCOPED_TRACE(dtype_name(dtype));
    // 2 * ([1 2] * [3; 4]) + 3 * 5 = 2 * 11 + 15 = 37.
    Tensor y = run1(OpKind::Gemm, {T(dtype, {1, 2}, {1, 2}), T(dtype, {2, 1}, {3, 4}), T(dtype, {1}, {5})},
                    {{"alpha", 2.0}, {"beta", 3.0}});
    expect_tensor(y, dtype, {1, 1}, {37});
  }
  // i8: 2 * (10 * 10) = 200 wraps to -56; alpha -1 negates: -(3*4) + 1 = -11.
  expect_tensor(run1(OpKind::Gemm, {T(DType::I8, {1, 1}, {10}), T(DType::I8, {1, 1}, {10})}, {{"alpha", 2.0}}),
                DType::I8, {1, 1}, {-56});
  expect_tensor(run1(OpKind::Gemm, {T(DType::I32, {1, 1}, {3}), T(DType::I32, {1, 1}, {4}), T(DType::I32, {}, {1})},
                     {{"alpha", -1.0}}),
                DType::I32, {1, 1}, {-11});
  EXPECT_THAT(run_error(OpKind::Gemm, {T(DType::I32, {1, 1}, {3}), T(DType::I32, {1, 1}, {4})}, {{"alpha", 0.5}}),
              HasSubstr("gemm on i32 needs whole-number alpha and beta, got 0.5 and 1"));
}

TEST(InterpGemm, ZeroSizeDims) {
  // K = 0: alpha * 0 + beta * C.
  expect_tensor(run1(OpKind::Gemm, {T(DType::F32, {2, 0}, {}), T(DType::F32, {0, 2}, {}), T(DType::F32, {2}, {1, 2})}),
                DType::F32, {2, 2}, {1, 2, 1, 2});
  expect_tensor(run1(OpKind::Gemm, {T(DType::F32, {0, 3}, {}), T(DType::F32, {3, 2}, {1, 2, 3, 4, 5, 6})}), DType::F32,
                {0, 2}, {});
}

TEST(InterpGemm, SymbolicShapeRule) {
  EXPECT_EQ(infer_type(OpKind::Gemm, {{DType::F32, {N, 4}}, {DType::F32, {4, 3}}, {DType::F32, {3}}}), "f32[N, 3]");
  EXPECT_EQ(infer_type(OpKind::Gemm, {{DType::F32, {4, N}}, {DType::F32, {10, 4}}, {DType::F32, {N, 1}}},
                       {{"trans_a", 1}, {"trans_b", 1}}),
            "f32[N, 10]");
  // Run with N = 3: rows of x times [1; 1] plus C [1] = row sum + 1.
  auto y =
      run_typed(OpKind::Gemm, {{DType::F32, {N, 2}}, {DType::F32, {2, 1}}, {DType::F32, {1}}},
                {T(DType::F32, {3, 2}, {1, 2, 3, 4, 5, 6}), T(DType::F32, {2, 1}, {1, 1}), T(DType::F32, {1}, {1})});
  ASSERT_TRUE(y.ok()) << y.error().str();
  expect_tensor(y->at(0), DType::F32, {3, 1}, {4, 8, 12});
}

TEST(InterpGemm, Errors) {
  Tensor a = T(DType::F32, {2, 3}, {});
  EXPECT_THAT(run_error(OpKind::Gemm, {a, T(DType::F32, {2, 3}, {})}),
              HasSubstr("op(A) of f32[2, 3] has K = 3 but op(B) of f32[2, 3] has K = 2 (trans_a 0, trans_b 0)"));
  EXPECT_THAT(run_error(OpKind::Gemm, {a, T(DType::F32, {3, 2}, {})}, {{"trans_a", 1}}),
              HasSubstr("inner dims differ"));
  EXPECT_THAT(run_error(OpKind::Gemm, {a, T(DType::F32, {3, 2}, {}), T(DType::F32, {3}, {})}),
              HasSubstr("gemm C f32[3] does not broadcast to [M, N] = [2, 2]"));
  EXPECT_THAT(run_error(OpKind::Gemm, {a, T(DType::F32, {3, 2}, {}), T(DType::F32, {1, 2, 2}, {})}),
              HasSubstr("rank <= 2"));
  EXPECT_THAT(run_error(OpKind::Gemm, {T(DType::F32, {3}, {}), T(DType::F32, {3, 2}, {})}), HasSubstr("must be 2-D"));
  EXPECT_THAT(run_error(OpKind::Gemm, {a, T(DType::F32, {3, 2}, {})}, {{"trans_b", 2}}),
              HasSubstr("trans_b must be 0 or 1, got 2"));
  EXPECT_THAT(run_error(OpKind::Gemm, {a, T(DType::F32, {3, 2}, {}), T(DType::F64, {2}, {})}),
              HasSubstr("gemm C f64[2] must have the dtype of A"));
  EXPECT_THAT(run_error(OpKind::Gemm, {a, T(DType::F16, {3, 2}, {})}), HasSubstr("same dtype"));
}

}  // namespace
}  // namespace tessel
