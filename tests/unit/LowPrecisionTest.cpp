// The low-precision storage types and strings: float <-> float8/float4/int4/int2 conversions with
// hand-checked bit patterns (the ONNX Cast table), TensorProto packing and unpacking, the cast kernel
// to and from every such type and strings, and their text form.
#include <filesystem>
#include <fstream>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "InterpTestUtil.h"
#include "OnnxTestUtil.h"
#include "frontends/onnx/Conformance.h"
#include "ir/LowPrecision.h"
#include "ir/Parser.h"
#include "ir/Printer.h"

namespace tessel {
namespace {

using ::testing::HasSubstr;
using testing::run1;
using testing::T;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

int to_bits(DType dtype, float value, bool saturate = true, E8M0Rounding rounding = E8M0Rounding::Up) {
  return float_to_low_precision(dtype, value, saturate, rounding);
}

// A tensor of a low-precision type from raw bit patterns (one per byte, as host tensors hold them).
Tensor from_bits(DType dtype, std::vector<int64_t> shape, const std::vector<int>& bits) {
  Tensor tensor(dtype, std::move(shape));
  for (size_t i = 0; i < bits.size(); ++i) tensor.data<uint8_t>()[i] = static_cast<uint8_t>(bits[i]);
  return tensor;
}

std::vector<int> bits_of(const Tensor& tensor) {
  std::vector<int> bits;
  for (int64_t i = 0; i < tensor.numel(); ++i) bits.push_back(tensor.data<uint8_t>()[i]);
  return bits;
}

std::vector<std::string> strings_of(const Tensor& tensor) {
  return {tensor.data<std::string>(), tensor.data<std::string>() + tensor.numel()};
}

Tensor strings(std::vector<std::string> values) {
  Tensor tensor(DType::String, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), tensor.data<std::string>());
  return tensor;
}

Tensor cast(const Tensor& x, DType to, AttrMap extra = {}) {
  extra.emplace("to", to);
  return run1(OpKind::Cast, {x}, std::move(extra));
}

// ---- Conversions ----------------------------------------------------------------------------------

TEST(LowPrecision, E4M3FN) {
  // 1 = 2^0: exponent field 0 + bias 7 = 0111, mantissa 000 -> 0x38. 448 = 1.75 * 2^8: 1111 110 -> 0x7E.
  EXPECT_EQ(to_bits(DType::F8E4M3FN, 1.0f), 0x38);
  EXPECT_EQ(to_bits(DType::F8E4M3FN, 448.0f), 0x7E);
  EXPECT_EQ(to_bits(DType::F8E4M3FN, -2.0f), 0xC0);
  EXPECT_EQ(to_bits(DType::F8E4M3FN, std::ldexp(1.0f, -9)), 0x01);  // smallest subnormal
  // Ties to even: 1.0625 is halfway between 1.0 (0x38) and 1.125 (0x39); 1.1875 between 0x39 and 0x3A.
  EXPECT_EQ(to_bits(DType::F8E4M3FN, 1.0625f), 0x38);
  EXPECT_EQ(to_bits(DType::F8E4M3FN, 1.1875f), 0x3A);
  // 464 is halfway between 448 and 480 (which would be the NaN pattern): even is 448 in both modes.
  EXPECT_EQ(to_bits(DType::F8E4M3FN, 464.0f, false), 0x7E);
  EXPECT_EQ(to_bits(DType::F8E4M3FN, 500.0f, true), 0x7E);
  EXPECT_EQ(to_bits(DType::F8E4M3FN, 500.0f, false), 0x7F);  // NaN: no infinity in this type
  EXPECT_EQ(to_bits(DType::F8E4M3FN, kInf, true), 0x7E);
  EXPECT_EQ(to_bits(DType::F8E4M3FN, -kInf, true), 0xFE);
  EXPECT_EQ(to_bits(DType::F8E4M3FN, kInf, false), 0x7F);
  EXPECT_EQ(to_bits(DType::F8E4M3FN, -kInf, false), 0xFF);
  EXPECT_EQ(to_bits(DType::F8E4M3FN, -0.0f), 0x80);
  EXPECT_EQ(to_bits(DType::F8E4M3FN, kNaN), 0x7F);
  EXPECT_EQ(low_precision_to_float(DType::F8E4M3FN, 0x7E), 448.0f);
  EXPECT_TRUE(std::isnan(low_precision_to_float(DType::F8E4M3FN, 0xFF)));
  EXPECT_EQ(low_precision_max(DType::F8E4M3FN), 448.0f);
}

TEST(LowPrecision, E4M3FNUZ) {
  // Bias 8: 1 = 1000 000 -> 0x40; largest 1111 111 = 1.875 * 2^7 = 240; 0x80 is the only NaN.
  EXPECT_EQ(to_bits(DType::F8E4M3FNUZ, 1.0f), 0x40);
  EXPECT_EQ(to_bits(DType::F8E4M3FNUZ, 240.0f), 0x7F);
  EXPECT_EQ(to_bits(DType::F8E4M3FNUZ, std::ldexp(1.0f, -10)), 0x01);
  EXPECT_EQ(to_bits(DType::F8E4M3FNUZ, -0.0f), 0x00);  // no negative zero
  EXPECT_EQ(to_bits(DType::F8E4M3FNUZ, -1e-9f), 0x00);
  EXPECT_EQ(to_bits(DType::F8E4M3FNUZ, kNaN), 0x80);
  EXPECT_EQ(to_bits(DType::F8E4M3FNUZ, -kInf, true), 0xFF);
  EXPECT_EQ(to_bits(DType::F8E4M3FNUZ, kInf, false), 0x80);
  EXPECT_EQ(to_bits(DType::F8E4M3FNUZ, 1000.0f, false), 0x80);
  EXPECT_TRUE(std::isnan(low_precision_to_float(DType::F8E4M3FNUZ, 0x80)));
}

TEST(LowPrecision, E5M2AndE5M2FNUZ) {
  // E5M2 (bias 15): 1 = 01111 00 -> 0x3C; largest 11110 11 = 1.75 * 2^15 = 57344; 0x7C is inf.
  EXPECT_EQ(to_bits(DType::F8E5M2, 1.0f), 0x3C);
  EXPECT_EQ(to_bits(DType::F8E5M2, 57344.0f), 0x7B);
  EXPECT_EQ(to_bits(DType::F8E5M2, 65536.0f, true), 0x7B);
  EXPECT_EQ(to_bits(DType::F8E5M2, 65536.0f, false), 0x7C);
  EXPECT_EQ(to_bits(DType::F8E5M2, -kInf, false), 0xFC);
  EXPECT_EQ(to_bits(DType::F8E5M2, kInf, true), 0x7B);
  EXPECT_EQ(to_bits(DType::F8E5M2, kNaN), 0x7E);
  EXPECT_EQ(low_precision_to_float(DType::F8E5M2, 0x7C), kInf);
  // E5M2FNUZ (bias 16): 1 = 10000 00 -> 0x40; largest 11111 11 = 57344 again.
  EXPECT_EQ(to_bits(DType::F8E5M2FNUZ, 1.0f), 0x40);
  EXPECT_EQ(to_bits(DType::F8E5M2FNUZ, 57344.0f), 0x7F);
  EXPECT_EQ(to_bits(DType::F8E5M2FNUZ, kInf, false), 0x80);
  EXPECT_EQ(to_bits(DType::F8E5M2FNUZ, -0.0f), 0x00);
}

TEST(LowPrecision, E2M1) {
  // Values 0, 0.5, 1, 1.5, 2, 3, 4, 6 are codes 0..7; bit 3 is the sign.
  EXPECT_EQ(to_bits(DType::F4E2M1, 0.5f), 0x1);
  EXPECT_EQ(to_bits(DType::F4E2M1, 1.0f), 0x2);
  EXPECT_EQ(to_bits(DType::F4E2M1, -6.0f), 0xF);
  // Ties to even: 0.25 -> 0 (code 0), 0.75 -> 1 (code 2), 2.5 -> 2 (code 4), 5 -> 4 (code 6).
  EXPECT_EQ(to_bits(DType::F4E2M1, 0.25f), 0x0);
  EXPECT_EQ(to_bits(DType::F4E2M1, 0.75f), 0x2);
  EXPECT_EQ(to_bits(DType::F4E2M1, 2.5f), 0x4);
  EXPECT_EQ(to_bits(DType::F4E2M1, 5.0f), 0x6);
  // No inf or NaN: always saturates; NaN gives -0 like ONNX's reference.
  EXPECT_EQ(to_bits(DType::F4E2M1, 100.0f, false), 0x7);
  EXPECT_EQ(to_bits(DType::F4E2M1, -kInf, false), 0xF);
  EXPECT_EQ(to_bits(DType::F4E2M1, kNaN), 0x8);
  EXPECT_EQ(low_precision_to_float(DType::F4E2M1, 0x5), 3.0f);
}

TEST(LowPrecision, E8M0) {
  // 2^(bits - 127): 1 -> 127; no sign (-4 -> 2^2); zero -> the smallest, 2^-127.
  EXPECT_EQ(to_bits(DType::F8E8M0, 1.0f), 0x7F);
  EXPECT_EQ(to_bits(DType::F8E8M0, -4.0f), 0x81);
  EXPECT_EQ(to_bits(DType::F8E8M0, 0.0f), 0x00);
  EXPECT_EQ(to_bits(DType::F8E8M0, 1.1f, true, E8M0Rounding::Up), 0x80);
  EXPECT_EQ(to_bits(DType::F8E8M0, 1.9f, true, E8M0Rounding::Down), 0x7F);
  EXPECT_EQ(to_bits(DType::F8E8M0, 1.4f, true, E8M0Rounding::Nearest), 0x7F);
  EXPECT_EQ(to_bits(DType::F8E8M0, 1.5f, true, E8M0Rounding::Nearest), 0x80);  // halfway rounds up
  EXPECT_EQ(to_bits(DType::F8E8M0, kNaN), 0xFF);
  EXPECT_EQ(to_bits(DType::F8E8M0, kInf, true), 0xFF);
  EXPECT_EQ(to_bits(DType::F8E8M0, std::ldexp(1.5f, 127), true), 0xFE);
  EXPECT_EQ(to_bits(DType::F8E8M0, std::ldexp(1.5f, 127), false), 0xFF);
  EXPECT_EQ(low_precision_to_float(DType::F8E8M0, 0x00), std::ldexp(1.0f, -127));
  EXPECT_EQ(parse_e8m0_rounding("nearest"), E8M0Rounding::Nearest);
  EXPECT_FALSE(parse_e8m0_rounding("sideways"));
}

TEST(LowPrecision, SmallIntegers) {
  // Casts wrap modulo 2^bits; I4/I2 are stored sign-extended.
  EXPECT_EQ(int_to_low_precision(DType::I4, -9), 0x07);
  EXPECT_EQ(int_to_low_precision(DType::I4, 8), 0xF8);
  EXPECT_EQ(int_to_low_precision(DType::U4, -1), 0x0F);
  EXPECT_EQ(int_to_low_precision(DType::I2, 2), 0xFE);
  EXPECT_EQ(int_to_low_precision(DType::U2, 5), 0x01);
  // float_to_low_precision truncates and clamps; NaN gives 0.
  EXPECT_EQ(to_bits(DType::I4, 9.7f), 0x07);
  EXPECT_EQ(to_bits(DType::I4, -8.9f), 0xF8);
  EXPECT_EQ(to_bits(DType::U2, -3.0f), 0x00);
  EXPECT_EQ(to_bits(DType::I2, kNaN), 0x00);
  EXPECT_EQ(low_precision_to_float(DType::I4, 0xF8), -8.0f);
  EXPECT_EQ(low_precision_lowest(DType::I2), -2.0f);
  EXPECT_EQ(low_precision_max(DType::U4), 15.0f);
}

// ---- TensorProto ----------------------------------------------------------------------------------

onnx::pb::TensorProto proto_of(int32_t elem_type, std::vector<int64_t> dims) {
  onnx::pb::TensorProto proto;
  proto.set_name("t");
  proto.set_data_type(elem_type);
  for (int64_t d : dims) proto.add_dims(d);
  return proto;
}

TEST(LowPrecisionProto, ElementTypesMap) {
  for (DType dtype : kLowPrecisionDTypes) EXPECT_EQ(onnx::dtype_from_onnx(onnx::onnx_from_dtype(dtype)), dtype);
  EXPECT_EQ(onnx::dtype_from_onnx(onnx::kOnnxInt4), DType::I4);
  EXPECT_EQ(onnx::dtype_from_onnx(onnx::kOnnxFloat8E8M0), DType::F8E8M0);
  EXPECT_EQ(onnx::dtype_from_onnx(onnx::kOnnxString), DType::String);
  EXPECT_FALSE(onnx::dtype_from_onnx(27));  // FLOAT6E2M3
}

TEST(LowPrecisionProto, FourBitRawDataUnpacksLowNibbleFirst) {
  auto proto = proto_of(onnx::kOnnxInt4, {5});
  proto.set_raw_data(std::string("\x21\x43\x0F", 3));  // nibbles 1 2 3 4 F(-1), last high nibble padding
  auto tensor = onnx::tensor_from_proto(proto);
  ASSERT_TRUE(tensor.ok()) << tensor.error().str();
  EXPECT_EQ(bits_of(*tensor), (std::vector<int>{1, 2, 3, 4, 0xFF}));
  proto.set_raw_data(std::string("\x21\x43", 2));
  auto short_data = onnx::tensor_from_proto(proto);
  ASSERT_FALSE(short_data.ok());
  EXPECT_THAT(short_data.error().str(), HasSubstr("needs 3 bytes of raw_data, got 2"));
}

TEST(LowPrecisionProto, TwoBitInt32DataHoldsPackedBytes) {
  // u2 [0, 1, 2, 3, 1]: byte 0 = 0 | 1<<2 | 2<<4 | 3<<6 = 228, byte 1 = 1.
  auto proto = proto_of(onnx::kOnnxUint2, {5});
  proto.add_int32_data(228);
  proto.add_int32_data(1);
  auto tensor = onnx::tensor_from_proto(proto);
  ASSERT_TRUE(tensor.ok()) << tensor.error().str();
  EXPECT_EQ(bits_of(*tensor), (std::vector<int>{0, 1, 2, 3, 1}));
  proto.add_int32_data(0);
  auto extra = onnx::tensor_from_proto(proto);
  ASSERT_FALSE(extra.ok());
  EXPECT_THAT(extra.error().str(), HasSubstr("needs 2 int32_data entries, got 3"));
}

TEST(LowPrecisionProto, Float8AndFloat4) {
  auto f8 = proto_of(onnx::kOnnxFloat8E4M3FN, {2});
  f8.add_int32_data(0x38);
  f8.add_int32_data(0x7E);
  auto a = onnx::tensor_from_proto(f8);
  ASSERT_TRUE(a.ok()) << a.error().str();
  testing::expect_tensor(*a, DType::F8E4M3FN, {2}, {1.0, 448.0});
  auto f4 = proto_of(onnx::kOnnxFloat4E2M1, {3});
  f4.set_raw_data(std::string("\xF1\x02", 2));  // 0.5, -6, 1
  auto b = onnx::tensor_from_proto(f4);
  ASSERT_TRUE(b.ok()) << b.error().str();
  testing::expect_tensor(*b, DType::F4E2M1, {3}, {0.5, -6.0, 1.0});
}

TEST(LowPrecisionProto, ExternalDataIsPacked) {
  auto dir = std::filesystem::temp_directory_path() / "tessel_lowp_external";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "w.bin", std::ios::binary) << std::string("\x8F\x07", 2);  // u4 [15, 8, 7]
  auto proto = proto_of(onnx::kOnnxUint4, {3});
  proto.set_data_location(onnx::pb::TensorProto::EXTERNAL);
  auto* entry = proto.add_external_data();
  entry->set_key("location");
  entry->set_value("w.bin");
  auto tensor = onnx::tensor_from_proto(proto, {dir.string()});
  ASSERT_TRUE(tensor.ok()) << tensor.error().str();
  EXPECT_EQ(bits_of(*tensor), (std::vector<int>{15, 8, 7}));
  std::filesystem::remove_all(dir);
}

