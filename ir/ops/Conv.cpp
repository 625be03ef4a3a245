// The conv family: conv and conv_transpose (ONNX Conv / ConvTranspose with explicit pads), N-D and
// channels-first: x[N, C, D...], conv weight [M, C/group, K...], conv_transpose weight [C, M/group, K...],
// optional bias[M]. Float dtypes only (quantized convolution is a separate matter).
//
// Shape rules use Dim arithmetic throughout, so a symbolic batch or spatial dim gives a symbolic result.
// The kernel builds each output-channel plane in a double accumulator and rounds once at the end (f16 and
// bf16 go through f32). Its innermost loop runs along the last spatial axis for one kernel tap, over the
// positions where that tap lands inside the input, so it is branch-free and, at unit stride, contiguous.
#include <algorithm>

#include "ir/ops/Families.h"
#include "ir/ops/OpUtil.h"
#include "ir/ops/Window.h"

namespace tessel::ops {
namespace {

/// Everything the rule derives from the operand types and attributes.
struct ConvSpec {
  bool transposed = false;
  WindowAttrs window;
  std::vector<int64_t> output_padding;  ///< conv_transpose only, one per spatial axis
  int64_t group = 1;
  Dim out_channels;
  Shape result;
};

Status check_operands(std::string_view op, const TensorType& x, const TensorType& w, const TensorType* bias) {
  if (!is_float(x.dtype)) return make_error("{} expects a float input, got {}", op, x.str());
  if (w.dtype != x.dtype) return make_error("{} weight {} must have the dtype of the input {}", op, w.str(), x.str());
  if (x.rank() < 3)
    return make_error("{} input {} must be [N, C, spatial...] with at least one spatial axis", op, x.str());
  if (w.rank() != x.rank())
    return make_error("{} weight {} must have rank {} like the input {}", op, w.str(), x.rank(), x.str());
  if (bias && bias->dtype != x.dtype)
    return make_error("{} bias {} must have the dtype of the input {}", op, bias->str(), x.str());
  if (bias && bias->rank() != 1) return make_error("{} bias {} must be 1-D", op, bias->str());
  return Status::success();
}

/// Checks channel counts against the weight and group; returns the output channel count M.
Expected<Dim> output_channels(std::string_view op, bool transposed, const TensorType& x, const TensorType& w,
                              int64_t group) {
  if (group < 1) return make_error("{} group must be >= 1, got {}", op, group);
  const Dim& channels = x.shape[1];
  if (!transposed) {
    // w: [M, C/group, K...]
    if (channels != w.shape[1] * group)
      return make_error("{} input {} has {} channels but weight {} with group {} expects {} (weight dim 1 * group)", op,
                        x.str(), channels.str(), w.str(), group, (w.shape[1] * group).str());
    if (!w.shape[0].divide_exact(group))
      return make_error("{} weight {} has {} output channels, which group {} does not divide", op, w.str(),
                        w.shape[0].str(), group);
    return w.shape[0];
  }
  // w: [C, M/group, K...]
  if (channels != w.shape[0])
    return make_error("{} input {} has {} channels but weight {} expects {} (weight dim 0)", op, x.str(),
                      channels.str(), w.str(), w.shape[0].str());
  if (!channels.divide_exact(group))
    return make_error("{} input {} has {} channels, which group {} does not divide", op, x.str(), channels.str(),
                      group);
  return w.shape[1] * group;
}

/// Output size of spatial axis `axis`, or an error if it is a constant below 1.
Expected<Dim> spatial_out(std::string_view op, const ConvSpec& spec, const TensorType& x, const TensorType& w,
                          size_t axis) {
  const Dim& in = x.shape[2 + axis];
  const Dim& kernel = w.shape[2 + axis];
  if (auto k = kernel.as_const(); k && *k < 1)
    return make_error("{} weight {} has kernel size {} on spatial axis {}; it must be >= 1", op, w.str(), *k, axis);
  const WindowAttrs& win = spec.window;
  int64_t stride = win.strides[axis], pb = win.pad_begin(axis), pe = win.pad_end(axis);
  Dim extent = (kernel - 1) * win.dilations[axis] + 1;
  Dim out = spec.transposed ? (in - 1) * stride + spec.output_padding[axis] + extent - pb - pe
                            : window_count(in, extent, stride, pb + pe);
  if (auto value = out.as_const(); value && *value < 1)
    return make_error(
        "{} output spatial axis {} would have size {} (input {}, weight {}, stride {}, dilation {}, pads {} and {})",
        op, axis, *value, x.str(), w.str(), stride, win.dilations[axis], pb, pe);
  return out;
}

Expected<ConvSpec> conv_spec(OpKind kind, const TensorType& x, const TensorType& w, const TensorType* bias,
                             const AttrReader& attrs) {
  std::string_view op = op_info(kind).name;
  TESSEL_TRY(check_operands(op, x, w, bias));
  ConvSpec spec;
  spec.transposed = kind == OpKind::ConvTranspose;
  size_t spatial = static_cast<size_t>(x.rank() - 2);
  TESSEL_ASSIGN(spec.window, read_window_attrs(op, attrs, spatial));
  spec.output_padding.assign(spatial, 0);
  if (spec.transposed) {
    TESSEL_ASSIGN(spec.output_padding, read_axis_list(op, attrs, "output_padding", spatial, 0, 0));
  }
  spec.group = attrs.i("group");
  TESSEL_ASSIGN(spec.out_channels, output_channels(op, spec.transposed, x, w, spec.group));
  if (bias && bias->shape[0] != spec.out_channels)
    return make_error("{} bias {} must have {} entries, one per output channel", op, bias->str(),
                      spec.out_channels.str());
  spec.result = {x.shape[0], spec.out_channels};
  for (size_t axis = 0; axis < spatial; ++axis) {
    TESSEL_ASSIGN(Dim out, spatial_out(op, spec, x, w, axis));
    spec.result.push_back(out);
  }
  return spec;
}

/// One spatial axis of a concrete convolution: x and y sizes and the window along it.
struct Axis {
  int64_t x = 0, y = 0, kernel = 0, stride = 1, dilation = 1, pad_begin = 0;
};

/// Adds the contribution of one (input channel, output channel) pair -- all kernel taps -- to an output
/// plane. Conv gathers: y[p] += w[k] * x[p*s - pb + k*d]; conv_transpose scatters: y[p*s - pb + k*d] +=
/// w[k] * x[p]. The positions p for which the other index is in range are precomputed per axis and tap.
template <typename T>
class PlaneAccumulator {
 public:
  PlaneAccumulator(std::vector<Axis> axes, bool transposed) : axes_(std::move(axes)), transposed_(transposed) {
    size_t rank = axes_.size();
    x_stride_.assign(rank, 1);
    y_stride_.assign(rank, 1);
    w_stride_.assign(rank, 1);
    for (size_t a = rank - 1; a > 0; --a) {
      x_stride_[a - 1] = x_stride_[a] * axes_[a].x;
      y_stride_[a - 1] = y_stride_[a] * axes_[a].y;
      w_stride_[a - 1] = w_stride_[a] * axes_[a].kernel;
    }
    ranges_.resize(rank);
    for (size_t a = 0; a < rank; ++a) {
      const Axis& g = axes_[a];
      int64_t count = transposed_ ? g.x : g.y, limit = transposed_ ? g.y : g.x;
      for (int64_t k = 0; k < g.kernel; ++k)
        ranges_[a].push_back(tap_range(count, limit, g.stride, g.pad_begin, k * g.dilation));
    }
  }

