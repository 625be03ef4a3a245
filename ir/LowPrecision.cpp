#include "ir/LowPrecision.h"

#include <cmath>
#include <limits>

namespace tessel {
namespace {

// How a minifloat format spends its special encodings.
enum class Specials {
  Ieee,        // all-ones exponent: infinity (mantissa 0) or NaN
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

float largest_finite(const MiniFloat& format) {
  int top_exponent = (1 << format.exponent_bits) - 1;
  int top_mantissa = (1 << format.mantissa_bits) - 1;
  if (format.specials == Specials::Ieee) --top_exponent;
  if (format.specials == Specials::FiniteOnly) --top_mantissa;  // all ones is NaN
  float fraction = 1.0f + static_cast<float>(top_mantissa) / static_cast<float>(1 << format.mantissa_bits);
  return std::ldexp(fraction, top_exponent - format.bias);
}

uint8_t nan_bits(const MiniFloat& format, bool negative) {
  uint8_t sign = negative ? static_cast<uint8_t>(1u << sign_shift(format)) : 0;
  switch (format.specials) {
    case Specials::Ieee: return static_cast<uint8_t>(sign | (((1u << format.exponent_bits) - 1) << format.mantissa_bits) | 1u << (format.mantissa_bits - 1));
    case Specials::FiniteOnly: return static_cast<uint8_t>(sign | ((1u << sign_shift(format)) - 1));
    case Specials::Fnuz: return 0x80;
    case Specials::None: return static_cast<uint8_t>(sign | ((1u << sign_shift(format)) - 1));  // no NaN: largest
  }
  return 0;
}

// Encodes a finite, exactly representable magnitude.
uint8_t encode_exact(const MiniFloat& format, float magnitude) {
  if (magnitude == 0) return 0;
  int min_exponent = 1 - format.bias;
  int exponent = std::ilogb(magnitude);
  if (exponent < min_exponent) {  // subnormal
    float mantissa = std::ldexp(magnitude, format.mantissa_bits - min_exponent);
    return static_cast<uint8_t>(mantissa);
  }
  float fraction = std::ldexp(magnitude, -exponent) - 1.0f;
  auto mantissa = static_cast<uint32_t>(std::ldexp(fraction, format.mantissa_bits));
  return static_cast<uint8_t>((static_cast<uint32_t>(exponent + format.bias) << format.mantissa_bits) | mantissa);
}

uint8_t float_to_minifloat(const MiniFloat& format, float value, bool saturate) {
  bool negative = std::signbit(value);
  uint8_t sign = negative ? static_cast<uint8_t>(1u << sign_shift(format)) : 0;
  if (std::isnan(value)) return nan_bits(format, negative);
  float max = largest_finite(format);
  float magnitude = std::fabs(value);
  if (std::isinf(value)) {
    if (format.specials == Specials::Ieee && !saturate) return static_cast<uint8_t>(sign | (((1u << format.exponent_bits) - 1) << format.mantissa_bits));
    if (format.specials == Specials::Fnuz) return nan_bits(format, negative);
    if (!saturate && format.specials != Specials::None) return nan_bits(format, negative);
    return static_cast<uint8_t>(sign | encode_exact(format, max));
  }
  int min_exponent = 1 - format.bias;
  int exponent = magnitude == 0 ? min_exponent : std::max(std::ilogb(magnitude), min_exponent);
  float quantum = std::ldexp(1.0f, exponent - format.mantissa_bits);
  float rounded = std::nearbyint(magnitude / quantum) * quantum;  // ties to even in the default mode
  if (rounded > max) {
    if (saturate || format.specials == Specials::None) return static_cast<uint8_t>(sign | encode_exact(format, max));
    if (format.specials == Specials::Ieee) return static_cast<uint8_t>(sign | (((1u << format.exponent_bits) - 1) << format.mantissa_bits));
    return nan_bits(format, negative);
  }
  if (rounded == 0 && format.specials == Specials::Fnuz) return 0;  // no negative zero
  return static_cast<uint8_t>(sign | encode_exact(format, rounded));
}

float minifloat_to_float(const MiniFloat& format, uint8_t bits) {
  uint32_t exponent_mask = (1u << format.exponent_bits) - 1;
  uint32_t mantissa_mask = (1u << format.mantissa_bits) - 1;
  bool negative = (bits >> sign_shift(format)) & 1u;
  uint32_t exponent = (bits >> format.mantissa_bits) & exponent_mask;
  uint32_t mantissa = bits & mantissa_mask;
  float nan = std::numeric_limits<float>::quiet_NaN();
  if (format.specials == Specials::Fnuz && bits == 0x80) return nan;
  if (format.specials == Specials::FiniteOnly && exponent == exponent_mask && mantissa == mantissa_mask)
    return negative ? -nan : nan;
  if (format.specials == Specials::Ieee && exponent == exponent_mask) {
    if (mantissa != 0) return negative ? -nan : nan;
    return negative ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  }
  float magnitude = exponent == 0
                        ? std::ldexp(static_cast<float>(mantissa), 1 - format.bias - format.mantissa_bits)
                        : std::ldexp(1.0f + std::ldexp(static_cast<float>(mantissa), -format.mantissa_bits),
                                     static_cast<int>(exponent) - format.bias);
  return negative ? -magnitude : magnitude;
}

// E8M0: an unsigned power of two 2^(bits-127); 0xFF is NaN; there is no zero.
float e8m0_to_float(uint8_t bits) {
  if (bits == 0xFF) return std::numeric_limits<float>::quiet_NaN();
  return std::ldexp(1.0f, static_cast<int>(bits) - 127);
}

uint8_t float_to_e8m0(float value, bool saturate) {
  if (std::isnan(value)) return 0xFF;
  if (std::isinf(value)) return saturate ? 0xFE : 0xFF;
  float magnitude = std::fabs(value);
  if (magnitude == 0 || magnitude < std::ldexp(1.0f, -127)) return 0;
  int exponent = std::ilogb(magnitude);
  if (std::ldexp(1.0f, exponent) != magnitude) ++exponent;  // round up
  if (exponent > 127) return saturate ? 0xFE : 0xFF;
  return static_cast<uint8_t>(exponent + 127);
}

struct IntRange {
  int lowest;
  int highest;
};

IntRange int_range(DType dtype) {
  switch (dtype) {
    case DType::I4: return {-8, 7};
    case DType::U4: return {0, 15};
    case DType::I2: return {-2, 1};
    default: return {0, 3};  // U2
  }
}

bool is_small_int(DType dtype) {
  return dtype == DType::I4 || dtype == DType::U4 || dtype == DType::I2 || dtype == DType::U2;
}

}  // namespace

float low_precision_to_float(DType dtype, uint8_t bits) {
  if (dtype == DType::F8E8M0) return e8m0_to_float(bits);
  if (dtype == DType::I4 || dtype == DType::I2) return static_cast<float>(static_cast<int8_t>(bits));
  if (dtype == DType::U4 || dtype == DType::U2) return static_cast<float>(bits);
  return minifloat_to_float(minifloat_format(dtype), bits);
}

uint8_t float_to_low_precision(DType dtype, float value, bool saturate) {
  if (dtype == DType::F8E8M0) return float_to_e8m0(value, saturate);
  if (is_small_int(dtype)) {
    if (std::isnan(value)) return 0;
    IntRange range = int_range(dtype);
    float clamped = std::fmin(std::fmax(std::trunc(value), static_cast<float>(range.lowest)),
                              static_cast<float>(range.highest));
    return static_cast<uint8_t>(static_cast<int8_t>(clamped));
  }
  return float_to_minifloat(minifloat_format(dtype), value, saturate);
}

float low_precision_max(DType dtype) {
  if (dtype == DType::F8E8M0) return std::ldexp(1.0f, 127);
  if (is_small_int(dtype)) return static_cast<float>(int_range(dtype).highest);
  return largest_finite(minifloat_format(dtype));
}

float low_precision_lowest(DType dtype) {
  if (dtype == DType::F8E8M0) return std::ldexp(1.0f, -127);
  if (is_small_int(dtype)) return static_cast<float>(int_range(dtype).lowest);
  return -largest_finite(minifloat_format(dtype));
}

}  // namespace tessel
