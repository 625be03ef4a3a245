// The shape family: dispatch of its shape rules and kernels to the per-op
// functions (ShapeLayout.cpp, ShapeSlicePad.cpp, ShapeIndexing.cpp), the
// element-copy helpers they share, and the two ops that make values from
// shapes and scalars: `range` and `shape_of`.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "ir/ops/Families.h"
#include "ir/ops/OpUtil.h"
#include "ir/ops/ShapeOps.h"

namespace tessel::ops {
namespace shape {
namespace {

// Element copy over an index space, templated on the element's byte size only: shape ops move bits.
template <typename T>
void copy_elements(const T* in, T* out, const StridedView& from, const StridedView& to,
                   const std::vector<int64_t>& shape) {
  for (int64_t dim : shape)
    if (dim == 0) return;
  if (shape.empty()) {
    out[to.offset] = in[from.offset];
    return;
  }
  const size_t rank = shape.size();
  const int64_t inner = shape.back(), in_step = from.strides.back(), out_step = to.strides.back();
  std::vector<int64_t> index(rank, 0);
  int64_t src = from.offset, dst = to.offset;
  while (true) {
    for (int64_t k = 0; k < inner; ++k) out[dst + k * out_step] = in[src + k * in_step];
    // Advance the outer axes like an odometer, keeping both offsets in step.
    int64_t axis = static_cast<int64_t>(rank) - 2;
    for (; axis >= 0; --axis) {
      src += from.strides[axis];
      dst += to.strides[axis];
      if (++index[axis] < shape[axis]) break;
      src -= from.strides[axis] * shape[axis];
      dst -= to.strides[axis] * shape[axis];
      index[axis] = 0;
    }
    if (axis < 0) return;
  }
}

// Large enough that no real model asks for more, small enough to refuse a runaway `range` before
// allocating; mirrors the interpreter's default tensor limit, which kernels cannot see.
constexpr double kMaxRangeBytes = double(int64_t{16} << 30);

Status check_range_operands(const ShapeContext& ctx) {
  DType dtype = ctx.operand(0).dtype;
  for (size_t i = 0; i < 3; ++i) {
    const TensorType& operand = ctx.operand(i);
    if (operand.rank() != 0)
      return make_error("range takes scalar start, limit and delta; operand {} is {}", i, operand.str());
    if (operand.dtype != dtype)
      return make_error("range operands must share one dtype, got {} and {}", ctx.operand(0).str(), operand.str());
  }
  if (dtype == DType::Bool) return make_error("range needs a numeric dtype, got {}", ctx.operand(0).str());
  return Status::success();
}

// Exact integer value of a scalar of any integer dtype (u64 does not fit int64).
__int128 scalar_int(const Tensor& scalar) {
  return visit_dtype(scalar.dtype(), [&](auto tag) -> __int128 {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) return static_cast<__int128>(scalar.data<T>()[0]);
    return 0;
  });
}

// max(ceil((limit - start) / delta), 0) for integers, exactly.
Expected<int64_t> integer_range_count(__int128 start, __int128 limit, __int128 delta) {
  if (delta == 0) return make_error("range delta is 0");
  __int128 diff = limit - start;
  __int128 count = diff / delta;
  if (diff % delta != 0 && ((diff > 0) == (delta > 0))) ++count;
  if (count < 0) count = 0;
  if (count > std::numeric_limits<int64_t>::max()) return make_error("range has more than 2^63 elements");
  return static_cast<int64_t>(count);
}

Expected<int64_t> float_range_count(double start, double limit, double delta) {
  if (delta == 0) return make_error("range delta is 0");
  if (!std::isfinite(start) || !std::isfinite(limit) || !std::isfinite(delta))
    return make_error("range needs finite start, limit and delta, got {}, {}, {}", start, limit, delta);
  double count = std::max(std::ceil((limit - start) / delta), 0.0);
  if (count > 9.0e18) return make_error("range({}, {}, {}) has {} elements", start, limit, delta, count);
  return static_cast<int64_t>(count);
}

// ONNX Shape-15: negative bounds count from the end, then both clamp to [0, rank].
std::pair<int64_t, int64_t> shape_of_bounds(int64_t start, int64_t end, int64_t rank) {
  auto clamp = [&](int64_t bound) {
    if (bound < 0) bound = bound < -rank ? 0 : bound + rank;
    return std::min(bound, rank);
  };
  int64_t first = clamp(start), last = clamp(end);
  return {first, std::max(first, last)};
}

}  // namespace

void strided_copy(const Tensor& src, const StridedView& from, Tensor& dst, const StridedView& to,
                  const std::vector<int64_t>& shape) {
  auto copy = [&](auto tag) {
    using T = decltype(tag);
    copy_elements(static_cast<const T*>(src.raw_data()), static_cast<T*>(dst.raw_data()), from, to, shape);
  };
  switch (dtype_size(src.dtype())) {
    case 1: return copy(uint8_t{});
    case 2: return copy(uint16_t{});
    case 4: return copy(uint32_t{});
    default: return copy(uint64_t{});
  }
}

Expected<std::vector<int64_t>> known_result_shape(const EvalContext& ctx, size_t index, std::string_view op) {
  if (index < ctx.result_shapes.size() && ctx.result_shapes[index]) return *ctx.result_shapes[index];
  return make_error("{}: result {} has symbols that the input shapes do not bind, so its shape is unknown", op, index);
}

Expected<std::vector<std::vector<int64_t>>> concrete_shapes(const EvalContext& ctx,
                                                            Types (*rule)(const ShapeContext&)) {
  std::vector<TensorType> types;
  for (const Tensor* input : ctx.inputs) types.push_back({input->dtype(), to_shape(input->shape())});
  ShapeContext shape_ctx{ctx.kind, {}, ctx.attrs, static_cast<int>(ctx.result_dtypes.size()), ctx.module};
  for (const TensorType& type : types) shape_ctx.operands.push_back(&type);
  TESSEL_ASSIGN(std::vector<TensorType> results, rule(shape_ctx));
  std::vector<std::vector<int64_t>> shapes;
  for (const TensorType& result : results) {
    auto dims = static_shape(result.shape);
    if (!dims) return make_error("result shape {} is not constant for constant input shapes", shape_str(result.shape));
    shapes.push_back(std::move(*dims));
  }
  return shapes;
}

Expected<std::vector<int64_t>> concrete_shape(const EvalContext& ctx, Types (*rule)(const ShapeContext&)) {
  TESSEL_ASSIGN(auto shapes, concrete_shapes(ctx, rule));
  return shapes.at(0);
}

int64_t read_index(const Tensor& indices, int64_t flat) {
  if (indices.dtype() == DType::I32) return indices.data<int32_t>()[flat];
  return indices.data<int64_t>()[flat];
}

Status check_index_type(const TensorType& type, std::string_view op) {
  if (type.dtype == DType::I32 || type.dtype == DType::I64) return Status::success();
  return make_error("{} indices must be i32 or i64, got {}", op, type.str());
}

std::string list_str(const std::vector<int64_t>& values) { return fmt::format("[{}]", fmt::join(values, ", ")); }

// ---- range ---------------------------------------------------------------------------------------

Types infer_range(const ShapeContext& ctx) {
  TESSEL_TRY(check_range_operands(ctx));
  const Shape& size = ctx.attrs.dims("size");
  if (size.size() != 1) return make_error("range needs exactly one dim in 'size', got {}", shape_str(size));
  if (auto value = size[0].as_const(); value && *value < 0) return make_error("range size {} is negative", *value);
  return std::vector<TensorType>{{ctx.operand(0).dtype, size}};
}

Tensors eval_range(const EvalContext& ctx) {
  const Tensor &start = ctx.input(0), &limit = ctx.input(1), &delta = ctx.input(2);
  DType dtype = start.dtype();
  const bool floating = is_float(dtype);
  auto count = floating ? float_range_count(start.get_double(0), limit.get_double(0), delta.get_double(0))
                        : integer_range_count(scalar_int(start), scalar_int(limit), scalar_int(delta));
  if (!count) return count.error();
  if (ctx.result_shapes[0] && ctx.result_shapes[0]->at(0) != *count)
    return make_error("range from {} to {} by {} has {} elements, but its result type says {}", start.get_double(0),
                      limit.get_double(0), delta.get_double(0), *count, ctx.result_shapes[0]->at(0));
  if (static_cast<double>(*count) * static_cast<double>(dtype_size(dtype)) > kMaxRangeBytes)
    return make_error("range would produce {} elements, over the interpreter's 16 GiB tensor limit", *count);
  Tensor out(dtype, {*count});
  if (floating) {
    // start + i * delta (as the ONNX spec writes it), in double, rounded once to the dtype.
    double first = start.get_double(0), step = delta.get_double(0);
    for (int64_t i = 0; i < *count; ++i) out.set_double(i, first + static_cast<double>(i) * step);
    return std::vector<Tensor>{out};
  }
  // Integers wrap: compute modulo 2^64, then keep the dtype's low bits.
  uint64_t first = static_cast<uint64_t>(scalar_int(start)), step = static_cast<uint64_t>(scalar_int(delta));
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* data = out.data<T>();
    for (int64_t i = 0; i < *count; ++i) data[i] = static_cast<T>(first + static_cast<uint64_t>(i) * step);
  });
  return std::vector<Tensor>{out};
}

