// The pool family: max_pool and avg_pool over the spatial axes of x[N, C, D...] (ONNX MaxPool and
// AveragePool with explicit pads, dilations and ceil_mode). max_pool takes floats and integers and may
// return a second result, the i64 index of each maximum into the whole input tensor (ONNX Indices:
// (n * C + c) * prod(D) + the spatial offset, row-major for storage_order 0 and column-major over the
// spatial axes for 1); padding never wins, the first maximum wins ties, and a NaN in the window wins.
// avg_pool takes floats and sums in double. It divides by the number of window taps inside the input
// (count_include_pad 0) or inside the padded input (1); taps of a ceil_mode window that hang past the
// end padding never count. A window with nothing to count gives -inf (lowest for integers) and index -1
// for max_pool, NaN (0/0) for avg_pool; only large pads or dilations let a window miss the input.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include <fmt/ranges.h>

#include "ir/ops/Families.h"
#include "ir/ops/OpUtil.h"
#include "ir/ops/Window.h"

namespace tessel::ops {
namespace {

struct PoolSpec {
  bool is_max = true;
  std::vector<int64_t> kernel;
  WindowAttrs window;
  bool ceil_mode = false;
  int64_t storage_order = 0;       ///< max_pool: 0 row-major indices, 1 column-major
  bool count_include_pad = false;  ///< avg_pool
  Shape result;
};

/// Output size along one axis. Ceil mode rounds the window count up but, as in ONNX and PyTorch, drops a
/// last window that would start past the input and the begin padding: (out - 1) * s >= in + pb. With
/// x = in + pb + pe - extent, the rounded-up count ceil(x/s) + 1 exceeds the start-limited count
/// floor((in + pb - 1)/s) + 1 by at most one when 0 < pe - extent + s < s, is never above it when
/// pe - extent + s <= 0, and always by one otherwise -- so each case is a single floordiv, symbolic too.
Dim pooled_dim(const Dim& in, int64_t extent, int64_t stride, int64_t pb, int64_t pe, bool ceil_mode) {
  if (!ceil_mode) return window_count(in, Dim(extent), stride, pb + pe);
  Dim span = in + pb + pe - extent;
  int64_t slack = pe - extent + stride;
  if (slack <= 0) return (span + 2 * stride - 1).floordiv(stride);
  if (slack < stride) return (in + pb - 1 + stride).floordiv(stride);
  return (span + stride - 1).floordiv(stride);
}

Status check_pool_dtype(OpKind kind, const TensorType& x) {
  std::string_view op = op_info(kind).name;
  if (kind == OpKind::MaxPool && x.dtype == DType::Bool)
    return make_error("{} expects a float or integer input, got {}", op, x.str());
  if (kind == OpKind::AvgPool && !is_float(x.dtype)) return make_error("{} expects a float input, got {}", op, x.str());
  if (x.rank() < 3)
    return make_error("{} input {} must be [N, C, spatial...] with at least one spatial axis", op, x.str());
  return Status::success();
}

Expected<int64_t> read_flag(std::string_view op, const AttrReader& attrs, const std::string& name) {
  int64_t value = attrs.i(name);
  if (value != 0 && value != 1) return make_error("{} {} must be 0 or 1, got {}", op, name, value);
  return value;
}

Expected<PoolSpec> pool_spec(OpKind kind, const TensorType& x, const AttrReader& attrs) {
  std::string_view op = op_info(kind).name;
  TESSEL_TRY(check_pool_dtype(kind, x));
  size_t spatial = static_cast<size_t>(x.rank() - 2);
  PoolSpec spec;
  spec.is_max = kind == OpKind::MaxPool;
  spec.kernel = attrs.ints("kernel");
  if (spec.kernel.size() != spatial)
    return make_error("{} kernel has {} entries [{}] but the input {} has {} spatial axes", op, spec.kernel.size(),
                      fmt::join(spec.kernel, ", "), x.str(), spatial);
  for (int64_t k : spec.kernel)
    if (k < 1) return make_error("{} kernel [{}] must all be >= 1", op, fmt::join(spec.kernel, ", "));
  TESSEL_ASSIGN(spec.window, read_window_attrs(op, attrs, spatial));
  TESSEL_ASSIGN(int64_t ceil_mode, read_flag(op, attrs, "ceil_mode"));
  spec.ceil_mode = ceil_mode != 0;
  if (spec.is_max) {
    TESSEL_ASSIGN(spec.storage_order, read_flag(op, attrs, "storage_order"));
  } else {
    TESSEL_ASSIGN(int64_t include_pad, read_flag(op, attrs, "count_include_pad"));
    spec.count_include_pad = include_pad != 0;
  }
  spec.result = {x.shape[0], x.shape[1]};
  for (size_t a = 0; a < spatial; ++a) {
    const WindowAttrs& win = spec.window;
    int64_t extent = (spec.kernel[a] - 1) * win.dilations[a] + 1;
    Dim out = pooled_dim(x.shape[2 + a], extent, win.strides[a], win.pad_begin(a), win.pad_end(a), spec.ceil_mode);
    if (auto value = out.as_const(); value && *value < 1)
      return make_error(
          "{} output spatial axis {} would have size {} (input {}, kernel {}, stride {}, dilation {}, pads {} and {})",
          op, a, *value, x.str(), spec.kernel[a], win.strides[a], win.dilations[a], win.pad_begin(a), win.pad_end(a));
    spec.result.push_back(out);
  }
  return spec;
}

/// The windows along one spatial axis, per output position: the input position of the first tap that
/// lands in the input, how many taps do (stepping by the dilation), and how many land in the padded input.
struct AxisWindows {
  std::vector<int64_t> first, valid, padded;
  int64_t dilation = 1;
};

/// Window enumeration over all spatial axes of one (n, c) plane.
class Windows {
 public:
  Windows(const PoolSpec& spec, const std::vector<int64_t>& x_shape, const std::vector<int64_t>& y_shape)
      : in_(x_shape.begin() + 2, x_shape.end()), out_(y_shape.begin() + 2, y_shape.end()) {
    in_strides_ = row_major_strides(in_);
    const WindowAttrs& win = spec.window;
    for (size_t a = 0; a < in_.size(); ++a) {
      AxisWindows axis;
      axis.dilation = win.dilations[a];
      int64_t pb = win.pad_begin(a), padded_size = in_[a] + pb + win.pad_end(a);
      for (int64_t o = 0; o < out_[a]; ++o) {
        // Tap k lands at input position o*s - pb + k*d, which is o*s + k*d within the padded input.
        int64_t start = o * win.strides[a];
        auto [lo, hi] = tap_range(spec.kernel[a], in_[a], axis.dilation, pb, start);
        auto [plo, phi] = tap_range(spec.kernel[a], padded_size, axis.dilation, 0, start);
        axis.first.push_back(start - pb + lo * axis.dilation);
        axis.valid.push_back(std::max<int64_t>(hi - lo, 0));
        axis.padded.push_back(std::max<int64_t>(phi - plo, 0));
      }
      axes_.push_back(std::move(axis));
    }
  }

