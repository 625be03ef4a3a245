// Per-family shape rules and interpreter kernels, referenced by the op table.
// Each family's functions switch on the op kind for op-specific details.
#pragma once

#include "ir/OpTable.h"

namespace tessel::ops {

#define TESSEL_FAMILY(Family, family)                                        \
  Expected<std::vector<TensorType>> infer_##family(const ShapeContext& ctx); \
  Expected<std::vector<Tensor>> eval_##family(const EvalContext& ctx);
#include "ir/ops/Families.def"
#undef TESSEL_FAMILY

}  // namespace tessel::ops
