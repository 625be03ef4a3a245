// Shape ops driven by an index tensor: `gather`, `gather_elements` and
// `scatter_elements` (ONNX semantics). Indices are i32 or i64, negative ones
// count from the end of the axis, and an index out of range is an error that
// names it, never an out-of-bounds read.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "ir/ops/OpUtil.h"
#include "ir/ops/ShapeOps.h"

namespace tessel::ops::shape {
namespace {

enum class Reduction { None, Add, Mul, Max, Min };

Expected<Reduction> parse_reduction(const std::string& text) {
  if (text == "none") return Reduction::None;
  if (text == "add") return Reduction::Add;
  if (text == "mul") return Reduction::Mul;
  if (text == "max") return Reduction::Max;
  if (text == "min") return Reduction::Min;
  return make_error("scatter_elements reduction '{}' is not one of none, add, mul, max, min", text);
}

// Index value `value` on an axis of size `dim`, made non-negative; error if outside [-dim, dim).
Expected<int64_t> wrap_index(int64_t value, int64_t dim, int64_t position, int64_t axis, std::string_view op,
                             const Tensor& data) {
  if (value < -dim || value >= dim)
    return make_error("{} index {} (element {} of the indices) is out of range for axis {} of {}", op, value, position,
                      axis, data.type_str());
  return value < 0 ? value + dim : value;
}

// Shared by gather_elements and scatter_elements: same rank, index dtype, axis, and indices no larger
// than data off the axis (when both dims are constant; the kernels check concrete shapes).
Expected<int64_t> check_elementwise_indices(const TensorType& data, const TensorType& indices, int64_t axis_attr,
                                            std::string_view op) {
  TESSEL_TRY(check_index_type(indices, op));
  if (data.rank() != indices.rank())
    return make_error("{} needs data and indices of one rank, got {} and {}", op, data.str(), indices.str());
  auto axis = normalize_axis(axis_attr, data.rank());
  if (!axis) return make_error("{} on {}: {}", op, data.str(), axis.error().message);
  for (int64_t d = 0; d < data.rank(); ++d) {
    auto have = data.shape[d].as_const(), want = indices.shape[d].as_const();
    if (d != *axis && have && want && *want > *have)
      return make_error("{} indices {} are larger than data {} on axis {}", op, indices.str(), data.str(), d);
  }
  return axis;
}

// For each element of `indices`, the flat offset into `data` it addresses: the element's own position
// with its coordinate along `axis` replaced by the index value.
Expected<std::vector<int64_t>> element_offsets(const Tensor& data, const Tensor& indices, int64_t axis,
                                               std::string_view op) {
  for (int64_t d = 0; d < data.rank(); ++d)
    if (d != axis && indices.dim(d) > data.dim(d))
      return make_error("{} indices {} are larger than data {} on axis {}", op, indices.type_str(), data.type_str(), d);
  const std::vector<int64_t> strides = data.strides();
  std::vector<int64_t> index(indices.rank(), 0), offsets(indices.numel());
  for (int64_t flat = 0; flat < indices.numel(); ++flat) {
    TESSEL_ASSIGN(int64_t value, wrap_index(read_index(indices, flat), data.dim(axis), flat, axis, op, data));
    int64_t offset = 0;
    for (int64_t d = 0; d < indices.rank(); ++d) offset += (d == axis ? value : index[d]) * strides[d];
    offsets[flat] = offset;
    for (int64_t d = indices.rank() - 1; d >= 0; --d) {
      if (++index[d] < indices.dim(d)) break;
      index[d] = 0;
    }
  }
  return offsets;
}

// Integers wrap (through uint64); floats follow IEEE with NaN winning max/min.
template <typename T>
T combine_native(T a, T b, Reduction reduction) {
  if constexpr (std::is_floating_point_v<T>) {
    bool nan = std::isnan(a) || std::isnan(b);
    switch (reduction) {
      case Reduction::Add: return a + b;
      case Reduction::Mul: return a * b;
      case Reduction::Max: return nan ? std::numeric_limits<T>::quiet_NaN() : std::max(a, b);
      case Reduction::Min: return nan ? std::numeric_limits<T>::quiet_NaN() : std::min(a, b);
      case Reduction::None: return b;
    }
  } else {
    switch (reduction) {
      case Reduction::Add: return static_cast<T>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
      case Reduction::Mul: return static_cast<T>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
      case Reduction::Max: return std::max(a, b);
      case Reduction::Min: return std::min(a, b);
      case Reduction::None: return b;
    }
  }
  return b;
}

// One reduction step in `dtype`, whose storage type is T: f16/bf16 compute in float, bool as or/and.
template <typename T>
T combine(T a, T b, Reduction reduction, DType dtype) {
  if constexpr (std::is_same_v<T, uint16_t>) {
    if (dtype == DType::F16) return float_to_half(combine_native(half_to_float(a), half_to_float(b), reduction));
    if (dtype == DType::BF16) return float_to_bf16(combine_native(bf16_to_float(a), bf16_to_float(b), reduction));
  }
  if constexpr (std::is_same_v<T, uint8_t>) {
    // add and max are `or`, mul and min are `and`: the same as computing in integers and casting to bool.
    if (dtype == DType::Bool) return combine_native(a, b, reduction) != 0 ? 1 : 0;
  }
  return combine_native(a, b, reduction);
}

template <typename T>
void copy_at(const T* in, T* out, const std::vector<int64_t>& offsets) {
  for (size_t i = 0; i < offsets.size(); ++i) out[i] = in[offsets[i]];
}

}  // namespace

// ---- gather --------------------------------------------------------------------------------------

// ONNX Gather: result shape is data[:axis] + indices + data[axis+1:]; a scalar index drops the axis.
Types infer_gather(const ShapeContext& ctx) {
  const TensorType &data = ctx.operand(0), &indices = ctx.operand(1);
  TESSEL_TRY(check_index_type(indices, "gather"));
  auto axis = normalize_axis(ctx.attrs.i("axis"), data.rank());
  if (!axis) return make_error("gather from {}: {}", data.str(), axis.error().message);
  Shape shape(data.shape.begin(), data.shape.begin() + *axis);
  shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
  shape.insert(shape.end(), data.shape.begin() + *axis + 1, data.shape.end());
  return std::vector<TensorType>{{data.dtype, shape}};
}

Tensors eval_gather(const EvalContext& ctx) {
  const Tensor &data = ctx.input(0), &indices = ctx.input(1);
  TESSEL_ASSIGN(std::vector<int64_t> shape, concrete_shape(ctx, infer_gather));
  TESSEL_ASSIGN(int64_t axis, normalize_axis(ctx.attrs.i("axis"), data.rank()));
  const int64_t dim = data.dim(axis), count = indices.numel();
  std::vector<int64_t> rows(count);
  for (int64_t j = 0; j < count; ++j) {
    TESSEL_ASSIGN(rows[j], wrap_index(read_index(indices, j), dim, j, axis, "gather", data));
  }
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= data.dim(d);
  for (int64_t d = axis + 1; d < data.rank(); ++d) inner *= data.dim(d);
  Tensor out(data.dtype(), shape);
  // Each (outer, index) pair copies one contiguous block of `inner` elements.
  const size_t block = static_cast<size_t>(inner) * dtype_size(data.dtype());
  const auto* src = static_cast<const char*>(data.raw_data());
  auto* dst = static_cast<char*>(out.raw_data());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < count; ++j)
      std::memcpy(dst + (o * count + j) * block, src + (o * dim + rows[j]) * block, block);
  return std::vector<Tensor>{out};
}

