// Normalization: softmax and log_softmax along one axis (ONNX opset 13), and layer_norm (ONNX
// LayerNormalization) over the trailing axes [axis, rank). Shape rules work on symbolic dims; kernels
// compute in double and round once to the result dtype. Softmax subtracts the row maximum first, so
// large inputs do not overflow; a row of all -inf therefore gives NaN, as exp(-inf - -inf) is NaN.
#include <cmath>
#include <limits>

#include <fmt/ranges.h>

#include "ir/ops/Families.h"
#include "ir/ops/OpUtil.h"

namespace tessel::ops {
namespace {

std::string_view op_name(OpKind kind) { return op_info(kind).name; }

// ONNX stash_type: statistics of 16-bit floats are kept in f32.
DType stats_dtype(DType x) { return x == DType::F16 || x == DType::BF16 ? DType::F32 : x; }

Expected<int64_t> checked_axis(const ShapeContext& ctx) {
  const TensorType& x = ctx.operand(0);
  if (!is_float(x.dtype)) return make_error("{} expects a float tensor, got {}", op_name(ctx.kind), x.str());
  auto axis = normalize_axis(ctx.attrs.i("axis"), x.rank());
  if (!axis) return make_error("{} on {}: {}", op_name(ctx.kind), x.str(), axis.error().message);
  return *axis;
}

// Scale and bias must broadcast to x's normalized (trailing) shape without growing it.
Status check_affine(const ShapeContext& ctx, size_t operand, std::string_view what, int64_t axis) {
  if (!ctx.has_operand(operand)) return Status::success();
  const TensorType& x = ctx.operand(0);
  const TensorType& t = ctx.operand(operand);
  if (t.dtype != x.dtype) return make_error("layer_norm {} {} must have the dtype of x ({})", what, t.str(), x.str());
  Shape normalized(x.shape.begin() + axis, x.shape.end());
  auto shape = broadcast_shapes(t.shape, normalized);
  if (t.rank() > static_cast<int64_t>(normalized.size()) || !shape || *shape != normalized)
    return make_error("layer_norm {} {} does not broadcast to the normalized shape {} of x {} (axis {})", what, t.str(),
                      shape_str(normalized), x.str(), axis);
  return Status::success();
}

// Rows of a [outer, n, inner] view: calls fn(base, stride) once per row of n elements along the axis.
template <typename F>
void for_each_row(const std::vector<int64_t>& shape, int64_t axis, F&& fn) {
  int64_t outer = 1, inner = 1, n = shape[axis];
  for (int64_t a = 0; a < axis; ++a) outer *= shape[a];
  for (size_t a = axis + 1; a < shape.size(); ++a) inner *= shape[a];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) fn(o * n * inner + i, inner);
}

Tensor eval_softmax(OpKind kind, const Tensor& x, int64_t axis) {
  std::vector<double> in = x.to_doubles(), out(in.size());
  int64_t n = x.dim(axis);
  for_each_row(x.shape(), axis, [&](int64_t base, int64_t stride) {
    double max = -std::numeric_limits<double>::infinity();
    for (int64_t k = 0; k < n; ++k) max = std::max(max, in[base + k * stride]);  // NaN reaches the sum anyway
    double sum = 0;
    for (int64_t k = 0; k < n; ++k) sum += std::exp(in[base + k * stride] - max);
    for (int64_t k = 0; k < n; ++k) {
      double shifted = in[base + k * stride] - max;
      out[base + k * stride] = kind == OpKind::Softmax ? std::exp(shifted) / sum : shifted - std::log(sum);
    }
  });
  return Tensor::from_doubles(x.dtype(), x.shape(), out);
}

// `t` (scale or bias) expanded to every element of the normalized shape; `fill` when absent.
std::vector<double> expand_affine(const EvalContext& ctx, size_t input, const std::vector<int64_t>& normalized,
                                  int64_t size, double fill) {
  if (!ctx.has_input(input)) return std::vector<double>(size, fill);
  const Tensor& t = ctx.input(input);
  std::vector<int64_t> strides = broadcast_strides(t.shape(), normalized);
  std::vector<double> values(size);
  for (int64_t j = 0; j < size; ++j) values[j] = t.get_double(offset_of(unravel(j, normalized), strides));
  return values;
}

Expected<std::vector<Tensor>> eval_layer_norm(const EvalContext& ctx, const Tensor& x, int64_t axis) {
  std::vector<int64_t> normalized(x.shape().begin() + axis, x.shape().end()), stats_shape = x.shape();
  int64_t size = 1;
  for (int64_t dim : normalized) size *= dim;
  for (int64_t a = axis; a < x.rank(); ++a) stats_shape[a] = 1;
  for (size_t input : {size_t{1}, size_t{2}}) {
    if (!ctx.has_input(input)) continue;
    auto shape = broadcast_shapes(ctx.input(input).shape(), normalized);
    if (ctx.input(input).rank() > static_cast<int64_t>(normalized.size()) || !shape || *shape != normalized)
      return make_error("layer_norm {} {} does not broadcast to the normalized shape [{}] of x {}",
                        input == 1 ? "scale" : "bias", ctx.input(input).type_str(), fmt::join(normalized, ", "),
                        x.type_str());
  }
  std::vector<double> scale = expand_affine(ctx, 1, normalized, size, 1.0);
  std::vector<double> bias = expand_affine(ctx, 2, normalized, size, 0.0);
  std::vector<double> in = x.to_doubles(), y(in.size());
  int64_t rows = 1;
  for (int64_t a = 0; a < axis; ++a) rows *= x.dim(a);
  std::vector<double> mean(rows), inv_std(rows);
  double epsilon = ctx.attrs.f("epsilon");
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = in.data() + r * size;
    double sum = 0, squares = 0;
    for (int64_t j = 0; j < size; ++j) sum += row[j];
    mean[r] = sum / static_cast<double>(size);  // an empty row has mean 0/0 = NaN
    for (int64_t j = 0; j < size; ++j) squares += (row[j] - mean[r]) * (row[j] - mean[r]);
    inv_std[r] = 1.0 / std::sqrt(squares / static_cast<double>(size) + epsilon);
    for (int64_t j = 0; j < size; ++j) y[r * size + j] = (row[j] - mean[r]) * inv_std[r] * scale[j] + bias[j];
  }
  std::vector<Tensor> results{Tensor::from_doubles(x.dtype(), x.shape(), y),
                              Tensor::from_doubles(stats_dtype(x.dtype()), stats_shape, mean),
                              Tensor::from_doubles(stats_dtype(x.dtype()), stats_shape, inv_std)};
  results.resize(std::max<size_t>(1, ctx.result_dtypes.size()));
  return results;
}

}  // namespace

