// The recurrent part of the decompose pass (passes/Decompose.cpp): lstm, gru and rnn unrolled over their
// time steps into per-step gemms and gate math.
#pragma once

#include <vector>

#include "ir/Error.h"
#include "ir/Module.h"
#include "passes/Rewriter.h"

namespace tessel {

/// The values replacing `op`'s results (Y, Y_h, Y_c), created before `op`; an empty list when the op is
/// kept: a symbolic or zero sequence length, activation alpha/beta, or an activation other than Sigmoid,
/// Tanh or Relu (nothing is created then).
Expected<std::vector<Value*>> decompose_recurrent(Rewriter& r, const Op& op);

}  // namespace tessel