TEST(LowPrecisionProto, Strings) {
  auto proto = proto_of(onnx::kOnnxString, {2});
  proto.add_string_data("a");
  proto.add_string_data("b\nc");
  auto tensor = onnx::tensor_from_proto(proto);
  ASSERT_TRUE(tensor.ok()) << tensor.error().str();
  EXPECT_EQ(strings_of(*tensor), (std::vector<std::string>{"a", "b\nc"}));
  proto.add_string_data("d");
  EXPECT_THAT(onnx::tensor_from_proto(proto).error().str(), HasSubstr("has 2 elements but string_data holds 3"));
  auto raw = proto_of(onnx::kOnnxString, {1});
  raw.set_raw_data("x");
  EXPECT_THAT(onnx::tensor_from_proto(raw).error().str(), HasSubstr("cannot use raw_data"));
}

TEST(LowPrecisionProto, WriteAndReadBack) {
  for (DType dtype : {DType::I4, DType::U2, DType::F4E2M1, DType::F8E5M2}) {
    Tensor tensor = T(dtype, {3}, {1, -1, 0});
    if (dtype == DType::U2) tensor = T(dtype, {3}, {3, 1, 2});
    onnx::pb::TensorProto proto;
    onnx::tensor_to_proto(tensor, proto);
    auto back = onnx::tensor_from_proto(proto);
    ASSERT_TRUE(back.ok()) << back.error().str();
    EXPECT_TRUE(back->bitwise_equal(tensor)) << dtype_name(dtype);
  }
  Tensor text = strings({"x", ""});
  onnx::pb::TensorProto proto;
  onnx::tensor_to_proto(text, proto);
  EXPECT_EQ(proto.string_data_size(), 2);
  EXPECT_TRUE(onnx::tensor_from_proto(proto)->bitwise_equal(text));
}

