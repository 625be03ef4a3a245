// Interpreter and shape-rule tests for the bit-level ops: and/or/xor/not on integers (bitwise; the
// bool forms are in InterpElementwiseTest.cpp) and bitcast. Bit patterns are written in hex.
#include <cstring>
#include <limits>

#include <gmock/gmock.h>

#include "tests/unit/InterpTestUtil.h"

namespace tessel {
namespace {

using testing::expect_tensor;
using ::testing::HasSubstr;
using testing::infer;
using testing::run1;
using testing::run_error;
using testing::T;

constexpr DType kIntDTypes[] = {DType::I8, DType::I16, DType::I32, DType::I64,
                                DType::U8, DType::U16, DType::U32, DType::U64};

TEST(InterpBitwise, AndOrXorOnEveryIntegerType) {
  // 0b1100 & 0b1010 = 0b1000 (8), | = 0b1110 (14), ^ = 0b0110 (6); with 0: 0, 12, 12.
  for (DType dtype : kIntDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor a = T(dtype, {2}, {12, 12}), b = T(dtype, {2}, {10, 0});
    expect_tensor(run1(OpKind::And, {a, b}), dtype, {2}, {8, 0});
    expect_tensor(run1(OpKind::Or, {a, b}), dtype, {2}, {14, 12});
    expect_tensor(run1(OpKind::Xor, {a, b}), dtype, {2}, {6, 12});
  }
}

TEST(InterpBitwise, SignedValuesUseTwosComplementBits) {
  // -1 is all ones: -1 & 5 = 5; -8 (...11111000) | 3 = -5 (...11111011); -1 ^ 5 = ~5 = -6.
  Tensor a = T(DType::I32, {3}, {-1, -8, -1}), b = T(DType::I32, {3}, {5, 3, 5});
  expect_tensor(run1(OpKind::And, {a, b}), DType::I32, {3}, {5, 0, 5});
  expect_tensor(run1(OpKind::Or, {a, b}), DType::I32, {3}, {-1, -5, -1});
  expect_tensor(run1(OpKind::Xor, {a, b}), DType::I32, {3}, {-6, -5, -6});
  // i64 extremes: INT64_MIN & -1 = INT64_MIN; INT64_MIN ^ INT64_MAX = -1.
  Tensor lo = Tensor::of<int64_t>({1}, {std::numeric_limits<int64_t>::min()});
  Tensor hi = Tensor::of<int64_t>({1}, {std::numeric_limits<int64_t>::max()});
  EXPECT_EQ(run1(OpKind::And, {lo, Tensor::of<int64_t>({1}, {-1})}).data<int64_t>()[0],
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(run1(OpKind::Xor, {lo, hi}).data<int64_t>()[0], -1);
}

TEST(InterpBitwise, Broadcasting) {
  // [2,1] & [3]: rows 0xF0 and 0x0F against 0xFF, 0x3C, 0x00.
  Tensor a = T(DType::U8, {2, 1}, {0xF0, 0x0F}), b = T(DType::U8, {3}, {0xFF, 0x3C, 0x00});
  expect_tensor(run1(OpKind::And, {a, b}), DType::U8, {2, 3}, {0xF0, 0x30, 0, 0x0F, 0x0C, 0});
  // Scalar with a zero-size tensor gives a zero-size result.
  expect_tensor(run1(OpKind::Or, {T(DType::U16, {}, {1}), T(DType::U16, {0, 2}, {})}), DType::U16, {0, 2}, {});
  // u64 high bit survives: 0x8000000000000001 | 2 = 0x8000000000000003.
  Tensor big = Tensor::of<uint64_t>({}, {0x8000000000000001ull});
  EXPECT_EQ(run1(OpKind::Or, {big, Tensor::of<uint64_t>({}, {2})}).data<uint64_t>()[0], 0x8000000000000003ull);
}

TEST(InterpBitwise, NotFlipsEveryBit) {
  // ~0 = -1, ~5 = -6, ~-1 = 0 (signed); ~0x0F = 0xF0 (u8); ~0 = 0xFFFF (u16).
  expect_tensor(run1(OpKind::Not, {T(DType::I32, {3}, {0, 5, -1})}), DType::I32, {3}, {-1, -6, 0});
  expect_tensor(run1(OpKind::Not, {T(DType::I8, {2}, {127, -128})}), DType::I8, {2}, {-128, 127});
  expect_tensor(run1(OpKind::Not, {T(DType::U8, {2}, {0x0F, 0xFF})}), DType::U8, {2}, {0xF0, 0});
  expect_tensor(run1(OpKind::Not, {T(DType::U16, {}, {0})}), DType::U16, {}, {65535});
  EXPECT_EQ(run1(OpKind::Not, {Tensor::of<uint64_t>({1}, {0})}).data<uint64_t>()[0], ~uint64_t{0});
  expect_tensor(run1(OpKind::Not, {T(DType::I64, {0}, {})}), DType::I64, {0}, {});
  // bool stays logical.
  expect_tensor(run1(OpKind::Not, {T(DType::Bool, {2}, {1, 0})}), DType::Bool, {2}, {0, 1});
}

TEST(InterpBitwise, RejectsFloatsAndMixedTypes) {
  EXPECT_THAT(run_error(OpKind::And, {T(DType::F32, {2}, {1, 2}), T(DType::F32, {2}, {1, 2})}),
              HasSubstr("and needs bool or integer operands, got f32[2] for the first operand"));
  EXPECT_THAT(run_error(OpKind::Xor, {T(DType::I32, {2}, {1, 2}), T(DType::I64, {2}, {1, 2})}),
              HasSubstr("xor needs operands of the same dtype (no implicit promotion), got i32[2] and i64[2]"));
  EXPECT_THAT(run_error(OpKind::Or, {T(DType::Bool, {2}, {1, 0}), T(DType::U8, {2}, {1, 2})}),
              HasSubstr("got bool[2] and u8[2]"));
  EXPECT_THAT(run_error(OpKind::Not, {T(DType::F64, {1}, {1})}), HasSubstr("not needs a bool or integer operand"));
}

TEST(InterpBitwise, SymbolicShapes) {
  const Dim n = Dim::symbol("N");
  auto result = infer(OpKind::And, {{DType::I16, {n, 1}}, {DType::I16, {4}}});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->at(0).str(), "i16[N, 4]");
}

// ---- bitcast ----------------------------------------------------------------------------------------

TEST(InterpBitcast, FloatsToIntegersAndBack) {
  // 1.0f = 0x3F800000 = 1065353216; -2.5f = 0xC0200000 = -1071644672.
  Tensor x = Tensor::of<float>({2}, {1.0f, -2.5f});
  Tensor bits = run1(OpKind::Bitcast, {x}, {{"to", DType::I32}});
  expect_tensor(bits, DType::I32, {2}, {1065353216, -1071644672});
  Tensor back = run1(OpKind::Bitcast, {bits}, {{"to", DType::F32}});
  expect_tensor(back, DType::F32, {2}, {1.0, -2.5});
  // 1.0 (f64) = 0x3FF0000000000000 = 4607182418800017408.
  Tensor d = run1(OpKind::Bitcast, {Tensor::of<double>({}, {1.0})}, {{"to", DType::I64}});
  ASSERT_EQ(d.dtype(), DType::I64);
  EXPECT_EQ(d.data<int64_t>()[0], int64_t{4607182418800017408});
  // f16 1.0 = 0x3C00 = 15360 as u16; bf16 1.0 = 0x3F80 = 16256.
  expect_tensor(run1(OpKind::Bitcast, {T(DType::F16, {1}, {1.0})}, {{"to", DType::U16}}), DType::U16, {1}, {15360});
  expect_tensor(run1(OpKind::Bitcast, {T(DType::BF16, {1}, {1.0})}, {{"to", DType::I16}}), DType::I16, {1}, {16256});
  expect_tensor(run1(OpKind::Bitcast, {T(DType::U16, {1}, {15360})}, {{"to", DType::F16}}), DType::F16, {1}, {1.0});
}

TEST(InterpBitcast, IntegersOfTheSameWidth) {
  // u32 0xFFFFFFFF = -1, 0x80000000 = INT32_MIN; u8 255 = -1 as i8.
  expect_tensor(run1(OpKind::Bitcast, {T(DType::U32, {2}, {4294967295.0, 2147483648.0})}, {{"to", DType::I32}}),
                DType::I32, {2}, {-1, -2147483648.0});
  expect_tensor(run1(OpKind::Bitcast, {T(DType::I8, {3}, {-1, -128, 0})}, {{"to", DType::U8}}), DType::U8, {3},
                {255, 128, 0});
  expect_tensor(run1(OpKind::Bitcast, {T(DType::I64, {2, 0}, {})}, {{"to", DType::U64}}), DType::U64, {2, 0}, {});
}

TEST(InterpBitcast, BoolAndBytes) {
  expect_tensor(run1(OpKind::Bitcast, {T(DType::Bool, {3}, {1, 0, 1})}, {{"to", DType::U8}}), DType::U8, {3},
                {1, 0, 1});
  // A byte other than 0 or 1 becomes true: bool holds only 0 and 1.
  Tensor b = run1(OpKind::Bitcast, {T(DType::U8, {3}, {0, 1, 7})}, {{"to", DType::Bool}});
  ASSERT_EQ(b.dtype(), DType::Bool);
  EXPECT_EQ(b.data<uint8_t>()[2], 1);
  expect_tensor(b, DType::Bool, {3}, {0, 1, 1});
}

TEST(InterpBitcast, RejectsDifferentSizes) {
  EXPECT_THAT(run_error(OpKind::Bitcast, {T(DType::F32, {2}, {1, 2})}, {{"to", DType::I64}}),
              HasSubstr("bitcast needs element types of the same size, got f32[2] (4 bytes) to i64 (8 bytes)"));
  EXPECT_THAT(run_error(OpKind::Bitcast, {T(DType::I8, {2}, {1, 2})}, {{"to", DType::String}}),
              HasSubstr("bitcast target must be a numeric or bool dtype, got str"));
  auto symbolic = infer(OpKind::Bitcast, {{DType::F64, {Dim::symbol("N")}}}, {{"to", DType::U64}});
  ASSERT_TRUE(symbolic.ok());
  EXPECT_EQ(symbolic->at(0).str(), "u64[N]");
}

}  // namespace
}  // namespace tessel
