#include "ir/Tensor.h"

#include <cmath>

#include <gtest/gtest.h>

#include "ir/Half.h"

namespace tessel {
namespace {

TEST(TensorTest, ShapeStridesAndSize) {
  Tensor t(DType::I16, {2, 3, 4});
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.nbytes(), 48u);
  EXPECT_EQ(t.strides(), (std::vector<int64_t>{12, 4, 1}));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
  EXPECT_EQ(t.type_str(), "i16[2, 3, 4]");
  Tensor scalar(DType::F64, {});
  EXPECT_EQ(scalar.numel(), 1);
  Tensor empty(DType::F32, {0, 5});
  EXPECT_EQ(empty.numel(), 0);
  EXPECT_NE(empty.raw_data(), nullptr);
}

TEST(TensorTest, ConvertsEveryDtype) {
  for (DType dtype : kComputeDTypes) {
    Tensor t = Tensor::from_doubles(dtype, {3}, {0, 1, 2});
    EXPECT_EQ(t.get_double(1), 1.0) << dtype_name(dtype);
    EXPECT_EQ(t.get_int(2), dtype == DType::Bool ? 1 : 2) << dtype_name(dtype);
  }
}

TEST(TensorTest, IntegerConversionSaturatesAndNaNIsZero) {
  Tensor t = Tensor::from_doubles(DType::I8, {4}, {300, -300, NAN, -7.9});
  EXPECT_EQ(t.get_int(0), 127);
  EXPECT_EQ(t.get_int(1), -128);
  EXPECT_EQ(t.get_int(2), 0);
  EXPECT_EQ(t.get_int(3), -7);
  Tensor u = Tensor::from_doubles(DType::U8, {1}, {-1});
  EXPECT_EQ(u.get_int(0), 0);
}

TEST(TensorTest, HalfAndBfloatRoundToNearestEven) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(70000.0f), 0x7c00);               // overflows to inf
  EXPECT_EQ(float_to_half(1.0f + 1.0f / 2048), 0x3c00);     // halfway between 1 and 1+2^-10: ties to even
  EXPECT_EQ(float_to_half(1.0f + 3.0f / 2048), 0x3c02);     // halfway, rounds up to even
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(NAN))));
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_float(0x3f80), 1.0f);
  EXPECT_EQ(float_to_bf16(1.0f + 1.0f / 256), 0x3f80);  // tie -> even
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(NAN))));
}

TEST(TensorTest, CopiesShareCloneCopies) {
  Tensor a = Tensor::of<float>({2}, {1, 2});
  Tensor shared = a;
  Tensor copy = a.clone();
  a.data<float>()[0] = 9;
  EXPECT_EQ(shared.data<float>()[0], 9);
  EXPECT_EQ(copy.data<float>()[0], 1);
  EXPECT_EQ(a.reshaped({1, 2}).raw_data(), a.raw_data());
}

TEST(TensorTest, HashAndEqualityCoverDtypeShapeAndBytes) {
  Tensor a = Tensor::of<int32_t>({2}, {1, 2});
  Tensor b = Tensor::of<int32_t>({2}, {1, 2});
  EXPECT_EQ(a.content_hash(), b.content_hash());
  EXPECT_TRUE(a.bitwise_equal(b));
  EXPECT_NE(a.content_hash(), a.reshaped({1, 2}).content_hash());
  EXPECT_NE(a.content_hash(), Tensor::of<int32_t>({2}, {1, 3}).content_hash());
  EXPECT_FALSE(a.bitwise_equal(Tensor::of<uint32_t>({2}, {1, 2})));
}

}  // namespace
}  // namespace tessel