// ---- shape_of ------------------------------------------------------------------------------------

Types infer_shape_of(const ShapeContext& ctx) {
  auto [first, last] = shape_of_bounds(ctx.attrs.i("start"), ctx.attrs.i("end"), ctx.operand(0).rank());
  return std::vector<TensorType>{{DType::I64, {Dim(last - first)}}};
}

Tensors eval_shape_of(const EvalContext& ctx) {
  const Tensor& input = ctx.input(0);
  auto [first, last] = shape_of_bounds(ctx.attrs.i("start"), ctx.attrs.i("end"), input.rank());
  Tensor out(DType::I64, {last - first});
  for (int64_t axis = first; axis < last; ++axis) out.data<int64_t>()[axis - first] = input.dim(axis);
  return std::vector<Tensor>{out};
}

}  // namespace shape

Expected<std::vector<TensorType>> infer_shape(const ShapeContext& ctx) {
  using namespace shape;
  for (size_t i = 0; i < ctx.operands.size(); ++i)
    if (!ctx.operands[i]) return make_error("operand {} is absent; shape ops have no optional operands", i);
  switch (ctx.kind) {
    case OpKind::Reshape: return infer_reshape(ctx);
    case OpKind::Transpose: return infer_transpose(ctx);
    case OpKind::Concat: return infer_concat(ctx);
    case OpKind::Split: return infer_split(ctx);
    case OpKind::Slice: return infer_slice(ctx);
    case OpKind::Gather: return infer_gather(ctx);
    case OpKind::GatherElements: return infer_gather_elements(ctx);
    case OpKind::ScatterElements: return infer_scatter_elements(ctx);
    case OpKind::Expand: return infer_expand(ctx);
    case OpKind::Pad: return infer_pad(ctx);
    case OpKind::Squeeze: return infer_squeeze(ctx);
    case OpKind::Unsqueeze: return infer_unsqueeze(ctx);
    case OpKind::Tile: return infer_tile(ctx);
    case OpKind::Range: return infer_range(ctx);
    case OpKind::ShapeOf: return infer_shape_of(ctx);
    default: break;
  }
  return make_error("op '{}' is not in the shape family", op_info(ctx.kind).name);
}

