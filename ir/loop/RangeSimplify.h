// Division and remainder of index expressions, split exactly by the ranges of the enclosing loops
// (ir/loop/RangeSimplify.cpp). The lowering runs it before vectorization.
#pragma once

#include "ir/loop/LoopIR.h"

namespace tessel::loop {

/// `s` with every i64 `e / c` and `e % c` (c > 0 constant, e linear in loop variables) replaced by its
/// quotient and remainder terms wherever the loops' constant ranges prove the split exact.
Stmt simplify_div_mod(const Stmt& s);

}  // namespace tessel::loop
