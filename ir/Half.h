// Conversions between float and the 16-bit float formats (IEEE binary16 and
// bfloat16), rounding to nearest even. Tensors store f16/bf16 as raw uint16.
#pragma once

#include <cstdint>
#include <cstring>

namespace tessel {

inline uint32_t float_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

inline float bits_float(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

inline float bf16_to_float(uint16_t value) { return bits_float(uint32_t{value} << 16); }

inline uint16_t float_to_bf16(float value) {
  uint32_t bits = float_bits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float half_to_float(uint16_t value);
uint16_t float_to_half(float value);

}  // namespace tessel