  void add(const T* x, const T* w, double* y) const { add_axis(0, x, w, y); }

 private:
  void add_axis(size_t a, const T* x, const T* w, double* y) const {
    const Axis& g = axes_[a];
    bool last = a + 1 == axes_.size();
    for (int64_t k = 0; k < g.kernel; ++k) {
      auto [lo, hi] = ranges_[a][k];
      int64_t shift = k * g.dilation - g.pad_begin;  // other index = p * stride + shift
      const T* wk = w + k * w_stride_[a];
      if (last) {
        add_row(lo, hi, g.stride, shift, static_cast<double>(*wk), x, y);
        continue;
      }
      for (int64_t p = lo; p < hi; ++p) {
        int64_t q = p * g.stride + shift;
        int64_t xi = transposed_ ? p : q, yi = transposed_ ? q : p;
        add_axis(a + 1, x + xi * x_stride_[a], wk, y + yi * y_stride_[a]);
      }
    }
  }

  void add_row(int64_t lo, int64_t hi, int64_t stride, int64_t shift, double weight, const T* x, double* y) const {
    if (transposed_) {
      for (int64_t p = lo; p < hi; ++p) y[p * stride + shift] += weight * static_cast<double>(x[p]);
      return;
    }
    if (stride == 1) {
      for (int64_t p = lo; p < hi; ++p) y[p] += weight * static_cast<double>(x[p + shift]);
      return;
    }
    for (int64_t p = lo; p < hi; ++p) y[p] += weight * static_cast<double>(x[p * stride + shift]);
  }

