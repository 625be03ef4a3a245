// Conversions between the compute dtypes and the low-precision storage dtypes (float8, float4, E8M0,
// 4-/2-bit integers) as loop-IR expressions: integer bit arithmetic through `reinterpret` that computes,
// bit for bit, what ir/LowPrecision.h computes, so the loop evaluator and every backend agree with the
// interpreter with no tables and no runtime calls. Lowering uses them for the tensor IR's cast. Every
// function works lane-wise on scalars and vectors.
#pragma once

#include "ir/LowPrecision.h"
#include "ir/loop/LoopIR.h"

namespace tessel::loop {

/// The f32 value of `bits`, an expression of a float8/float4/E8M0 dtype (low_precision_to_float).
Expr low_precision_float_to_f32(const Expr& bits);

/// `value` (f32) rounded to the float8/float4/E8M0 dtype `to` (float_to_low_precision with `saturate` and
/// `rounding`).
Expr f32_to_low_precision_float(DType to, const Expr& value, bool saturate, E8M0Rounding rounding);

/// The value of `bits`, an expression of a 4-/2-bit integer dtype, as i8 (I4, I2) or u8 (U4, U2).
Expr low_precision_int_value(const Expr& bits);

/// `value` (i64) wrapped to the 4-/2-bit integer dtype `to` (int_to_low_precision).
Expr i64_to_low_precision_int(DType to, const Expr& value);

}  // namespace tessel::loop
