// Reductions: reduce_sum / mean / max / min / prod / l1 / l2 / log_sum_exp over a set of axes, and
// argmax / argmin along one axis. Shape rules work on symbolic dims; kernels are plain loops.
// Float kernels accumulate in double and round once to the input dtype (so f16 sums do not lose
// the small terms); integer sums and products accumulate modulo 2^64, which wraps exactly as the
// input type would, and integer means divide an exact wide sum, truncating toward zero.
#include <cmath>
#include <limits>
#include <type_traits>

#include "ir/ops/Families.h"
#include "ir/ops/OpUtil.h"

namespace tessel::ops {
namespace {

__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

std::string_view op_name(OpKind kind) { return op_info(kind).name; }
bool is_arg_op(OpKind kind) { return kind == OpKind::ArgMax || kind == OpKind::ArgMin; }
bool is_float_only(OpKind kind) { return kind == OpKind::ReduceL2 || kind == OpKind::ReduceLogSumExp; }

// Puts the op and its input type in front of a helper's message so it reads on its own.
Error op_error(OpKind kind, const TensorType& x, const Error& error) {
  return make_error("{} on {}: {}", op_name(kind), x.str(), error.message);
}

Status check_dtype(OpKind kind, const TensorType& x) {
  if (is_float(x.dtype)) return Status::success();
  if (is_float_only(kind)) return make_error("{} expects a float tensor, got {}", op_name(kind), x.str());
  if (is_integer(x.dtype)) return Status::success();
  return make_error("{} expects a float or integer tensor, got {}", op_name(kind), x.str());
}

// Marks the reduced axes: `axis` for argmax/argmin, `axes` (empty = all) for the others.
Expected<std::vector<bool>> reduced_axes(OpKind kind, const AttrReader& attrs, const TensorType& x) {
  std::vector<bool> reduced(x.shape.size(), false);
  if (is_arg_op(kind)) {
    auto axis = normalize_axis(attrs.i("axis"), x.rank());
    if (!axis) return op_error(kind, x, axis.error());
    reduced[*axis] = true;
    return reduced;
  }
  auto axes = normalize_axes(attrs.ints("axes"), x.rank());
  if (!axes) return op_error(kind, x, axes.error());
  if (axes->empty()) return std::vector<bool>(x.shape.size(), true);
  for (int64_t axis : *axes) reduced[axis] = true;
  return reduced;
}

Expected<std::vector<bool>> checked_axes(OpKind kind, const AttrReader& attrs, const TensorType& x) {
  TESSEL_TRY(check_dtype(kind, x));
  TESSEL_ASSIGN(auto reduced, reduced_axes(kind, attrs, x));
  if (!is_arg_op(kind)) return reduced;
  for (size_t axis = 0; axis < reduced.size(); ++axis)
    if (reduced[axis] && x.shape[axis] == Dim(0))
      return make_error("{} on {}: axis {} has size 0, and an empty sequence has no {}", op_name(kind), x.str(), axis,
                        kind == OpKind::ArgMax ? "maximum" : "minimum");
  return reduced;
}

// ---- Kernels over reduced axes ---------------------------------------------------------------------

// Where each input element lands: per input axis, its stride in the result (0 on reduced axes).
struct ReducePlan {
  std::vector<int64_t> result_shape;  ///< keepdims applied
  std::vector<int64_t> out_strides;
  int64_t out_numel = 1;
  int64_t count = 1;  ///< input elements folded into each result element
};

ReducePlan make_plan(const std::vector<int64_t>& shape, const std::vector<bool>& reduced, bool keepdims) {
  ReducePlan plan;
  std::vector<int64_t> kept_shape;  // the result shape with keepdims, which fixes the strides
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    kept_shape.push_back(reduced[axis] ? 1 : shape[axis]);
    if (reduced[axis]) plan.count *= shape[axis];
    if (!reduced[axis] || keepdims) plan.result_shape.push_back(kept_shape.back());
  }
  plan.out_strides = row_major_strides(kept_shape);
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    if (reduced[axis]) plan.out_strides[axis] = 0;
    plan.out_numel *= kept_shape[axis];
  }
  return plan;
}

// Calls fn(input_flat, result_flat) for every input element, in row-major order.
template <typename F>
void for_each_element(const std::vector<int64_t>& shape, const std::vector<int64_t>& out_strides, F&& fn) {
  int64_t numel = 1;
  for (int64_t dim : shape) numel *= dim;
  std::vector<int64_t> index(shape.size(), 0);
  int64_t out = 0;
  for (int64_t flat = 0; flat < numel; ++flat) {
    fn(flat, out);
    // Odometer step: bump the last axis, carrying into earlier ones.
    for (int64_t axis = static_cast<int64_t>(shape.size()) - 1; axis >= 0; --axis) {
      out += out_strides[axis];
      if (++index[axis] < shape[axis]) break;
      out -= out_strides[axis] * shape[axis];
      index[axis] = 0;
    }
  }
}

