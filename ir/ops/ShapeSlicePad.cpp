// Shape ops that take a window of their operand: `slice` (ONNX Slice with its
// clamping rules) and `pad` (ONNX Pad; negative pads crop). Both also handle
// symbolic dims with Dim arithmetic where the result can be written exactly.
#include <algorithm>
#include <cstring>
#include <limits>

#include "ir/ops/OpUtil.h"
#include "ir/ops/ShapeOps.h"

namespace tessel::ops::shape {
namespace {

// ---- slice parameters ----------------------------------------------------------------------------

struct AxisSlice {
  int64_t axis, start, end, step;
};

Expected<std::vector<AxisSlice>> slice_params(const AttrReader& attrs, int64_t rank) {
  const std::vector<int64_t>& starts = attrs.ints("starts");
  const std::vector<int64_t>& ends = attrs.ints("ends");
  std::vector<int64_t> axes = attrs.ints("axes"), steps = attrs.ints("steps");
  size_t count = starts.size();
  if (ends.size() != count) return make_error("slice has {} starts but {} ends", count, ends.size());
  if (axes.empty())
    for (size_t i = 0; i < count; ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(count, 1);
  if (axes.size() != count || steps.size() != count)
    return make_error("slice has {} starts but {} axes and {} steps", count, axes.size(), steps.size());
  auto normalized = normalize_axes(axes, rank);
  if (!normalized) return make_error("slice axes {}: {}", list_str(axes), normalized.error().message);
  std::vector<AxisSlice> slices;
  for (size_t i = 0; i < count; ++i) {
    if (steps[i] == 0) return make_error("slice step is 0 on axis {}", axes[i]);
    slices.push_back({(*normalized)[i], starts[i], ends[i], steps[i]});
  }
  return slices;
}

struct Window {
  int64_t start = 0, length = 0;
};

// ONNX Slice on a concrete dim: negative bounds count from the end, then clamp to [0, dim] (step > 0) or
// to [0, dim-1] for the start and [-1, dim-1] for the end (step < 0).
Window clamp_window(const AxisSlice& slice, int64_t dim) {
  if (dim == 0) return {};
  int64_t start = slice.start < 0 ? slice.start + dim : slice.start;  // cannot overflow: dim >= 0
  int64_t end = slice.end < 0 ? slice.end + dim : slice.end;
  if (slice.step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
  }
  int64_t span = slice.step > 0 ? end - start : start - end;
  if (span <= 0) return {start, 0};
  // |step| through unsigned so that INT64_MIN has a magnitude.
  uint64_t magnitude = slice.step > 0 ? static_cast<uint64_t>(slice.step) : 0 - static_cast<uint64_t>(slice.step);
  return {start, static_cast<int64_t>((static_cast<uint64_t>(span) - 1) / magnitude + 1)};
}

// Index values at least this large (in magnitude) mean "past the end" on a symbolic axis: exporters write
// INT64_MAX, INT32_MAX or similar sentinels, and no real axis is that long.
constexpr int64_t kBeyondEnd = std::numeric_limits<int32_t>::max();

// A slice bound on a symbolic axis: `offset` counted from the axis start, or from its end (dim + offset).
struct Bound {
  bool from_end = false;
  int64_t offset = 0;
};

Bound symbolic_bound(int64_t value, bool is_start, bool forward) {
  if (value >= kBeyondEnd) return forward ? Bound{true, 0} : Bound{true, -1};
  if (value <= -kBeyondEnd) return is_start || forward ? Bound{false, 0} : Bound{false, -1};
  if (value < 0) return {true, value};
  return {false, value};
}

// The result dim of slicing a symbolic axis. Exact under the assumption that the axis is long enough for
// the constant bounds (no clamping happens); the interpreter checks the result against the actual shape.
Expected<Dim> symbolic_slice_dim(const AxisSlice& slice, const Dim& dim) {
  const bool forward = slice.step > 0;
  Bound start = symbolic_bound(slice.start, true, forward), end = symbolic_bound(slice.end, false, forward);
  Bound low = forward ? start : end, high = forward ? end : start;
  auto cannot = [&](std::string_view why) {
    return make_error("slice of axis {} (dim {}) from {} to {} by {} cannot be expressed as a dim: {}", slice.axis,
                      dim.str(), slice.start, slice.end, slice.step, why);
  };
  if (slice.step >= kBeyondEnd || slice.step <= -kBeyondEnd) return cannot("the step is too large");
  int64_t magnitude = forward ? slice.step : -slice.step;
  if (low.from_end == high.from_end) {
    int64_t span = high.offset - low.offset;
    return Dim(span <= 0 ? 0 : (span - 1) / magnitude + 1);
  }
  if (low.from_end) return cannot("its length shrinks as the dim grows (it is max(0, c - dim))");
  // high = dim + high.offset, low = low.offset: ceil((dim + high - low) / |step|).
  Dim span = dim + Dim(high.offset - low.offset);
  return (span + Dim(magnitude - 1)).floordiv(magnitude);
}

// ---- pad -----------------------------------------------------------------------------------------

enum class PadMode { Constant, Reflect, Edge, Wrap };

constexpr int64_t kMaxPad = int64_t{1} << 62;

Expected<PadMode> pad_mode(const std::string& mode) {
  if (mode == "constant") return PadMode::Constant;
  if (mode == "reflect") return PadMode::Reflect;
  if (mode == "edge") return PadMode::Edge;
  if (mode == "wrap") return PadMode::Wrap;
  return make_error("pad mode '{}' is not one of constant, reflect, edge, wrap", mode);
}

Status check_pads(const std::vector<int64_t>& pads, int64_t rank) {
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return make_error("pad needs {} pads (begins then ends) for a rank-{} operand, got {}", 2 * rank, rank,
                      list_str(pads));
  // Keeps the per-axis arithmetic below (negation, sums) clear of int64 overflow.
  for (int64_t amount : pads)
    if (amount <= -kMaxPad || amount >= kMaxPad) return make_error("pad amount {} is out of range", amount);
  return Status::success();
}

int64_t floor_mod(int64_t a, int64_t b) {
  int64_t r = a % b;
  return r < 0 ? r + b : r;
}

// For each result index along one axis, the input index it reads, or -1 for the constant value.
// Negative pads crop first; the positive ones then pad what is left, so reflection and wrapping see the
// cropped axis.
Expected<std::vector<int64_t>> pad_axis_sources(int64_t dim, int64_t begin, int64_t end, PadMode mode, int64_t axis) {
  int64_t low = std::max<int64_t>(0, -begin), kept = dim - low - std::max<int64_t>(0, -end);
  if (kept < 0) return make_error("pads {} and {} crop more than axis {} has ({})", begin, end, axis, dim);
  int64_t lead = std::max<int64_t>(0, begin), size = 0;
  if (__builtin_add_overflow(kept, lead + std::max<int64_t>(0, end), &size))
    return make_error("padding axis {} of dim {} by {} and {} overflows int64", axis, dim, begin, end);
  if (mode != PadMode::Constant && kept == 0 && size > 0)
    return make_error("cannot pad axis {} by reflect, edge or wrap: no elements are left to copy", axis);
  std::vector<int64_t> sources(size);
  for (int64_t out = 0; out < size; ++out) {
    int64_t i = out - lead;
    if (i >= 0 && i < kept) {
      sources[out] = low + i;
      continue;
    }
    switch (mode) {
      case PadMode::Constant: sources[out] = -1; continue;
      case PadMode::Edge: i = std::clamp<int64_t>(i, 0, kept - 1); break;
      case PadMode::Wrap: i = floor_mod(i, kept); break;
      case PadMode::Reflect: {
        // Reflection without repeating the edge has period 2*(kept-1).
        int64_t period = 2 * (kept - 1);
        int64_t m = period == 0 ? 0 : floor_mod(i, period);
        i = m < kept ? m : period - m;
        break;
      }
    }
    sources[out] = low + i;
  }
  return sources;
}

template <typename T>
void pad_elements(const T* in, T* out, T fill, const std::vector<std::vector<int64_t>>& sources,
                  const std::vector<int64_t>& in_strides, const std::vector<int64_t>& shape, int64_t count) {
  std::vector<int64_t> index(shape.size(), 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t offset = 0;
    bool inside = true;
    for (size_t axis = 0; axis < shape.size() && inside; ++axis) {
      int64_t source = sources[axis][index[axis]];
      inside = source >= 0;
      offset += source * in_strides[axis];
    }
    out[flat] = inside ? in[offset] : fill;
    for (int64_t axis = static_cast<int64_t>(shape.size()) - 1; axis >= 0; --axis) {
      if (++index[axis] < shape[axis]) break;
      index[axis] = 0;
    }
  }
}

}  // namespace

// ---- slice ---------------------------------------------------------------------------------------

Types infer_slice(const ShapeContext& ctx) {
  const TensorType& input = ctx.operand(0);
  TESSEL_ASSIGN(std::vector<AxisSlice> slices, slice_params(ctx.attrs, input.rank()));
  Shape shape = input.shape;
  for (const AxisSlice& slice : slices) {
    const Dim& dim = input.shape[slice.axis];
    if (auto value = dim.as_const()) {
      shape[slice.axis] = Dim(clamp_window(slice, *value).length);
      continue;
    }
    TESSEL_ASSIGN(shape[slice.axis], symbolic_slice_dim(slice, dim));
  }
  return std::vector<TensorType>{{input.dtype, shape}};
}

Tensors eval_slice(const EvalContext& ctx) {
  const Tensor& input = ctx.input(0);
  TESSEL_ASSIGN(std::vector<AxisSlice> slices, slice_params(ctx.attrs, input.rank()));
  std::vector<int64_t> shape = input.shape(), in_strides = input.strides();
  StridedView from{0, in_strides};
  for (const AxisSlice& slice : slices) {
    Window window = clamp_window(slice, input.dim(slice.axis));
    shape[slice.axis] = window.length;
    from.offset += window.start * in_strides[slice.axis];
    // A stride is only followed between elements; skipping it for a single one avoids overflowing huge steps.
    from.strides[slice.axis] = window.length > 1 ? slice.step * in_strides[slice.axis] : 0;
  }
  Tensor out(input.dtype(), shape);
  strided_copy(input, from, out, StridedView{0, out.strides()}, shape);
  return std::vector<Tensor>{out};
}

// ---- pad -----------------------------------------------------------------------------------------

Types infer_pad(const ShapeContext& ctx) {
  const TensorType& input = ctx.operand(0);
  const std::vector<int64_t>& pads = ctx.attrs.ints("pads");
  TESSEL_TRY(check_pads(pads, input.rank()));
  TESSEL_ASSIGN(PadMode mode, pad_mode(ctx.attrs.s("mode")));
  Shape shape;
  for (int64_t axis = 0; axis < input.rank(); ++axis) {
    int64_t begin = pads[axis], end = pads[axis + input.rank()];
    // Constant dims get the kernel's own checks; symbolic ones are checked when the kernel runs.
    if (auto dim = input.shape[axis].as_const()) {
      auto sources = pad_axis_sources(*dim, begin, end, mode, axis);
      if (!sources) return make_error("pad of {}: {}", input.str(), sources.error().message);
    }
    shape.push_back(input.shape[axis] + Dim(begin) + Dim(end));
  }
  return std::vector<TensorType>{{input.dtype, shape}};
}

Tensors eval_pad(const EvalContext& ctx) {
  const Tensor& input = ctx.input(0);
  const std::vector<int64_t>& pads = ctx.attrs.ints("pads");
  TESSEL_TRY(check_pads(pads, input.rank()));
  TESSEL_ASSIGN(PadMode mode, pad_mode(ctx.attrs.s("mode")));
  std::vector<std::vector<int64_t>> sources;
  std::vector<int64_t> shape;
  for (int64_t axis = 0; axis < input.rank(); ++axis) {
    auto axis_sources = pad_axis_sources(input.dim(axis), pads[axis], pads[axis + input.rank()], mode, axis);
    if (!axis_sources) return make_error("pad of {}: {}", input.type_str(), axis_sources.error().message);
    shape.push_back(static_cast<int64_t>(axis_sources->size()));
    sources.push_back(std::move(*axis_sources));
  }
  // The fill value converts like a cast from f64 (saturating for integers, x != 0 for bool).
  Tensor fill = Tensor::from_doubles(input.dtype(), {}, {ctx.attrs.f("value")});
  Tensor out(input.dtype(), shape);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    T fill_value;
    std::memcpy(&fill_value, fill.raw_data(), sizeof(T));
    pad_elements(static_cast<const T*>(input.raw_data()), static_cast<T*>(out.raw_data()), fill_value, sources,
                 input.strides(), shape, out.numel());
  };
  switch (dtype_size(input.dtype())) {
    case 1: run(uint8_t{}); break;
    case 2: run(uint16_t{}); break;
    case 4: run(uint32_t{}); break;
    default: run(uint64_t{}); break;
  }
  return std::vector<Tensor>{out};
}

}  // namespace tessel::ops::shape