Expected<std::vector<Tensor>> eval_shape(const EvalContext& ctx) {
  using namespace shape;
  for (size_t i = 0; i < ctx.inputs.size(); ++i)
    if (!ctx.inputs[i]) return make_error("input {} is absent; shape ops have no optional operands", i);
  switch (ctx.kind) {
    case OpKind::Reshape: return eval_reshape(ctx);
    case OpKind::Transpose: return eval_transpose(ctx);
    case OpKind::Concat: return eval_concat(ctx);
    case OpKind::Split: return eval_split(ctx);
    case OpKind::Slice: return eval_slice(ctx);
    case OpKind::Gather: return eval_gather(ctx);
    case OpKind::GatherElements: return eval_gather_elements(ctx);
    case OpKind::ScatterElements: return eval_scatter_elements(ctx);
    case OpKind::Expand: return eval_expand(ctx);
    case OpKind::Pad: return eval_pad(ctx);
    case OpKind::Squeeze: return eval_squeeze(ctx);
    case OpKind::Unsqueeze: return eval_unsqueeze(ctx);
    case OpKind::Tile: return eval_tile(ctx);
    case OpKind::Range: return eval_range(ctx);
    case OpKind::ShapeOf: return eval_shape_of(ctx);
    default: break;
  }
  return make_error("op '{}' is not in the shape family", op_info(ctx.kind).name);
}

}  // namespace tessel::ops
