// Conversions between float and the low-precision storage types that ONNX
// defines: float8 (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ, E8M0), float4 (E2M1) and
// 4-/2-bit integers. Host tensors hold one such element per byte (the raw bit
// pattern in the low bits; integers sign-extended), so kernels convert through
// float exactly as they do for f16.
#pragma once

#include <cstdint>

#include "ir/DType.h"

namespace tessel {

/// The float value of the bit pattern `bits` of low-precision type `dtype` (NaN encodings give NaN).
float low_precision_to_float(DType dtype, uint8_t bits);

/// Rounds `value` to the nearest representable value of `dtype` (ties to even; for E8M0, rounded up to
/// the next power of two as ONNX's default). With `saturate`, values beyond the largest finite value (and
/// infinities for the types without infinity) become ± the largest finite value; without it they become
/// infinity where the type has one, else NaN. Integers saturate to their range; NaN gives 0 for them.
uint8_t float_to_low_precision(DType dtype, float value, bool saturate = true);

/// Largest finite value of a low-precision float type, or the largest value of a 4-/2-bit integer.
float low_precision_max(DType dtype);

/// Smallest value of a 4-/2-bit integer type (the negative of the largest finite value for floats).
float low_precision_lowest(DType dtype);

}  // namespace tessel
