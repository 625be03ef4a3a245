// The fusion rules, written as data over op classes: which ops are anchors
// (the one expensive loop nest of a kernel), which may ride along as prologue
// or epilogue, and the special cases (reductions over one domain, pooling after
// a convolution). passes/Fuse.cpp applies them; docs/passes-fusion.md states them.
#pragma once

#include <vector>

#include "ir/Module.h"

namespace tessel::fusion {

/// How an op takes part in fusion.
enum class OpClass {
  Const,        ///< stays in @main; scalars are copied into bodies that use them
  Elementwise,  ///< unary, binary, where, cast: one output element from the same-index input elements
  Injective,    ///< reshape, transpose, slice, gather, squeeze/unsqueeze, expand, concat, pad, tile, split
  Reduction,    ///< reduce_*, argmax/argmin, softmax, log_softmax, layer_norm (row-wise reductions)
  Contraction,  ///< matmul, gemm
  Conv,         ///< conv, conv_transpose
  Pool,         ///< max_pool, avg_pool
  Opaque,       ///< recurrent, ml, scatter, range, shape_of: a kernel of its own, nothing fused with it
  Sealed,       ///< kernels, string ops, low-precision ops other than casts and moves: left in @main
};

OpClass op_class(const Op& op);
std::string_view op_class_name(OpClass op_class);

/// Anchors are the ops that define a kernel's iteration domain; a kernel holds at most one
/// (reductions over one domain, and a pool after a conv, count as part of that one anchor).
bool is_anchor(OpClass op_class);

/// Whether `op` (not an anchor) may be computed inside a consumer kernel anchored by `anchor`, ahead of it.
/// Reductions take elementwise and injective prologues (each input element is read once per reduction);
/// matmul, conv and pool take only injective ones and casts (pure index remaps or cheap conversions),
/// since their inner loops read each input element many times and would repeat the arithmetic.
bool allows_prologue(OpClass anchor, const Op& op);

/// The reduced axes of a reduction-class op, normalized to 0..rank-1 and sorted.
std::vector<int64_t> reduction_axes(const Op& op);
/// Two reduction-class ops over the same input type and the same axes: one loop nest computes both
/// (softmax's max and sum, layer-norm's two means).
bool same_reduction_domain(const Op& a, const Op& b);

/// A pool that may run as the epilogue of the conv producing its input: one result and non-overlapping
/// windows (strides equal to the kernel, no padding, dilation 1, floor mode), so that every conv output
/// element feeds exactly one pool window and nothing is recomputed.
bool pool_fusable_after_conv(const Op& pool);

}  // namespace tessel::fusion