// max / min that propagate NaN (std::max(acc, NaN) would return acc and drop it).
double nan_max(double acc, double value) { return std::isnan(value) || value > acc ? value : acc; }
double nan_min(double acc, double value) { return std::isnan(value) || value < acc ? value : acc; }

double float_identity(OpKind kind) {
  switch (kind) {
    case OpKind::ReduceProd: return 1;
    case OpKind::ReduceMax: return -std::numeric_limits<double>::infinity();
    case OpKind::ReduceMin: return std::numeric_limits<double>::infinity();
    default: return 0;
  }
}

std::vector<double> reduce_doubles(OpKind kind, const std::vector<double>& in, const std::vector<int64_t>& shape,
                                   const ReducePlan& plan) {
  std::vector<double> acc(plan.out_numel, float_identity(kind));
  auto fold = [&](auto step) {
    for_each_element(shape, plan.out_strides, [&](int64_t i, int64_t o) { step(acc[o], in[i]); });
  };
  switch (kind) {
    case OpKind::ReduceSum:
    case OpKind::ReduceMean: fold([](double& a, double v) { a += v; }); break;
    case OpKind::ReduceProd: fold([](double& a, double v) { a *= v; }); break;
    case OpKind::ReduceMax: fold([](double& a, double v) { a = nan_max(a, v); }); break;
    case OpKind::ReduceMin: fold([](double& a, double v) { a = nan_min(a, v); }); break;
    case OpKind::ReduceL1: fold([](double& a, double v) { a += std::fabs(v); }); break;
    case OpKind::ReduceL2: fold([](double& a, double v) { a += v * v; }); break;
    case OpKind::ReduceLogSumExp: {
      // Stable form: m + log(sum(exp(x - m))) with m the maximum; an infinite or NaN m is the answer.
      std::vector<double> max(plan.out_numel, -std::numeric_limits<double>::infinity());
      for_each_element(shape, plan.out_strides, [&](int64_t i, int64_t o) { max[o] = nan_max(max[o], in[i]); });
      for_each_element(shape, plan.out_strides, [&](int64_t i, int64_t o) {
        if (std::isfinite(max[o])) acc[o] += std::exp(in[i] - max[o]);
      });
      for (int64_t o = 0; o < plan.out_numel; ++o) acc[o] = std::isfinite(max[o]) ? max[o] + std::log(acc[o]) : max[o];
      break;
    }
    default: break;
  }
  if (kind == OpKind::ReduceMean)  // count 0 gives 0/0 = NaN, the mean of nothing
    for (double& a : acc) a /= static_cast<double>(plan.count);
  if (kind == OpKind::ReduceL2)
    for (double& a : acc) a = std::sqrt(a);
  return acc;
}

template <typename T>
void reduce_integers(OpKind kind, const T* in, const std::vector<int64_t>& shape, const ReducePlan& plan, T* out) {
  auto fold = [&](auto& acc, auto step) {
    for_each_element(shape, plan.out_strides, [&](int64_t i, int64_t o) { step(acc[o], in[i]); });
  };
  if (kind == OpKind::ReduceMax || kind == OpKind::ReduceMin) {
    bool is_max = kind == OpKind::ReduceMax;
    std::vector<T> acc(plan.out_numel, is_max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max());
    fold(acc, [&](T& a, T v) { a = is_max ? std::max(a, v) : std::min(a, v); });
    std::copy(acc.begin(), acc.end(), out);
    return;
  }
  if (kind == OpKind::ReduceMean) {
    // An exact 128-bit sum, so the mean of in-range values is in range; x / 0 is 0 by the IR's integer rule.
    using Wide = std::conditional_t<std::is_signed_v<T>, Int128, UInt128>;
    std::vector<Wide> acc(plan.out_numel, 0);
    fold(acc, [](Wide& a, T v) { a += v; });
    for (int64_t o = 0; o < plan.out_numel; ++o)
      out[o] = plan.count ? static_cast<T>(acc[o] / static_cast<Wide>(plan.count)) : T{0};
    return;
  }
  // Sum, prod and l1 in uint64: arithmetic modulo 2^64 truncates to the wrapped result in T.
  std::vector<uint64_t> acc(plan.out_numel, kind == OpKind::ReduceProd ? 1 : 0);
  if (kind == OpKind::ReduceProd) fold(acc, [](uint64_t& a, T v) { a *= static_cast<uint64_t>(v); });
  if (kind == OpKind::ReduceSum) fold(acc, [](uint64_t& a, T v) { a += static_cast<uint64_t>(v); });
  if (kind == OpKind::ReduceL1)
    fold(acc, [](uint64_t& a, T v) {
      uint64_t bits = static_cast<uint64_t>(v);
      if constexpr (std::is_signed_v<T>) bits = v < 0 ? uint64_t{0} - bits : bits;  // |INT_MIN| wraps to INT_MIN
      a += bits;
    });
  for (int64_t o = 0; o < plan.out_numel; ++o) out[o] = static_cast<T>(acc[o]);
}