Expected<std::vector<TensorType>> infer_norm(const ShapeContext& ctx) {
  const TensorType& x = ctx.operand(0);
  TESSEL_ASSIGN(int64_t axis, checked_axis(ctx));
  if (ctx.kind != OpKind::LayerNorm) return std::vector<TensorType>{x};
  if (ctx.num_results < 1 || ctx.num_results > 3)
    return make_error("layer_norm has 1 to 3 results (Y, Mean, InvStdDev), {} requested", ctx.num_results);
  TESSEL_TRY(check_affine(ctx, 1, "scale", axis));
  TESSEL_TRY(check_affine(ctx, 2, "bias", axis));
  TensorType stats{stats_dtype(x.dtype), x.shape};
  for (int64_t a = axis; a < x.rank(); ++a) stats.shape[a] = Dim(1);
  std::vector<TensorType> types{x, stats, stats};
  types.resize(ctx.num_results);
  return types;
}

Expected<std::vector<Tensor>> eval_norm(const EvalContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!is_float(x.dtype())) return make_error("{} expects a float tensor, got {}", op_name(ctx.kind), x.type_str());
  auto axis = normalize_axis(ctx.attrs.i("axis"), x.rank());
  if (!axis) return make_error("{} on {}: {}", op_name(ctx.kind), x.type_str(), axis.error().message);
  if (ctx.kind == OpKind::LayerNorm) return eval_layer_norm(ctx, x, *axis);
  return std::vector<Tensor>{eval_softmax(ctx.kind, x, *axis)};
}

}  // namespace tessel::ops