// ---- The cast kernel ------------------------------------------------------------------------------

TEST(LowPrecisionCast, FloatToEveryType) {
  Tensor x = T(DType::F32, {3}, {1.0, -2.0, 0.5});
  EXPECT_EQ(bits_of(cast(x, DType::F8E4M3FN)), (std::vector<int>{0x38, 0xC0, 0x30}));
  EXPECT_EQ(bits_of(cast(x, DType::F8E4M3FNUZ)), (std::vector<int>{0x40, 0xC8, 0x38}));
  EXPECT_EQ(bits_of(cast(x, DType::F8E5M2)), (std::vector<int>{0x3C, 0xC0, 0x38}));
  EXPECT_EQ(bits_of(cast(x, DType::F8E5M2FNUZ)), (std::vector<int>{0x40, 0xC4, 0x3C}));
  EXPECT_EQ(bits_of(cast(x, DType::F8E8M0)), (std::vector<int>{0x7F, 0x80, 0x7E}));
  EXPECT_EQ(bits_of(cast(x, DType::F4E2M1)), (std::vector<int>{0x2, 0xC, 0x1}));
  // Integers truncate, then wrap: 0.5 -> 0, -2 -> -2 (0xE in 4 bits, sign-extended), 1 -> 1.
  EXPECT_EQ(bits_of(cast(x, DType::I4)), (std::vector<int>{1, 0xFE, 0}));
  EXPECT_EQ(bits_of(cast(x, DType::U4)), (std::vector<int>{1, 14, 0}));
  EXPECT_EQ(bits_of(cast(x, DType::I2)), (std::vector<int>{1, 0xFE, 0}));
  EXPECT_EQ(bits_of(cast(x, DType::U2)), (std::vector<int>{1, 2, 0}));
}

