// Resize (opsets 11+) and Upsample (7-9). Interpolation is separable, so each resized axis becomes one
// contraction with an [out, in] weight matrix computed here, at import time, exactly as the ONNX
// reference picks neighbours and coefficients: coordinate transformation (half_pixel, align_corners,
// asymmetric, pytorch_half_pixel, half_pixel_symmetric, tf_crop_and_resize), nearest / linear / cubic
// coefficients (with antialias and exclude_outside), indices clamped to the edge. The contraction runs in
// f64 (as the reference does) and the result is cast back, saturating for integers. tf_crop_and_resize
// positions outside the input take extrapolation_value. Needs constant dims on the resized axes and
// scales / sizes / roi known at import time.
#include <algorithm>
#include <cmath>
#include <limits>

#include "frontends/onnx/ImportOps.h"
#include "ir/ops/OpUtil.h"

namespace tessel::onnx {
namespace {

struct ResizeMode {
  std::string mode = "nearest";
  std::string coordinates = "half_pixel";
  std::string nearest = "round_prefer_floor";
  double cubic_a = -0.75;
  bool antialias = false;
  bool exclude_outside = false;
};

bool is_integer_value(double x) { return x == std::floor(x); }

std::vector<double> coefficients(const ResizeMode& m, double ratio, double scale) {
  if (m.mode == "nearest") {
    if (is_integer_value(ratio)) return {0, 1};
    if (m.nearest == "round_prefer_floor") return {double(ratio <= 0.5), double(ratio > 0.5)};
    if (m.nearest == "round_prefer_ceil") return {double(ratio < 0.5), double(ratio >= 0.5)};
    if (m.nearest == "floor") return {1, 0};
    return {0, 1};  // ceil
  }
  if (m.mode == "linear" && !m.antialias) return {1 - ratio, ratio};
  double a = m.cubic_a;
  if (m.mode == "cubic" && !m.antialias) {
    double r1 = ratio + 1, s = 1 - ratio, s1 = s + 1;
    return {((a * r1 - 5 * a) * r1 + 8 * a) * r1 - 4 * a, ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1,
            ((a + 2) * s - (a + 3)) * s * s + 1, ((a * s1 - 5 * a) * s1 + 8 * a) * s1 - 4 * a};
  }
  // Antialiased filters stretch their support by 1 / scale when downsampling.
  scale = std::min(scale, 1.0);
  std::vector<double> c;
  if (m.mode == "linear") {
    auto start = static_cast<int64_t>(std::floor(-1 / scale) + 1);
    for (int64_t i = start; i < start + 2 - 2 * start; ++i)
      c.push_back(std::clamp(1 - std::abs((double(i) - ratio) * scale), 0.0, 1.0));
  } else {
    auto start = static_cast<int64_t>(std::floor(-2 / scale) + 1);
    for (int64_t i = start; i < 2 - start; ++i) {
      double x = std::abs(scale * (double(i) - ratio)), x2 = x * x, x3 = x2 * x;
      c.push_back(x <= 1 ? (a + 2) * x3 - (a + 3) * x2 + 1 : x < 2 ? a * x3 - 5 * a * x2 + 8 * a * x - 4 * a : 0.0);
    }
  }
  double sum = 0;
  for (double v : c) sum += v;
  for (double& v : c) v /= sum;
  return c;
}

struct AxisPlan {
  std::vector<double> weights;  ///< [out, in], row-major
  std::vector<bool> extrapolated;
  bool any_extrapolated = false;
};

// The source coordinate of output index y (the reference's _compute_x_ori).
double source_coordinate(const ResizeMode& m, double y, double scale, int64_t in, int64_t out, double roi_lo,
                         double roi_hi) {
  double out_width = scale * double(in);
  const std::string& c = m.coordinates;
  if (c == "align_corners") return out_width == 1 ? 0.0 : y * double(in - 1) / (out_width - 1);
  if (c == "asymmetric") return y / scale;
  if (c == "tf_crop_and_resize") {
    double x = out_width == 1 ? (roi_hi - roi_lo) * double(in - 1) / 2
                              : y * (roi_hi - roi_lo) * double(in - 1) / (out_width - 1);
    return x + roi_lo * double(in - 1);
  }
  if (c == "pytorch_half_pixel") return out_width == 1 ? -0.5 : (y + 0.5) / scale - 0.5;
  if (c == "half_pixel_symmetric") {
    double offset = double(in) / 2 * (1 - double(out) / out_width);
    return offset + (y + 0.5) / scale - 0.5;
  }
  return (y + 0.5) / scale - 0.5;  // half_pixel
}

AxisPlan plan_axis(const ResizeMode& m, int64_t in, int64_t out, double scale, double roi_lo, double roi_hi) {
  AxisPlan plan{std::vector<double>(static_cast<size_t>(out * in), 0.0), std::vector<bool>(static_cast<size_t>(out))};
  for (int64_t y = 0; y < out; ++y) {
    double x = source_coordinate(m, double(y), scale, in, out, roi_lo, roi_hi);
    if (m.coordinates == "tf_crop_and_resize" && (x < 0 || x > double(in - 1))) {
      plan.extrapolated[y] = true;
      plan.any_extrapolated = true;
      continue;
    }
    double floor_x = std::floor(x);
    std::vector<double> c = coefficients(m, x == floor_x ? 1.0 : x - floor_x, scale);
    auto n = static_cast<int64_t>(c.size());
    // The reference's neighbour choice: n indices around x in an edge-padded array.
    int64_t pad = (n + 1) / 2;
    double padded = x + double(pad);
    double p = std::floor(padded), frac = padded - p;
    int64_t offset =
        n % 2 == 0 ? (frac == 0 ? -(n / 2) : -(n / 2) + 1) : (frac <= 0.5 ? -((n - 1) / 2) : -((n - 1) / 2) + 1);
    int64_t start = static_cast<int64_t>(p) + offset - pad;
    if (m.exclude_outside) {
      double sum = 0;
      for (int64_t k = 0; k < n; ++k) {
        if (start + k < 0 || start + k >= in) c[k] = 0;
        sum += c[k];
      }
      if (sum == 0) sum = 1;
      for (double& v : c) v /= sum;
    }
    for (int64_t k = 0; k < n; ++k)
      plan.weights[static_cast<size_t>(y * in + std::clamp<int64_t>(start + k, 0, in - 1))] += c[k];
  }
  return plan;
}

// y = contraction of x (f64) with `plan` along `axis`: move the axis last, matmul with W^T, move it back.
Value* apply_plan(NodeContext& ctx, Value* x, int64_t axis, const AxisPlan& plan, int64_t in, int64_t out,
                  double extrapolation) {
  int64_t rank = x->type().rank();
  auto [perm, inverse] = axis_last_permutation(rank, axis);
  std::vector<double> transposed(static_cast<size_t>(in * out));
  for (int64_t y = 0; y < out; ++y)
    for (int64_t i = 0; i < in; ++i) transposed[i * out + y] = plan.weights[y * in + i];
  Value* w = ctx.constant(Tensor::from_doubles(DType::F64, {in, out}, transposed), "resize_weights");
  Value* moved = ctx.op(OpKind::Transpose, {x}, {{"perm", perm}});
  Value* y = ctx.op(OpKind::Transpose, {ctx.op(OpKind::MatMul, {moved, w})}, {{"perm", inverse}});
  if (!plan.any_extrapolated || !y) return y;
  std::vector<int64_t> mask_shape(static_cast<size_t>(rank), 1);
  mask_shape[axis] = out;
  Tensor mask(DType::Bool, mask_shape);
  for (int64_t i = 0; i < out; ++i) mask.data<uint8_t>()[i] = plan.extrapolated[i] ? 1 : 0;
  return ctx.op(OpKind::Where, {ctx.constant(mask, "extrapolated"), ctx.scalar(extrapolation, DType::F64), y});
}

// Resizes `x` with per-axis scales and output sizes (one entry per axis of x).
void resize(NodeContext& ctx, Value* x, const ResizeMode& m, const std::vector<double>& scales,
            const std::vector<int64_t>& sizes, const std::vector<double>& roi, double extrapolation) {
  int64_t rank = x->type().rank();
  DType dtype = x->type().dtype;
  Value* y = ctx.cast(x, DType::F64);
  for (int64_t axis = 0; axis < rank; ++axis) {
    auto in = x->type().shape[axis].as_const();
    double lo = roi.empty() ? 0.0 : roi[axis], hi = roi.empty() ? 1.0 : roi[axis + rank];
    bool identity = std::abs(scales[axis] - 1.0) <= 1e-9 && (!in || sizes[axis] == *in) && std::abs(lo) <= 1e-9 &&
                    std::abs(hi - 1.0) <= 1e-9;
    if (identity) continue;
    if (!in)
      return (void)ctx.fail_unsupported(
          make_error("Resize needs constant dims on resized axes, got {}", x->type().str()));
    if (sizes[axis] < 0 || sizes[axis] > (int64_t{1} << 24))
      return (void)ctx.fail(make_error("Resize output size {} on axis {} is out of range", sizes[axis], axis));
    if (*in == 0 || sizes[axis] == 0) return (void)ctx.fail_unsupported(make_error("Resize of an empty axis"));
    AxisPlan plan = plan_axis(m, *in, sizes[axis], scales[axis], lo, hi);
    y = apply_plan(ctx, y, axis, plan, *in, sizes[axis], extrapolation);
    if (!y) return;
  }
  if (is_integer(dtype) || dtype == DType::Bool) {
    // The reference's saturate_cast: round half to even, clip to the type's range.
    auto [lo, hi] = ops::visit_dtype(dtype, [&](auto tag) {
      using T = decltype(tag);
      if (dtype == DType::Bool) return std::pair<double, double>(0, 1);
      return std::pair<double, double>(double(std::numeric_limits<T>::lowest()), double(std::numeric_limits<T>::max()));
    });
    y = ctx.op(OpKind::Clip, {ctx.op(OpKind::Round, {y})}, {{"min", lo}, {"max", hi}});
  }
  ctx.set_output(0, ctx.cast(y, dtype));
}

std::optional<std::vector<double>> doubles_input(NodeContext& ctx, int i, std::string_view what) {
  auto tensor = ctx.require_constant(i, what);
  if (!tensor) return std::nullopt;
  return tensor->to_doubles();
}

}  // namespace

void import_resize(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  int64_t rank = x->type().rank();
  ResizeMode m;
  m.mode = ctx.attr_s("mode", "nearest");
  m.coordinates = ctx.attr_s("coordinate_transformation_mode", "half_pixel");
  m.nearest = ctx.attr_s("nearest_mode", "round_prefer_floor");
  m.cubic_a = ctx.attr_f("cubic_coeff_a", -0.75);
  m.antialias = ctx.attr_i("antialias", 0) != 0;
  m.exclude_outside = ctx.attr_i("exclude_outside", 0) != 0;
  if (m.mode != "nearest" && m.mode != "linear" && m.mode != "cubic")
    return (void)ctx.fail(make_error("unknown Resize mode '{}'", m.mode));
  std::vector<int64_t> axes = ctx.attr_ints("axes");
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  for (int64_t& a : axes) {
    if (a < -rank || a >= rank) return (void)ctx.fail(make_error("axis {} is out of range for rank {}", a, rank));
    if (a < 0) a += rank;
  }
  auto n = static_cast<int64_t>(axes.size());
  std::vector<double> roi;
  if (m.coordinates == "tf_crop_and_resize" && ctx.has_input(1)) {
    auto given = doubles_input(ctx, 1, "roi");
    if (!given) return;
    if (static_cast<int64_t>(given->size()) != 2 * n) return (void)ctx.fail(make_error("roi needs {} values", 2 * n));
    roi.assign(static_cast<size_t>(2 * rank), 0.0);
    for (int64_t i = 0; i < rank; ++i) roi[i + rank] = 1.0;
    for (int64_t i = 0; i < n; ++i) {
      roi[axes[i]] = (*given)[i];
      roi[axes[i] + rank] = (*given)[i + n];
    }
  }
  std::vector<double> scales(static_cast<size_t>(rank), 1.0);
  std::vector<int64_t> sizes(static_cast<size_t>(rank));
  for (int64_t i = 0; i < rank; ++i) sizes[i] = x->type().shape[i].as_const().value_or(-1);
  bool has_scales = ctx.has_input(2) && (!ctx.constant(2) || ctx.constant(2)->numel() > 0);
  if (has_scales) {
    auto given = doubles_input(ctx, 2, "scales");
    if (!given) return;
    if (static_cast<int64_t>(given->size()) != n)
      return (void)ctx.fail(make_error("{} scales for {} axes", given->size(), n));
    for (int64_t i = 0; i < n; ++i) {
      auto in = x->type().shape[axes[i]].as_const();
      if (!in) return (void)ctx.fail_unsupported(make_error("Resize needs constant dims, got {}", x->type().str()));
      scales[axes[i]] = (*given)[i];
      sizes[axes[i]] = static_cast<int64_t>((*given)[i] * double(*in));
    }
  } else {
    auto given = ctx.require_ints(3, "sizes");
    if (!given) return;
    if (static_cast<int64_t>(given->size()) != n)
      return (void)ctx.fail(make_error("{} sizes for {} axes", given->size(), n));
    std::string policy = ctx.attr_s("keep_aspect_ratio_policy", "stretch");
    double kept = policy == "not_larger" ? 1e300 : 0.0;
    for (int64_t i = 0; i < n; ++i) {
      auto in = x->type().shape[axes[i]].as_const();
      if (!in || *in == 0)
        return (void)ctx.fail_unsupported(make_error("Resize needs constant non-zero dims, got {}", x->type().str()));
      double s = double((*given)[i]) / double(*in);
      scales[axes[i]] = s;
      sizes[axes[i]] = (*given)[i];
      kept = policy == "not_larger" ? std::min(kept, s) : std::max(kept, s);
    }
    if (policy != "stretch") {
      if (policy != "not_larger" && policy != "not_smaller")
        return (void)ctx.fail(make_error("unknown keep_aspect_ratio_policy '{}'", policy));
      for (int64_t a : axes) {
        scales[a] = kept;
        sizes[a] = static_cast<int64_t>(kept * double(*x->type().shape[a].as_const()) + 0.5);
      }
    }
  }
  resize(ctx, x, m, scales, sizes, roi, ctx.attr_f("extrapolation_value", 0.0));
}

// Upsample (deprecated): nearest or linear with asymmetric coordinates; scales as an attribute (7-8) or
// an input (9).
void import_upsample(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  std::vector<double> scales;
  if (ctx.opset() < 9) {
    scales = ctx.attr_floats("scales");
  } else {
    auto given = doubles_input(ctx, 1, "scales");
    if (!given) return;
    scales = *given;
  }
  if (static_cast<int64_t>(scales.size()) != x->type().rank())
    return (void)ctx.fail(make_error("{} scales for {}", scales.size(), x->type().str()));
  ResizeMode m;
  m.mode = ctx.attr_s("mode", "nearest");
  m.coordinates = "asymmetric";
  m.nearest = "floor";
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < scales.size(); ++i) {
    auto in = x->type().shape[i].as_const();
    if (!in) return (void)ctx.fail_unsupported(make_error("Upsample needs constant dims, got {}", x->type().str()));
    sizes.push_back(static_cast<int64_t>(scales[i] * double(*in)));
  }
  resize(ctx, x, m, scales, sizes, {}, 0.0);
}

}  // namespace tessel::onnx

