// Private to the MLIR exporter: the reduction helpers that reductions
// (MlirReduce.cpp) and normalizations (MlirNorm.cpp) share.
#pragma once

#include <functional>
#include <vector>

#include "codegen/mlir/MlirEmitter.h"

namespace tessel::mlir {

/// A reduction of x over the axes marked in `reduced`: the accumulator starts at `init` (a top-level
/// scalar of the accumulator dtype) and each element folds in with `step(inputs, acc)`, where inputs are
/// x's element followed by those of `extra` (tensors numpy-broadcast to x's shape).
struct Reduction {
  std::vector<bool> reduced;
  Scalar init;
  std::vector<TValue> extra;
  std::function<Scalar(Block&, const std::vector<Scalar>&, Scalar)> step;
};

/// The reduction, of x's shape without the reduced axes.
Expected<TValue> reduce_kept(FunctionEmitter& e, const TValue& x, const Reduction& r);
/// The reduction with the reduced axes kept as size 1 (so that it broadcasts against x).
Expected<TValue> reduce_keepdims(FunctionEmitter& e, const TValue& x, const Reduction& r);
/// A top-level scalar of `dtype` holding `count` (an element count, possibly symbolic).
Expected<Scalar> count_scalar(FunctionEmitter& e, const Dim& count, DType dtype);
/// Axes marked for a reduction over `axes` (possibly negative; empty means every axis).
std::vector<bool> all_axes(int64_t rank, const std::vector<int64_t>& axes);
/// The product of the marked dims.
Dim reduced_count(const Shape& shape, const std::vector<bool>& reduced);

}  // namespace tessel::mlir