TEST(LowPrecisionCast, EveryTypeToFloatAndInt) {
  testing::expect_tensor(cast(from_bits(DType::F8E4M3FN, {2}, {0x7E, 0xFF}), DType::F32), DType::F32, {2},
                         {448.0, std::nan("")});
  testing::expect_tensor(cast(from_bits(DType::F8E5M2, {2}, {0x7C, 0x01}), DType::F16), DType::F16, {2},
                         {INFINITY, std::ldexp(1.0, -16)});
  testing::expect_tensor(cast(from_bits(DType::F8E8M0, {2}, {0x80, 0x7D}), DType::F64), DType::F64, {2}, {2.0, 0.25});
  testing::expect_tensor(cast(from_bits(DType::F4E2M1, {2}, {0x7, 0x9}), DType::BF16), DType::BF16, {2}, {6.0, -0.5});
  // i4 -8 to u8 wraps to 248, like any signed-to-unsigned cast; to f16 it is exact.
  testing::expect_tensor(cast(from_bits(DType::I4, {2}, {0xF8, 7}), DType::U8), DType::U8, {2}, {248, 7});
  testing::expect_tensor(cast(from_bits(DType::I4, {2}, {0xF8, 7}), DType::F16), DType::F16, {2}, {-8, 7});
  testing::expect_tensor(cast(from_bits(DType::U2, {2}, {3, 1}), DType::Bool), DType::Bool, {2}, {1, 1});
  testing::expect_tensor(cast(from_bits(DType::F8E4M3FN, {2}, {0x38, 0xC4}), DType::I32), DType::I32, {2}, {1, -3});
}

