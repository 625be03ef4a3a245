// Private to ir/loop: the per-lane semantics of the loop IR's operations, shared by the evaluator and
// the simplifier's constant folding so that both agree bit for bit. A lane holds an integer (in `i`,
// two's-complement bits, normalized to its dtype's width) or a float (in `f`, rounded to its dtype).
#pragma once

#include <cstdint>

#include "ir/DType.h"
#include "ir/loop/LoopIR.h"

namespace tessel::loop::detail {

struct Lane {
  int64_t i = 0;
  double f = 0;
};

/// Wraps an integer to `dtype`'s width (bool: != 0; low-precision dtypes: the raw byte), or rounds a float
/// to `dtype`.
Lane normalize(Lane v, DType dtype);
Lane binary_lane(BinOp op, DType dtype, Lane a, Lane b);
Lane intrinsic_lane(Intrinsic fn, DType dtype, Lane a, Lane b, DType b_dtype);
Lane cast_lane(DType from, DType to, Lane v);
/// The bits of `v` (a `from` lane) as a `to` lane of the same byte size; bool results are bits != 0.
Lane reinterpret_lane(DType from, DType to, Lane v);
/// The lane of an immediate.
Lane imm_lane(const ExprNode& e);
/// An immediate of `dtype` holding `v`.
Expr lane_imm(DType dtype, Lane v);

}  // namespace tessel::loop::detail
