// Private to the MLIR exporter: sliding-window attributes shared by the conv
// (MlirConv.cpp) and pool (MlirPool.cpp) emitters.
#pragma once

#include <string>
#include <vector>

#include "codegen/mlir/MlirEmitter.h"

namespace tessel::mlir {

/// strides / dilations / pads of a window op over `spatial` axes, with the op table's defaults filled in.
struct Window {
  std::vector<int64_t> strides, dilations, pad_begin, pad_end;
};

Window read_window(const Op& op, size_t spatial);
/// `dense<[a, b]> : tensor<2xi64>`, the form named linalg conv and pooling ops take.
std::string i64_dense(const std::vector<int64_t>& values);
/// "d3 * 2 + d7 * 1": input position of output loop `out` and window loop `tap` (the padded input).
std::string window_expr(int out, int tap, int64_t stride, int64_t dilation);
/// A tensor of `type` (the accumulator) holding bias[d1] in every element (zeros without a bias).
Expected<TValue> bias_init(FunctionEmitter& e, const Value* bias, const TensorType& type, const Shape& bias_shape);

}  // namespace tessel::mlir