Tensor eval_reduction(OpKind kind, const Tensor& x, const ReducePlan& plan) {
  if (is_float(x.dtype())) {
    std::vector<double> result = reduce_doubles(kind, x.to_doubles(), x.shape(), plan);
    return Tensor::from_doubles(x.dtype(), plan.result_shape, result);
  }
  Tensor out(x.dtype(), plan.result_shape);
  visit_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    if constexpr (std::is_integral_v<T>) reduce_integers<T>(kind, x.data<T>(), x.shape(), plan, out.data<T>());
  });
  return out;
}

// ---- argmax / argmin --------------------------------------------------------------------------------

// Index of the extreme along the middle axis of [outer, n, inner]. NaN counts as the extreme (numpy:
// the first NaN wins); ties keep the first index, or the last with `last`.
template <typename V>
void arg_extreme(const V* in, int64_t outer, int64_t n, int64_t inner, bool is_max, bool last, int64_t* out) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const V* row = in + o * n * inner + i;
      int64_t best = 0;
      for (int64_t k = 1; k < n; ++k) {
        V value = row[k * inner], best_value = row[best * inner];
        if constexpr (std::is_floating_point_v<V>) {
          if (std::isnan(best_value)) {
            if (last && std::isnan(value)) best = k;
            continue;
          }
          if (std::isnan(value)) {
            best = k;
            continue;
          }
        }
        bool better = is_max ? value > best_value : value < best_value;
        if (better || (last && value == best_value)) best = k;
      }
      out[o * inner + i] = best;
    }
}

Expected<Tensor> eval_arg(const EvalContext& ctx, const Tensor& x, const TensorType& type) {
  TESSEL_ASSIGN(int64_t axis, normalize_axis(ctx.attrs.i("axis"), x.rank()));
  int64_t n = x.dim(axis), outer = 1, inner = 1;
  if (n == 0)
    return make_error("{} on {}: axis {} has size 0, and an empty sequence has no {}", op_name(ctx.kind), type.str(),
                      axis, ctx.kind == OpKind::ArgMax ? "maximum" : "minimum");
  for (int64_t a = 0; a < axis; ++a) outer *= x.dim(a);
  for (int64_t a = axis + 1; a < x.rank(); ++a) inner *= x.dim(a);
  std::vector<bool> reduced(x.rank(), false);
  reduced[axis] = true;
  Tensor out(DType::I64, make_plan(x.shape(), reduced, ctx.attrs.i("keepdims") != 0).result_shape);
  bool is_max = ctx.kind == OpKind::ArgMax, last = ctx.attrs.i("select_last_index") != 0;
  if (is_float(x.dtype())) {
    std::vector<double> values = x.to_doubles();
    arg_extreme(values.data(), outer, n, inner, is_max, last, out.data<int64_t>());
    return out;
  }
  // Integers compare in their own type: i64 values 2^62 and 2^62 + 1 are one double.
  visit_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    arg_extreme(x.data<T>(), outer, n, inner, is_max, last, out.data<int64_t>());
  });
  return out;
}

}  // namespace

Expected<std::vector<TensorType>> infer_reduce(const ShapeContext& ctx) {
  const TensorType& x = ctx.operand(0);
  TESSEL_ASSIGN(std::vector<bool> reduced, checked_axes(ctx.kind, ctx.attrs, x));
  bool keepdims = ctx.attrs.i("keepdims") != 0;
  Shape shape;
  for (size_t axis = 0; axis < x.shape.size(); ++axis) {
    if (!reduced[axis]) shape.push_back(x.shape[axis]);
    if (reduced[axis] && keepdims) shape.push_back(Dim(1));
  }
  return std::vector<TensorType>{{is_arg_op(ctx.kind) ? DType::I64 : x.dtype, std::move(shape)}};
}

Expected<std::vector<Tensor>> eval_reduce(const EvalContext& ctx) {
  const Tensor& x = ctx.input(0);
  TensorType type{x.dtype(), to_shape(x.shape())};
  TESSEL_TRY(check_dtype(ctx.kind, type));
  if (is_arg_op(ctx.kind)) {
    TESSEL_ASSIGN(Tensor result, eval_arg(ctx, x, type));
    return std::vector<Tensor>{std::move(result)};
  }
  TESSEL_ASSIGN(std::vector<bool> reduced, reduced_axes(ctx.kind, ctx.attrs, type));
  ReducePlan plan = make_plan(x.shape(), reduced, ctx.attrs.i("keepdims") != 0);
  return std::vector<Tensor>{eval_reduction(ctx.kind, x, plan)};
}

}  // namespace tessel::ops