namespace tessel::onnx {

// AffineGrid: each output position's normalized coordinates (x, y[, z], 1) times theta^T. The base grid
// is a constant ([-1, 1] corners with align_corners, pixel centres without), as the ONNX reference.
void import_affine_grid(NodeContext& ctx) {
  Value* theta = ctx.input(0);
  auto size = ctx.require_ints(1, "size");
  if (!theta || !size) return;
  size_t spatial = size->size() - 2;
  if ((spatial != 2 && spatial != 3) || theta->type().rank() != 3)
    return (void)ctx.fail(
        make_error("AffineGrid needs a 4- or 5-element size and a 3-D theta, got {}", theta->type().str()));
  bool corners = ctx.attr_i("align_corners", 0) != 0;
  std::vector<int64_t> dims(size->begin() + 2, size->end());  // [H, W] or [D, H, W]
  auto coordinate = [&](int64_t i, int64_t length) {
    if (corners) return length == 1 ? -1.0 : -1.0 + 2.0 * double(i) / double(length - 1);
    return -1.0 + (2.0 * double(i) + 1.0) / double(length);
  };
  int64_t points = 1;
  for (int64_t d : dims) points *= d;
  if (points > (int64_t{1} << 24)) return (void)ctx.fail(make_error("AffineGrid size is too large"));
  auto cols = static_cast<int64_t>(spatial + 1);
  std::vector<double> base(static_cast<size_t>(points * cols));
  for (int64_t p = 0; p < points; ++p) {
    // Row-major position p -> per-dim index; columns are (x = last dim, y, [z = first], 1).
    int64_t rest = p;
    std::vector<int64_t> index(spatial);
    for (size_t d = spatial; d-- > 0;) {
      index[d] = rest % dims[d];
      rest /= dims[d];
    }
    for (size_t c = 0; c < spatial; ++c) base[p * cols + c] = coordinate(index[spatial - 1 - c], dims[spatial - 1 - c]);
    base[p * cols + spatial] = 1.0;
  }
  DType dtype = theta->type().dtype;
  Value* grid = ctx.constant(Tensor::from_doubles(dtype, {points, cols}, base), "base_grid");
  Value* theta_t = ctx.op(OpKind::Transpose, {theta}, {{"perm", std::vector<int64_t>{0, 2, 1}}});
  Shape out{Dim(size->at(0))};
  for (int64_t d : dims) out.emplace_back(d);
  out.emplace_back(static_cast<int64_t>(spatial));
  ctx.set_output(0, ctx.op(OpKind::Reshape, {ctx.op(OpKind::MatMul, {grid, theta_t})}, {{"shape", out}}));
}

}  // namespace tessel::onnx