TEST(LowPrecisionCast, WrapSaturateAndRoundMode) {
  // To int4: -9 wraps to 7 and 8 to -8 (ONNX's test data); NaN gives 0.
  testing::expect_tensor(cast(T(DType::F32, {3}, {-9, 8, NAN}), DType::I4), DType::I4, {3}, {7, -8, 0});
  testing::expect_tensor(cast(T(DType::I64, {2}, {17, -1}), DType::U4), DType::U4, {2}, {1, 15});
  Tensor big = T(DType::F32, {2}, {1e6, -INFINITY});
  EXPECT_EQ(bits_of(cast(big, DType::F8E4M3FN)), (std::vector<int>{0x7E, 0xFE}));
  EXPECT_EQ(bits_of(cast(big, DType::F8E4M3FN, {{"saturate", int64_t{0}}})), (std::vector<int>{0x7F, 0xFF}));
  EXPECT_EQ(bits_of(cast(big, DType::F8E5M2, {{"saturate", int64_t{0}}})), (std::vector<int>{0x7C, 0xFC}));
  Tensor e8 = T(DType::F32, {1}, {3.0});  // between 2 (0x80) and 4 (0x81)
  EXPECT_EQ(bits_of(cast(e8, DType::F8E8M0)), (std::vector<int>{0x81}));
  EXPECT_EQ(bits_of(cast(e8, DType::F8E8M0, {{"round_mode", "down"}})), (std::vector<int>{0x80}));
  // f16 1.0625 (exact) ties to 1.0 in E4M3FN; E4M3FN 448 is exact in E5M2 (1.11 * 2^8: 10111 11).
  EXPECT_EQ(bits_of(cast(T(DType::F16, {1}, {1.0625}), DType::F8E4M3FN)), (std::vector<int>{0x38}));
  EXPECT_EQ(bits_of(cast(from_bits(DType::F8E4M3FN, {1}, {0x7E}), DType::F8E5M2)), (std::vector<int>{0x5F}));
  EXPECT_EQ(bits_of(cast(T(DType::Bool, {2}, {1, 0}), DType::F8E4M3FN)), (std::vector<int>{0x38, 0x00}));
}