  const std::vector<int64_t>& in_shape() const { return in_; }
  const std::vector<int64_t>& out_shape() const { return out_; }

  /// Calls fn(offset) with the row-major offset (within the plane) of every input element in the window
  /// at output position `pos`.
  template <typename Fn>
  void for_each(const std::vector<int64_t>& pos, Fn&& fn) const {
    visit(0, pos, 0, fn);
  }

  /// Number of window taps inside the input (include_pad false) or inside the padded input (true).
  int64_t count(const std::vector<int64_t>& pos, bool include_pad) const {
    int64_t count = 1;
    for (size_t a = 0; a < axes_.size(); ++a) count *= (include_pad ? axes_[a].padded : axes_[a].valid)[pos[a]];
    return count;
  }

 private:
  template <typename Fn>
  void visit(size_t a, const std::vector<int64_t>& pos, int64_t offset, Fn& fn) const {
    if (a == axes_.size()) {
      fn(offset);
      return;
    }
    const AxisWindows& axis = axes_[a];
    int64_t o = pos[a];
    for (int64_t j = 0; j < axis.valid[o]; ++j)
      visit(a + 1, pos, offset + (axis.first[o] + j * axis.dilation) * in_strides_[a], fn);
  }

  std::vector<int64_t> in_, out_, in_strides_;
  std::vector<AxisWindows> axes_;
};

int64_t product(const std::vector<int64_t>& dims) {
  int64_t result = 1;
  for (int64_t d : dims) result *= d;
  return result;
}

/// Advances a row-major multi-index over `shape`.
void next_index(std::vector<int64_t>& index, const std::vector<int64_t>& shape) {
  for (size_t a = index.size(); a-- > 0;) {
    if (++index[a] < shape[a]) return;
    index[a] = 0;
  }
}

template <typename T>
bool is_nan(T value) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(value);
  return false;
}

/// The flat index ONNX reports for spatial offset `offset` of plane `plane`.
int64_t max_index(int64_t plane, int64_t offset, const std::vector<int64_t>& in, int64_t storage_order) {
  int64_t plane_size = product(in);
  if (storage_order == 0) return plane * plane_size + offset;
  std::vector<int64_t> index = unravel(offset, in);
  int64_t column = 0, stride = 1;
  for (size_t a = 0; a < in.size(); ++a) {
    column += index[a] * stride;
    stride *= in[a];
  }
  return plane * plane_size + column;
}

template <typename T>
void max_pool_kernel(const Windows& windows, const PoolSpec& spec, const Tensor& x, Tensor& y, Tensor* indices) {
  constexpr T empty =
      std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
  int64_t in_plane = product(windows.in_shape()), out_plane = product(windows.out_shape());
  int64_t planes = x.dim(0) * x.dim(1);
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  std::vector<int64_t> pos(windows.out_shape().size(), 0);
  for (int64_t plane = 0; plane < planes; ++plane) {
    const T* xp = xd + plane * in_plane;
    for (int64_t o = 0; o < out_plane; ++o, next_index(pos, windows.out_shape())) {
      T best = empty;
      int64_t best_offset = -1;
      windows.for_each(pos, [&](int64_t offset) {
        T value = xp[offset];
        if (best_offset < 0 || value > best || (is_nan(value) && !is_nan(best))) {
          best = value;
          best_offset = offset;
        }
      });
      yd[plane * out_plane + o] = best;
      if (indices)
        indices->data<int64_t>()[plane * out_plane + o] =
            best_offset < 0 ? -1 : max_index(plane, best_offset, windows.in_shape(), spec.storage_order);
    }
  }
}

template <typename T>
void avg_pool_kernel(const Windows& windows, const PoolSpec& spec, const Tensor& x, Tensor& y) {
  int64_t in_plane = product(windows.in_shape()), out_plane = product(windows.out_shape());
  int64_t planes = x.dim(0) * x.dim(1);
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  std::vector<int64_t> pos(windows.out_shape().size(), 0);
  for (int64_t plane = 0; plane < planes; ++plane) {
    const T* xp = xd + plane * in_plane;
    for (int64_t o = 0; o < out_plane; ++o, next_index(pos, windows.out_shape())) {
      double sum = 0;
      windows.for_each(pos, [&](int64_t offset) { sum += static_cast<double>(xp[offset]); });
      // Padding taps add zero to the sum; they only change the divisor.
      int64_t count = windows.count(pos, spec.count_include_pad);
      yd[plane * out_plane + o] = static_cast<T>(count ? sum / static_cast<double>(count) : std::nan(""));
    }
  }
}

// f16 / bf16 compute through f32: widen the input, run the f32 kernel, round the result back.
Tensor widen(const Tensor& t) { return Tensor::from_doubles(DType::F32, t.shape(), t.to_doubles()); }
Tensor narrow(const Tensor& t, DType dtype) { return Tensor::from_doubles(dtype, t.shape(), t.to_doubles()); }

std::vector<Tensor> run_pool(const PoolSpec& spec, const Tensor& x, bool with_indices) {
  if (x.dtype() == DType::F16 || x.dtype() == DType::BF16) {
    std::vector<Tensor> results = run_pool(spec, widen(x), with_indices);
    results[0] = narrow(results[0], x.dtype());
    return results;
  }
  std::vector<int64_t> y_shape = *static_shape(spec.result);
  Windows windows(spec, x.shape(), y_shape);
  std::vector<Tensor> results{Tensor(x.dtype(), y_shape)};
  if (with_indices) results.emplace_back(DType::I64, y_shape);
  Tensor* indices = with_indices ? &results[1] : nullptr;
  visit_dtype(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    if (spec.is_max) {
      max_pool_kernel<T>(windows, spec, x, results[0], indices);
      return;
    }
    if constexpr (std::is_floating_point_v<T>) avg_pool_kernel<T>(windows, spec, x, results[0]);
  });
  return results;
}

}  // namespace

Expected<std::vector<TensorType>> infer_pool(const ShapeContext& ctx) {
  TESSEL_ASSIGN(PoolSpec spec, pool_spec(ctx.kind, ctx.operand(0), ctx.attrs));
  std::vector<TensorType> results{{ctx.operand(0).dtype, spec.result}};
  if (ctx.num_results == 2) results.push_back({DType::I64, spec.result});
  return results;
}

Expected<std::vector<Tensor>> eval_pool(const EvalContext& ctx) {
  const Tensor& x = ctx.input(0);
  TESSEL_ASSIGN(PoolSpec spec, pool_spec(ctx.kind, {x.dtype(), to_shape(x.shape())}, ctx.attrs));
  return run_pool(spec, x, ctx.result_dtypes.size() == 2);
}

}  // namespace tessel::ops
