// Low-precision conversions as loop IR (see LowPrecisionExpr.h). The loop IR has no shifts, so shifts are
// u32 multiplications and divisions by powers of two (which code generators turn back into shifts). Rounding
// to a minifloat follows ir/LowPrecision.cpp's encode_magnitude: the magnitude is divided by the spacing of
// the representable values around it (a power of two, so the division is exact), rounded half to even and
// scaled back; the encoding is then read off the rounded f32's bits. Results for NaN and for values out of
// range are constants taken from float_to_low_precision itself.
#include "ir/loop/LowPrecisionExpr.h"

#include <cmath>
#include <limits>

namespace tessel::loop {
namespace {

Expr splat(Expr scalar, int lanes) { return lanes == 1 ? scalar : broadcast(std::move(scalar), lanes); }
Expr u32(uint64_t value, int lanes) { return splat(int_imm(static_cast<int64_t>(value), DType::U32), lanes); }
Expr f32(double value, int lanes) { return splat(float_imm(value, DType::F32), lanes); }
int lanes_of(const Expr& e) { return e->type.lanes; }

Expr shr(const Expr& x, int bits) { return x / u32(uint64_t{1} << bits, lanes_of(x)); }
Expr shl(const Expr& x, int bits) { return x * u32(uint64_t{1} << bits, lanes_of(x)); }
Expr bit_and(const Expr& x, uint64_t mask) { return binary(BinOp::And, x, u32(mask, lanes_of(x))); }
Expr bit_or(const Expr& a, const Expr& b) { return binary(BinOp::Or, a, b); }
Expr equals(const Expr& x, uint64_t value) { return eq(x, u32(value, lanes_of(x))); }
Expr differs(const Expr& x, uint64_t value) { return ne(x, u32(value, lanes_of(x))); }

Expr as_u32(const Expr& x) { return reinterpret(Type{DType::U32, lanes_of(x)}, x); }
Expr as_f32(const Expr& x) { return reinterpret(Type{DType::F32, lanes_of(x)}, x); }
/// The byte of a low-precision value, zero-extended to u32.
Expr byte_u32(const Expr& bits) {
  return cast(Type{DType::U32, lanes_of(bits)}, reinterpret(Type{DType::U8, lanes_of(bits)}, bits));
}
/// A u32 holding a byte as a value of low-precision dtype `to`.
Expr as_low_precision(DType to, const Expr& byte) {
  return reinterpret(Type{to, lanes_of(byte)}, cast(Type{DType::U8, lanes_of(byte)}, byte));
}

constexpr uint32_t kQuietNan = 0x7FC00000u;  // std::numeric_limits<float>::quiet_NaN()
constexpr uint32_t kInf = 0x7F800000u;

Expr minifloat_to_f32(const MiniFloatLayout& f, const Expr& bits) {
  int lanes = lanes_of(bits), m = f.mantissa_bits, e = f.exponent_bits;
  uint32_t exponent_mask = (1u << e) - 1, mantissa_mask = (1u << m) - 1;
  Expr b = byte_u32(bits);
  Expr sign = shl(bit_and(shr(b, e + m), 1), 31);
  Expr exponent = bit_and(shr(b, m), exponent_mask);
  Expr mantissa = bit_and(b, mantissa_mask);
  // Subnormals are mantissa * 2^(1 - bias - m); normals get the f32 exponent and the mantissa's top bits.
  Expr subnormal = as_u32(cast(Type{DType::F32, lanes}, mantissa) * f32(std::ldexp(1.0, 1 - f.bias - m), lanes));
  Expr normal = shl(exponent + u32(static_cast<uint32_t>(127 - f.bias), lanes), 23) + shl(mantissa, 23 - m);
  Expr result = bit_or(select(equals(exponent, 0), subnormal, normal), sign);
  if (f.ieee) {
    Expr special = bit_or(select(equals(mantissa, 0), u32(kInf, lanes), u32(kQuietNan, lanes)), sign);
    result = select(equals(exponent, exponent_mask), special, result);
  }
  if (f.finite_only) {
    uint32_t all_ones = (1u << (e + m)) - 1;
    result = select(equals(bit_and(b, all_ones), all_ones), bit_or(u32(kQuietNan, lanes), sign), result);
  }
  if (f.fnuz) result = select(equals(b, 0x80), u32(kQuietNan, lanes), result);
  return as_f32(result);
}

// 2^(bits - 127); bits 0 is 2^-127 (an f32 subnormal), 0xFF is NaN.
Expr e8m0_to_f32(const Expr& bits) {
  int lanes = lanes_of(bits);
  Expr b = byte_u32(bits);
  Expr result = select(equals(b, 0), u32(0x00400000u, lanes), shl(b, 23));
  return as_f32(select(equals(b, 0xFF), u32(kQuietNan, lanes), result));
}

/// A u32 that is float_to_low_precision(to, ±magnitude) by the sign flag (0 or 1).
Expr by_sign(DType to, const Expr& negative, float magnitude, bool saturate) {
  int lanes = lanes_of(negative);
  uint8_t positive_bits = float_to_low_precision(to, magnitude, saturate);
  uint8_t negative_bits = float_to_low_precision(to, -magnitude, saturate);
  return select(equals(negative, 1), u32(negative_bits, lanes), u32(positive_bits, lanes));
}

Expr f32_to_minifloat(DType to, const MiniFloatLayout& f, const Expr& value, bool saturate) {
  int lanes = lanes_of(value), m = f.mantissa_bits;
  int min_exponent = 1 - f.bias;  // of the smallest normal
  Expr u = as_u32(value);
  Expr negative = shr(u, 31);
  Expr magnitude_bits = bit_and(u, 0x7FFFFFFFu);
  Expr magnitude = as_f32(magnitude_bits);
  // The spacing of the representable values around the magnitude: 2^(max(exponent, min_exponent) - m).
  Expr exponent = max(shr(magnitude_bits, 23), u32(static_cast<uint32_t>(min_exponent + 127), lanes));
  Expr quantum = as_f32(shl(exponent - u32(static_cast<uint32_t>(m), lanes), 23));
  Expr steps = call(Intrinsic::Round, {magnitude / quantum});  // half to even
  Expr rounded = steps * quantum;
  // Below the smallest normal the encoding is the step count; above, the rounded f32's exponent and
  // mantissa rebased (its low 23 - m bits are zero).
  Expr normal = shr(as_u32(rounded), 23 - m) - u32(static_cast<uint32_t>(127 - f.bias) << m, lanes);
  Expr code = select(rounded < f32(std::ldexp(1.0, min_exponent), lanes), cast(Type{DType::U32, lanes}, steps), normal);
  Expr finite = bit_or(code, shl(negative, f.exponent_bits + m));
  if (f.fnuz) finite = select(equals(code, 0), u32(0, lanes), finite);  // no negative zero
  Expr too_large = rounded > f32(low_precision_max(to), lanes);         // also ±inf
  Expr is_nan = magnitude_bits > u32(kInf, lanes);
  float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  Expr result = select(is_nan, by_sign(to, negative, nan, saturate),
                       select(too_large, by_sign(to, negative, inf, saturate), finite));
  return as_low_precision(to, result);
}

// The f32's biased exponent, bumped by one when the rounding asks for it (float_to_e8m0).
Expr f32_to_e8m0(const Expr& value, bool saturate, E8M0Rounding rounding) {
  int lanes = lanes_of(value);
  Expr u = as_u32(value);
  Expr exponent = bit_and(shr(u, 23), 0xFF);
  Expr fraction = bit_and(u, 0x7FFFFF);
  Expr up = splat(bool_imm(false), lanes);
  if (rounding == E8M0Rounding::Up) up = differs(fraction, 0);
  if (rounding == E8M0Rounding::Nearest) {
    Expr half = differs(bit_and(fraction, 0x400000), 0);
    Expr below = differs(bit_and(fraction, 0x3FFFFF), 0);
    up = half && (below || exponent > u32(0, lanes));  // halfway rounds up for normal floats
  }
  if (saturate) up = up && differs(exponent, 0xFE);
  Expr bumped = exponent + cast(Type{DType::U32, lanes}, up);  // 0xFE + 1 is NaN: overflow without saturation
  return as_low_precision(DType::F8E8M0, select(equals(exponent, 0xFF), u32(0xFF, lanes), bumped));
}

}  // namespace

Expr low_precision_float_to_f32(const Expr& bits) {
  DType from = bits->type.elem;
  if (from == DType::F8E8M0) return e8m0_to_f32(bits);
  return minifloat_to_f32(*minifloat_layout(from), bits);
}

Expr f32_to_low_precision_float(DType to, const Expr& value, bool saturate, E8M0Rounding rounding) {
  if (to == DType::F8E8M0) return f32_to_e8m0(value, saturate, rounding);
  return f32_to_minifloat(to, *minifloat_layout(to), value, saturate);
}

Expr low_precision_int_value(const Expr& bits) {
  DType from = bits->type.elem;
  bool is_signed = from == DType::I4 || from == DType::I2;
  return reinterpret(Type{is_signed ? DType::I8 : DType::U8, lanes_of(bits)}, bits);
}

Expr i64_to_low_precision_int(DType to, const Expr& value) {
  int lanes = lanes_of(value);
  int width = to == DType::I4 || to == DType::U4 ? 4 : 2;
  auto i64 = [&](int64_t v) { return splat(int_imm(v), lanes); };
  Expr bits = binary(BinOp::And, value, i64((int64_t{1} << width) - 1));
  if (to == DType::U4 || to == DType::U2) return reinterpret(Type{to, lanes}, cast(Type{DType::U8, lanes}, bits));
  // Signed: the top bit of the field is the sign; the byte holds the value sign-extended.
  Expr wrapped = select(bits >= i64(int64_t{1} << (width - 1)), bits - i64(int64_t{1} << width), bits);
  return reinterpret(Type{to, lanes}, cast(Type{DType::I8, lanes}, wrapped));
}

}  // namespace tessel::loop