TEST(LowPrecisionCast, BadAttributes) {
  Tensor x = T(DType::F32, {1}, {1});
  EXPECT_THAT(testing::run_error(OpKind::Cast, {x}, {{"to", DType::F8E4M3FN}, {"saturate", int64_t{2}}}),
              HasSubstr("saturate must be 0 or 1, got 2"));
  EXPECT_THAT(testing::run_error(OpKind::Cast, {x}, {{"to", DType::F8E8M0}, {"round_mode", "sideways"}}),
              HasSubstr("round_mode must be \"up\", \"down\" or \"nearest\""));
  EXPECT_EQ(testing::infer_type(OpKind::Cast, {{DType::F32, {Dim::symbol("N")}}}, {{"to", DType::I4}}), "i4[N]");
}

TEST(LowPrecisionCast, NumbersToStrings) {
  // numpy's str(): shortest digits; positional for 1e-4 <= |x| < 1e6 (f32), 1e16 (f64), 1e3 (f16).
  Tensor f32 = T(DType::F32, {9}, {0.47892547, 1, 1e6, 1e-5, -0.0, NAN, INFINITY, -INFINITY, 123456});
  EXPECT_EQ(strings_of(cast(f32, DType::String)), (std::vector<std::string>{"0.47892547", "1.0", "1e+06", "1e-05",
                                                                            "-0.0", "nan", "inf", "-inf", "123456.0"}));
  EXPECT_EQ(strings_of(cast(T(DType::F64, {2}, {0.1, 1e16}), DType::String)),
            (std::vector<std::string>{"0.1", "1e+16"}));
  EXPECT_EQ(strings_of(cast(T(DType::F16, {2}, {0.1, 1000}), DType::String)),
            (std::vector<std::string>{"0.1", "1e+03"}));
  EXPECT_EQ(strings_of(cast(T(DType::I32, {2}, {-5, 7}), DType::String)), (std::vector<std::string>{"-5", "7"}));
  EXPECT_EQ(strings_of(cast(T(DType::Bool, {2}, {1, 0}), DType::String)), (std::vector<std::string>{"True", "False"}));
  EXPECT_EQ(strings_of(cast(from_bits(DType::I4, {1}, {0xF8}), DType::String)), (std::vector<std::string>{"-8"}));
  EXPECT_EQ(strings_of(cast(from_bits(DType::F8E4M3FN, {1}, {0x2F}), DType::String)),
            (std::vector<std::string>{"0.46875"}));
}

