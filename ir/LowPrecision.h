// Conversions between float and the low-precision storage types that ONNX
// defines: float8 (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ, E8M0), float4 (E2M1) and
// 4-/2-bit integers. Host tensors hold one such element per byte (the raw bit
// pattern in the low bits; integers sign-extended), so kernels convert through
// float exactly as they do for f16. The rules follow ONNX's Cast table and, where
// that table is silent, ONNX's reference implementation (ml_dtypes), against which
// the node-test data was generated.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "ir/DType.h"

namespace tessel {

/// How a value between two powers of two rounds to E8M0 (ONNX Cast's `round_mode`).
enum class E8M0Rounding : uint8_t {
  Up,       ///< to the next power of two (ONNX's default)
  Down,     ///< to the power of two below (the value's exponent)
  Nearest,  ///< to the nearer one; halfway (1.5 * 2^e) rounds up
};

/// "up", "down" or "nearest"; nullopt for anything else.
std::optional<E8M0Rounding> parse_e8m0_rounding(std::string_view text);

/// The float value of the bit pattern `bits` of low-precision type `dtype` (NaN encodings give NaN).
float low_precision_to_float(DType dtype, uint8_t bits);

/// Rounds `value` to `dtype`.
/// - float8 E4M3FN/E4M3FNUZ/E5M2/E5M2FNUZ: nearest, ties to even. With `saturate`, ±inf and values beyond
///   the largest finite value become ± that value; without, they become inf (E5M2) or NaN (the others).
///   NaN stays NaN; the FNUZ types have no negative zero (-0 and tiny negatives give +0).
/// - E8M0 (an unsigned power of two): the sign is dropped, `rounding` picks the power of two, NaN and ±inf
///   give NaN (0xFF); rounding past 2^127 gives 2^127 with `saturate`, else NaN.
/// - E2M1 (no inf, no NaN): nearest, ties to even, saturating at ±6 whatever `saturate` says; NaN gives -0
///   (0x8), as ONNX's reference does.
/// - 4-/2-bit integers: truncated toward zero and clamped to the range; NaN gives 0 (see
///   `int_to_low_precision` for the wrapping that casts use).
uint8_t float_to_low_precision(DType dtype, float value, bool saturate = true,
                               E8M0Rounding rounding = E8M0Rounding::Up);

/// The 4-/2-bit integer `value` modulo 2^bits (two's complement wrap), stored sign-extended for I4/I2:
/// what casting an integer to these types does. Other dtypes: 0.
uint8_t int_to_low_precision(DType dtype, int64_t value);

/// The bits of a low-precision float written as `value` in the text form: rounded to nearest (E8M0 to the
/// nearer power of two), NaN keeping its sign where the type has signed NaNs. nullopt when the type cannot
/// hold it: beyond the largest finite value, inf or NaN where the type has none, E8M0 outside
/// [2^-127, 2^127] (or NaN's 0xFF). Every value `low_precision_to_float` gives reads back to its bits,
/// except NaN payloads other than the canonical one.
std::optional<uint8_t> low_precision_from_text(DType dtype, float value);

/// The bit layout of a float8/float4 type: a sign bit above `exponent_bits` and `mantissa_bits`, the
/// exponent biased by `bias`, and which encodings are special (at most one flag is set; none for E2M1).
struct MiniFloatLayout {
  int exponent_bits = 0;
  int mantissa_bits = 0;
  int bias = 0;
  bool ieee = false;         ///< all-ones exponent: inf (mantissa 0) or NaN (E5M2)
  bool finite_only = false;  ///< no inf; all-ones exponent and mantissa is NaN (E4M3FN)
  bool fnuz = false;         ///< no inf, no negative zero; 0x80 is the only NaN (the FNUZ types)
};

/// The layout of F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ or F4E2M1; nullopt for other dtypes (E8M0 has
/// neither sign nor mantissa).
std::optional<MiniFloatLayout> minifloat_layout(DType dtype);

/// I4, U4, I2 or U2.
bool is_low_precision_int(DType dtype);

/// Largest finite value of a low-precision float type, or the largest value of a 4-/2-bit integer.
float low_precision_max(DType dtype);

/// Smallest value of a 4-/2-bit integer type (the negative of the largest finite value for the signed
/// floats; the smallest positive value, 2^-127, for E8M0).
float low_precision_lowest(DType dtype);

}  // namespace tessel