  std::vector<Axis> axes_;
  bool transposed_;
  std::vector<int64_t> x_stride_, y_stride_, w_stride_;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> ranges_;
};

template <typename T>
void conv_kernel(const ConvSpec& spec, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) {
  int64_t batch = x.dim(0), in_channels = x.dim(1), out_channels = y.dim(1);
  int64_t group_in = in_channels / spec.group, group_out = out_channels / spec.group;
  std::vector<Axis> axes;
  int64_t x_plane = 1, y_plane = 1, kernel_size = 1;
  for (int64_t a = 2; a < x.rank(); ++a) {
    size_t s = static_cast<size_t>(a - 2);
    axes.push_back(
        {x.dim(a), y.dim(a), w.dim(a), spec.window.strides[s], spec.window.dilations[s], spec.window.pad_begin(s)});
    x_plane *= x.dim(a);
    y_plane *= y.dim(a);
    kernel_size *= w.dim(a);
  }
  PlaneAccumulator<T> planes(std::move(axes), spec.transposed);
  const T* xd = x.data<T>();
  const T* wd = w.data<T>();
  T* yd = y.data<T>();
  std::vector<double> acc(static_cast<size_t>(y_plane));
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t g = 0; g < spec.group; ++g) {
      for (int64_t m = 0; m < group_out; ++m) {
        int64_t oc = g * group_out + m;
        std::fill(acc.begin(), acc.end(), bias ? static_cast<double>(bias->data<T>()[oc]) : 0.0);
        for (int64_t c = 0; c < group_in; ++c) {
          int64_t ic = g * group_in + c;
          int64_t w_index = spec.transposed ? ic * group_out + m : oc * group_in + c;
          planes.add(xd + (n * in_channels + ic) * x_plane, wd + w_index * kernel_size, acc.data());
        }
        T* out = yd + (n * out_channels + oc) * y_plane;
        for (int64_t i = 0; i < y_plane; ++i) out[i] = static_cast<T>(acc[i]);
      }
    }
  }
}

// f16 / bf16 compute through f32: widen the operands, run the f32 kernel, round the result back.
Tensor widen(const Tensor& t) { return Tensor::from_doubles(DType::F32, t.shape(), t.to_doubles()); }
Tensor narrow(const Tensor& t, DType dtype) { return Tensor::from_doubles(dtype, t.shape(), t.to_doubles()); }

Tensor run_conv(const ConvSpec& spec, const Tensor& x, const Tensor& w, const Tensor* bias) {
  if (x.dtype() == DType::F16 || x.dtype() == DType::BF16) {
    Tensor wide_bias = bias ? widen(*bias) : Tensor();
    Tensor y = run_conv(spec, widen(x), widen(w), bias ? &wide_bias : nullptr);
    return narrow(y, x.dtype());
  }
  Tensor y(x.dtype(), *static_shape(spec.result));
  if (x.dtype() == DType::F64) {
    conv_kernel<double>(spec, x, w, bias, y);
  } else {
    conv_kernel<float>(spec, x, w, bias, y);
  }
  return y;
}

TensorType type_of(const Tensor& t) { return {t.dtype(), to_shape(t.shape())}; }

}  // namespace

Expected<std::vector<TensorType>> infer_conv(const ShapeContext& ctx) {
  const TensorType* bias = ctx.has_operand(2) ? &ctx.operand(2) : nullptr;
  TESSEL_ASSIGN(ConvSpec spec, conv_spec(ctx.kind, ctx.operand(0), ctx.operand(1), bias, ctx.attrs));
  return std::vector<TensorType>{{ctx.operand(0).dtype, spec.result}};
}

Expected<std::vector<Tensor>> eval_conv(const EvalContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  TensorType bias_type = bias ? type_of(*bias) : TensorType{};
  TESSEL_ASSIGN(ConvSpec spec, conv_spec(ctx.kind, type_of(x), type_of(w), bias ? &bias_type : nullptr, ctx.attrs));
  return std::vector<Tensor>{run_conv(spec, x, w, bias)};
}

}  // namespace tessel::ops
