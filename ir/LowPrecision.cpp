// Low-precision conversions (see LowPrecision.h). The float8/float4 formats are
// handled by one generic minifloat codec parameterized by exponent and mantissa
// widths, bias and how the format spends its special encodings; E8M0 (exponent
// only) and the small integers have their own short paths.
#include "ir/LowPrecision.h"

#include <bit>
#include <cmath>
#include <limits>

namespace tessel {
namespace {

// How a minifloat format spends its special encodings.
enum class Specials {
  Ieee,        // all-ones exponent: infinity (mantissa 0) or NaN (E5M2)
  FiniteOnly,  // no infinity; all-ones exponent and mantissa is NaN (E4M3FN)
  Fnuz,        // no infinity, no negative zero; 0x80 is the only NaN
  None,        // no infinity, no NaN (E2M1)
};

struct MiniFloat {
  int exponent_bits;
  int mantissa_bits;
  int bias;
  Specials specials;
};

MiniFloat minifloat_format(DType dtype) {
  switch (dtype) {
    case DType::F8E4M3FN: return {4, 3, 7, Specials::FiniteOnly};
    case DType::F8E4M3FNUZ: return {4, 3, 8, Specials::Fnuz};
    case DType::F8E5M2: return {5, 2, 15, Specials::Ieee};
    case DType::F8E5M2FNUZ: return {5, 2, 16, Specials::Fnuz};
    default: return {2, 1, 1, Specials::None};  // F4E2M1
  }
}

int sign_shift(const MiniFloat& format) { return format.exponent_bits + format.mantissa_bits; }
uint32_t exponent_mask(const MiniFloat& format) { return (1u << format.exponent_bits) - 1; }
uint32_t mantissa_mask(const MiniFloat& format) { return (1u << format.mantissa_bits) - 1; }

uint8_t sign_bit(const MiniFloat& format, bool negative) {
  return negative ? static_cast<uint8_t>(1u << sign_shift(format)) : uint8_t{0};
}

// The largest finite magnitude as a bit pattern (sign clear).
uint8_t max_bits(const MiniFloat& format) {
  uint32_t exponent = exponent_mask(format);
  uint32_t mantissa = mantissa_mask(format);
  if (format.specials == Specials::Ieee) --exponent;        // all-ones exponent is inf/NaN
  if (format.specials == Specials::FiniteOnly) --mantissa;  // all-ones exponent and mantissa is NaN
  return static_cast<uint8_t>((exponent << format.mantissa_bits) | mantissa);
}

uint8_t inf_bits(const MiniFloat& format, bool negative) {
  return static_cast<uint8_t>(sign_bit(format, negative) | (exponent_mask(format) << format.mantissa_bits));
}

// The NaN a conversion produces (ml_dtypes' choice: a quiet NaN carrying the input's sign where the
// format has signed NaNs). E2M1 has none; callers handle it.
uint8_t nan_bits(const MiniFloat& format, bool negative) {
  switch (format.specials) {
    case Specials::Ieee: return static_cast<uint8_t>(inf_bits(format, negative) | (1u << (format.mantissa_bits - 1)));
    case Specials::FiniteOnly:
      return static_cast<uint8_t>(sign_bit(format, negative) | ((1u << sign_shift(format)) - 1));
    case Specials::Fnuz: return 0x80;
    case Specials::None: break;
  }
  return 0;
}

float minifloat_to_float(const MiniFloat& format, uint8_t bits) {
  bool negative = (bits >> sign_shift(format)) & 1u;
  uint32_t exponent = (bits >> format.mantissa_bits) & exponent_mask(format);
  uint32_t mantissa = bits & mantissa_mask(format);
  float nan = std::numeric_limits<float>::quiet_NaN();
  if (format.specials == Specials::Fnuz && bits == 0x80) return nan;
  if (format.specials == Specials::FiniteOnly && exponent == exponent_mask(format) && mantissa == mantissa_mask(format))
    return negative ? -nan : nan;
  if (format.specials == Specials::Ieee && exponent == exponent_mask(format)) {
    if (mantissa != 0) return negative ? -nan : nan;
    return negative ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  }
  // Subnormals (exponent field 0) are mantissa * 2^(1 - bias - m); normals have the implicit leading 1.
  float magnitude = exponent == 0 ? std::ldexp(static_cast<float>(mantissa), 1 - format.bias - format.mantissa_bits)
                                  : std::ldexp(static_cast<float>(mantissa | (1u << format.mantissa_bits)),
                                               static_cast<int>(exponent) - format.bias - format.mantissa_bits);
  return negative ? -magnitude : magnitude;
}

// Rounds a finite magnitude to the format's grid (nearest, ties to even) and returns it as a count of
// the smallest subnormal step 2^(1 - bias - m): the encoding then follows from that integer.
uint8_t encode_magnitude(const MiniFloat& format, double magnitude, bool& overflow) {
  overflow = false;
  const int min_exponent = 1 - format.bias;  // exponent of the smallest normal
  int exponent = magnitude == 0 ? min_exponent : std::max(std::ilogb(magnitude), min_exponent);
  // Spacing of representable values around `magnitude`; the division is exact (a power of two).
  double quantum = std::ldexp(1.0, exponent - format.mantissa_bits);
  double steps = std::nearbyint(magnitude / quantum);  // default rounding mode: ties to even
  double rounded = steps * quantum;
  double largest = minifloat_to_float(format, max_bits(format));
  if (rounded > largest) {
    overflow = true;
    return 0;
  }
  if (rounded == 0) return 0;
  int rounded_exponent = std::max(std::ilogb(rounded), min_exponent);
  if (std::ilogb(rounded) < min_exponent)  // subnormal: exponent field 0
    return static_cast<uint8_t>(std::ldexp(rounded, format.mantissa_bits - min_exponent));
  auto mantissa =
      static_cast<uint32_t>(std::ldexp(rounded, format.mantissa_bits - rounded_exponent)) & mantissa_mask(format);
  return static_cast<uint8_t>((static_cast<uint32_t>(rounded_exponent + format.bias) << format.mantissa_bits) |
                              mantissa);
}

uint8_t float_to_minifloat(const MiniFloat& format, float value, bool saturate) {
  bool negative = std::signbit(value);
  if (std::isnan(value)) return format.specials == Specials::None ? uint8_t{0x8} : nan_bits(format, negative);
  // E2M1 has nothing but finite values, so it always saturates.
  bool saturating = saturate || format.specials == Specials::None;
  auto out_of_range = [&] {
    if (saturating) return static_cast<uint8_t>(sign_bit(format, negative) | max_bits(format));
    if (format.specials == Specials::Ieee) return inf_bits(format, negative);
    return nan_bits(format, negative);
  };
  if (std::isinf(value)) return out_of_range();
  bool overflow = false;
  uint8_t magnitude = encode_magnitude(format, std::fabs(static_cast<double>(value)), overflow);
  if (overflow) return out_of_range();
  if (magnitude == 0 && format.specials == Specials::Fnuz) return 0;  // no negative zero
  return static_cast<uint8_t>(sign_bit(format, negative) | magnitude);
}

// E8M0: an unsigned power of two 2^(bits-127); 0xFF is NaN; there is no zero.
float e8m0_to_float(uint8_t bits) {
  if (bits == 0xFF) return std::numeric_limits<float>::quiet_NaN();
  return std::ldexp(1.0f, static_cast<int>(bits) - 127);
}

// Works on the float's bits as ONNX's reference does: the result is the float's biased exponent, bumped
// by one when the rounding asks for it. Zero and float subnormals have exponent 0 (2^-127).
uint8_t float_to_e8m0(float value, bool saturate, E8M0Rounding rounding) {
  uint32_t bits = std::bit_cast<uint32_t>(value);
  uint32_t exponent = (bits >> 23) & 0xFF;
  if (exponent == 0xFF) return 0xFF;  // NaN and ±inf
  uint32_t fraction = bits & 0x7FFFFF;
  bool up = false;
  switch (rounding) {
    case E8M0Rounding::Up: up = fraction != 0; break;
    case E8M0Rounding::Down: break;
    case E8M0Rounding::Nearest: {
      bool half = fraction & 0x400000;       // the fraction is at least 0.5
      bool below = fraction & 0x3FFFFF;      // anything under the half bit
      up = half && (below || exponent > 0);  // halfway rounds up for normal floats
      break;
    }
  }
  if (up && exponent == 0xFE && saturate) up = false;
  return static_cast<uint8_t>(exponent + (up ? 1 : 0));  // 0xFE + 1 is NaN: overflow without saturation
}

struct IntRange {
  int bits;
  bool is_signed;
};

IntRange int_range(DType dtype) {
  switch (dtype) {
    case DType::I4: return {4, true};
    case DType::U4: return {4, false};
    case DType::I2: return {2, true};
    default: return {2, false};  // U2
  }
}

int64_t range_lowest(IntRange range) { return range.is_signed ? -(int64_t{1} << (range.bits - 1)) : 0; }
int64_t range_highest(IntRange range) { return (int64_t{1} << (range.bits - (range.is_signed ? 1 : 0))) - 1; }

}  // namespace

std::optional<E8M0Rounding> parse_e8m0_rounding(std::string_view text) {
  if (text == "up") return E8M0Rounding::Up;
  if (text == "down") return E8M0Rounding::Down;
  if (text == "nearest") return E8M0Rounding::Nearest;
  return std::nullopt;
}

std::optional<uint8_t> low_precision_from_text(DType dtype, float value) {
  if (is_low_precision_int(dtype)) return std::nullopt;
  float max = low_precision_max(dtype);
  if (dtype == DType::F8E8M0) {
    if (std::isnan(value)) return uint8_t{0xFF};
    if (!(value >= low_precision_lowest(dtype) && value <= max)) return std::nullopt;
    return float_to_e8m0(value, false, E8M0Rounding::Nearest);
  }
  MiniFloat format = minifloat_format(dtype);
  if (std::isnan(value)) {
    if (format.specials == Specials::None) return std::nullopt;
    return nan_bits(format, std::signbit(value));
  }
  if (std::isinf(value) && format.specials != Specials::Ieee) return std::nullopt;
  if (std::isfinite(value) && std::fabs(value) > max) return std::nullopt;
  return float_to_minifloat(format, value, false);
}

std::optional<MiniFloatLayout> minifloat_layout(DType dtype) {
  if (!is_low_precision_float(dtype) || dtype == DType::F8E8M0) return std::nullopt;
  MiniFloat format = minifloat_format(dtype);
  MiniFloatLayout layout;
  layout.exponent_bits = format.exponent_bits;
  layout.mantissa_bits = format.mantissa_bits;
  layout.bias = format.bias;
  layout.ieee = format.specials == Specials::Ieee;
  layout.finite_only = format.specials == Specials::FiniteOnly;
  layout.fnuz = format.specials == Specials::Fnuz;
  return layout;
}

bool is_low_precision_int(DType dtype) {
  return dtype == DType::I4 || dtype == DType::U4 || dtype == DType::I2 || dtype == DType::U2;
}

float low_precision_to_float(DType dtype, uint8_t bits) {
  if (dtype == DType::F8E8M0) return e8m0_to_float(bits);
  if (dtype == DType::I4 || dtype == DType::I2) return static_cast<float>(static_cast<int8_t>(bits));
  if (dtype == DType::U4 || dtype == DType::U2) return static_cast<float>(bits);
  return minifloat_to_float(minifloat_format(dtype), bits);
}

uint8_t float_to_low_precision(DType dtype, float value, bool saturate, E8M0Rounding rounding) {
  if (dtype == DType::F8E8M0) return float_to_e8m0(value, saturate, rounding);
  if (is_low_precision_int(dtype)) {
    if (std::isnan(value)) return 0;
    IntRange range = int_range(dtype);
    double clamped = std::fmin(std::fmax(std::trunc(static_cast<double>(value)), double(range_lowest(range))),
                               double(range_highest(range)));
    return int_to_low_precision(dtype, static_cast<int64_t>(clamped));
  }
  return float_to_minifloat(minifloat_format(dtype), value, saturate);
}

uint8_t int_to_low_precision(DType dtype, int64_t value) {
  if (!is_low_precision_int(dtype)) return 0;
  IntRange range = int_range(dtype);
  uint64_t mask = (uint64_t{1} << range.bits) - 1;
  uint64_t bits = static_cast<uint64_t>(value) & mask;
  if (range.is_signed && (bits >> (range.bits - 1)) & 1u) bits |= ~mask;  // sign-extend into the byte
  return static_cast<uint8_t>(bits);
}

float low_precision_max(DType dtype) {
  if (dtype == DType::F8E8M0) return std::ldexp(1.0f, 127);
  if (is_low_precision_int(dtype)) return static_cast<float>(range_highest(int_range(dtype)));
  MiniFloat format = minifloat_format(dtype);
  return minifloat_to_float(format, max_bits(format));
}

float low_precision_lowest(DType dtype) {
  if (dtype == DType::F8E8M0) return std::ldexp(1.0f, -127);
  if (is_low_precision_int(dtype)) return static_cast<float>(range_lowest(int_range(dtype)));
  return -low_precision_max(dtype);
}

}  // namespace tessel