// ---- gather_elements -----------------------------------------------------------------------------

Types infer_gather_elements(const ShapeContext& ctx) {
  const TensorType &data = ctx.operand(0), &indices = ctx.operand(1);
  TESSEL_TRY(check_elementwise_indices(data, indices, ctx.attrs.i("axis"), "gather_elements"));
  return std::vector<TensorType>{{data.dtype, indices.shape}};
}

Tensors eval_gather_elements(const EvalContext& ctx) {
  const Tensor &data = ctx.input(0), &indices = ctx.input(1);
  TESSEL_ASSIGN(std::vector<int64_t> shape, concrete_shape(ctx, infer_gather_elements));
  TESSEL_ASSIGN(int64_t axis, normalize_axis(ctx.attrs.i("axis"), data.rank()));
  TESSEL_ASSIGN(std::vector<int64_t> offsets, element_offsets(data, indices, axis, "gather_elements"));
  Tensor out(data.dtype(), shape);
  visit_dtype(data.dtype(), [&](auto tag) {
    using T = decltype(tag);
    copy_at(data.data<T>(), out.data<T>(), offsets);
  });
  return std::vector<Tensor>{out};
}

// ---- scatter_elements ----------------------------------------------------------------------------

Types infer_scatter_elements(const ShapeContext& ctx) {
  const TensorType &data = ctx.operand(0), &indices = ctx.operand(1), &updates = ctx.operand(2);
  TESSEL_TRY(check_elementwise_indices(data, indices, ctx.attrs.i("axis"), "scatter_elements"));
  if (updates.dtype != data.dtype || updates.shape != indices.shape)
    return make_error(
        "scatter_elements updates must have the data's dtype and the indices' shape: data {}, "
        "indices {}, updates {}",
        data.str(), indices.str(), updates.str());
  TESSEL_TRY(parse_reduction(ctx.attrs.s("reduction")));
  return std::vector<TensorType>{{data.dtype, data.shape}};
}

// Updates apply in index order, so with reduction none a repeated index keeps the last update.
Tensors eval_scatter_elements(const EvalContext& ctx) {
  const Tensor &data = ctx.input(0), &indices = ctx.input(1), &updates = ctx.input(2);
  TESSEL_TRY(concrete_shape(ctx, infer_scatter_elements));
  TESSEL_ASSIGN(Reduction reduction, parse_reduction(ctx.attrs.s("reduction")));
  TESSEL_ASSIGN(int64_t axis, normalize_axis(ctx.attrs.i("axis"), data.rank()));
  TESSEL_ASSIGN(std::vector<int64_t> offsets, element_offsets(data, indices, axis, "scatter_elements"));
  Tensor out = data.clone();  // operands are immutable: scatter writes a copy
  const DType dtype = data.dtype();
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* target = out.data<T>();
    const T* source = updates.data<T>();
    for (size_t i = 0; i < offsets.size(); ++i)
      target[offsets[i]] = combine(target[offsets[i]], source[i], reduction, dtype);
  });
  return std::vector<Tensor>{out};
}

}  // namespace tessel::ops::shape