TEST(LowPrecisionCast, StringsToNumbers) {
  Tensor text = strings({"3.5", "1e-5", "+INF", "-inf", "NaN", " 2 "});
  testing::expect_tensor(cast(text, DType::F32), DType::F32, {6}, {3.5, 1e-5, INFINITY, -INFINITY, NAN, 2});
  testing::expect_tensor(cast(strings({"100.5", "-7"}), DType::I64), DType::I64, {2}, {100, -7});
  testing::expect_tensor(cast(strings({"true", "0", "2.5"}), DType::Bool), DType::Bool, {3}, {1, 0, 1});
  EXPECT_EQ(bits_of(cast(strings({"448", "1000"}), DType::F8E4M3FN)), (std::vector<int>{0x7E, 0x7E}));
  EXPECT_EQ(bits_of(cast(strings({"-9"}), DType::I4)), (std::vector<int>{7}));
  EXPECT_EQ(strings_of(cast(strings({"a"}), DType::String)), (std::vector<std::string>{"a"}));
  EXPECT_THAT(testing::run_error(OpKind::Cast, {strings({"1", "abc"})}, {{"to", DType::F32}}),
              HasSubstr("cannot read string \"abc\" as f32"));
}

// ---- Text form ------------------------------------------------------------------------------------

std::string round_trip(const Module& module) {
  std::string text = print_module(module);
  auto parsed = parse_module(text);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().str()) << "\n" << text;
  if (!parsed.ok()) return "";
  EXPECT_EQ(print_module(**parsed), text);
  for (const auto& [name, tensor] : module.constants())
    EXPECT_TRUE((*parsed)->constant(name)->bitwise_equal(tensor)) << name;
  return text;
}

TEST(LowPrecisionText, ConstantsRoundTrip) {
  Module module;
  module.add_constant("e4", from_bits(DType::F8E4M3FN, {4}, {0x7E, 0xFF, 0x80, 0x01}));
  module.add_constant("e5", from_bits(DType::F8E5M2, {2}, {0x7C, 0xFE}));
  module.add_constant("e8", from_bits(DType::F8E8M0, {3}, {0x00, 0xFE, 0xFF}));
  module.add_constant("f4", from_bits(DType::F4E2M1, {2}, {0x7, 0x9}));
  module.add_constant("i4", from_bits(DType::I4, {2}, {0xF8, 7}));
  module.add_constant("u2", from_bits(DType::U2, {1}, {3}));
  module.add_constant("nan_payload", from_bits(DType::F8E5M2, {1}, {0x7D}));  // not the canonical NaN
  module.add_constant("s", strings({"a\"b", "line\n", ""}));
  module.add_constant("big", from_bits(DType::F8E4M3FNUZ, {70}, std::vector<int>(70, 0x40)));  // hex above 64
  std::string text = round_trip(module);
  EXPECT_THAT(text, HasSubstr("f8e4m3fn[4] = [448.0, -nan, -0.0, 0.001953125]"));
  EXPECT_THAT(text, HasSubstr("f8e5m2[2] = [inf, -nan]"));
  EXPECT_THAT(text, HasSubstr("f4e2m1[2] = [6.0, -0.5]"));
  EXPECT_THAT(text, HasSubstr("i4[2] = [-8, 7]"));
  EXPECT_THAT(text, HasSubstr("f8e5m2[1] = hex\"7d\""));
  EXPECT_THAT(text, HasSubstr("f8e4m3fnuz[70] = hex\"4040"));
  EXPECT_THAT(text, HasSubstr("str[3] = [\"a\\\"b\", \"line\\n\", \"\"]"));
}

TEST(LowPrecisionText, OutOfRangeValuesAreErrors) {
  auto f8 = parse_module("const @c : f8e4m3fn[1] = [1000.0]\n");
  ASSERT_FALSE(f8.ok());
  EXPECT_THAT(f8.error().str(), HasSubstr("out of range for f8e4m3fn"));
  auto i4 = parse_module("const @c : i4[2] = [7, 8]\n");
  ASSERT_FALSE(i4.ok());
  EXPECT_THAT(i4.error().str(), HasSubstr("value 8 is out of range for i4"));
  auto count = parse_module("const @c : str[2] = [\"a\"]\n");
  ASSERT_FALSE(count.ok());
  EXPECT_THAT(count.error().str(), HasSubstr("has 1 values, but str[2] needs 2"));
}

// ---- The ONNX node tests of these types -------------------------------------------------------------

#ifdef TESSEL_ONNX_NODE_TESTS_DIR
TEST(LowPrecisionConformance, NodeTestsPass) {
  std::string root = std::string(TESSEL_ONNX_NODE_TESTS_DIR) + "/node";
  if (!std::filesystem::exists(root + "/test_cast_FLOAT_to_INT4")) GTEST_SKIP() << "ONNX node tests not found";
  onnx::ConformanceOptions options;
  // Casts and CastLikes (with their _expanded forms) and (de)quantization of the low-precision types: 164
  // tests in the suite at the pinned commit.
  options.filter =
      "cast(like)?_.*(FLOAT8|FLOAT4|INT4|UINT4|INT2|UINT2)|quantizelinear_(e4m3|e5m2|float4|int4|uint4|int2|uint2)";
  auto summary = onnx::run_conformance(root, options);
  ASSERT_TRUE(summary.ok()) << summary.error().str();
  EXPECT_EQ(summary->total(), 164);
  for (const auto& result : summary->results)
    EXPECT_EQ(result.outcome, onnx::Outcome::Pass) << onnx::result_line(result);
}
#endif

}  // namespace
}  // namespace tessel
