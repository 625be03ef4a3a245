// Shape ops that rearrange or repeat whole elements: reshape, transpose,
// squeeze, unsqueeze, expand, tile, concat and split. Shape rules compute
// result dims with Dim arithmetic so symbolic shapes flow through; kernels
// reuse the rules on concrete shapes and move elements with strided copies.
#include <limits>

#include "ir/ops/OpUtil.h"
#include "ir/ops/ShapeOps.h"

namespace tessel::ops::shape {
namespace {

Expected<std::vector<int64_t>> permutation(const std::vector<int64_t>& perm, int64_t rank) {
  std::vector<int64_t> result;
  if (perm.empty()) {
    for (int64_t axis = rank - 1; axis >= 0; --axis) result.push_back(axis);
    return result;
  }
  if (static_cast<int64_t>(perm.size()) != rank)
    return make_error("transpose perm {} has {} entries for a rank-{} operand", list_str(perm), perm.size(), rank);
  std::vector<bool> seen(rank, false);
  for (int64_t entry : perm) {
    int64_t axis = entry < 0 ? entry + rank : entry;
    if (axis < 0 || axis >= rank || seen[axis])
      return make_error("transpose perm {} is not a permutation of the axes 0..{}", list_str(perm), rank - 1);
    seen[axis] = true;
    result.push_back(axis);
  }
  return result;
}

Expected<std::vector<int64_t>> squeeze_axes(const std::vector<int64_t>& axes, int64_t rank) {
  if (axes.empty()) return make_error("squeeze needs explicit axes (the importer fills in the unit axes)");
  auto normalized = normalize_axes(axes, rank);
  if (!normalized) return make_error("squeeze axes {}: {}", list_str(axes), normalized.error().message);
  return normalized;
}

Status check_non_negative(const Shape& dims, std::string_view what) {
  for (const Dim& dim : dims)
    if (auto value = dim.as_const(); value && *value < 0)
      return make_error("{} {} has a negative dim", what, shape_str(dims));
  return Status::success();
}

}  // namespace

// ---- reshape -------------------------------------------------------------------------------------

Types infer_reshape(const ShapeContext& ctx) {
  const TensorType& input = ctx.operand(0);
  const Shape& shape = ctx.attrs.dims("shape");
  TESSEL_TRY(check_non_negative(shape, "reshape target"));
  // Symbolic counts must be equal as canonical dims: an equality that needs an assumption is rejected.
  Dim from = shape_numel(input.shape), to = shape_numel(shape);
  if (from != to)
    return make_error("reshape of {} to {} changes the element count ({} vs {})", input.str(), shape_str(shape),
                      from.str(), to.str());
  return std::vector<TensorType>{{input.dtype, shape}};
}

Tensors eval_reshape(const EvalContext& ctx) {
  const Tensor& input = ctx.input(0);
  TESSEL_ASSIGN(std::vector<int64_t> shape, known_result_shape(ctx, 0, "reshape"));
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  if (count != input.numel())
    return make_error("reshape of {} to {} changes the element count ({} vs {})", input.type_str(), list_str(shape),
                      input.numel(), count);
  return std::vector<Tensor>{input.reshaped(shape)};  // shares the buffer: tensors are immutable
}

// ---- transpose -----------------------------------------------------------------------------------

Types infer_transpose(const ShapeContext& ctx) {
  const TensorType& input = ctx.operand(0);
  TESSEL_ASSIGN(std::vector<int64_t> perm, permutation(ctx.attrs.ints("perm"), input.rank()));
  Shape shape;
  for (int64_t axis : perm) shape.push_back(input.shape[axis]);
  return std::vector<TensorType>{{input.dtype, shape}};
}

Tensors eval_transpose(const EvalContext& ctx) {
  const Tensor& input = ctx.input(0);
  TESSEL_ASSIGN(std::vector<int64_t> perm, permutation(ctx.attrs.ints("perm"), input.rank()));
  std::vector<int64_t> shape, in_strides = input.strides();
  StridedView from;
  for (int64_t axis : perm) {
    shape.push_back(input.dim(axis));
    from.strides.push_back(in_strides[axis]);
  }
  Tensor out(input.dtype(), shape);
  strided_copy(input, from, out, StridedView{0, out.strides()}, shape);
  return std::vector<Tensor>{out};
}

// ---- squeeze / unsqueeze -------------------------------------------------------------------------

Types infer_squeeze(const ShapeContext& ctx) {
  const TensorType& input = ctx.operand(0);
  TESSEL_ASSIGN(std::vector<int64_t> axes, squeeze_axes(ctx.attrs.ints("axes"), input.rank()));
  std::vector<bool> removed(input.rank(), false);
  for (int64_t axis : axes) {
    if (input.shape[axis] != Dim(1))
      return make_error("squeeze axis {} of {} has dim {}, not 1", axis, input.str(), input.shape[axis].str());
    removed[axis] = true;
  }
  Shape shape;
  for (int64_t axis = 0; axis < input.rank(); ++axis)
    if (!removed[axis]) shape.push_back(input.shape[axis]);
  return std::vector<TensorType>{{input.dtype, shape}};
}

Tensors eval_squeeze(const EvalContext& ctx) {
  TESSEL_ASSIGN(std::vector<int64_t> shape, concrete_shape(ctx, infer_squeeze));
  return std::vector<Tensor>{ctx.input(0).reshaped(shape)};
}

// ONNX Unsqueeze-13: axes index the result, whose rank is the operand's plus the number of axes.
Types infer_unsqueeze(const ShapeContext& ctx) {
  const TensorType& input = ctx.operand(0);
  const std::vector<int64_t>& axes = ctx.attrs.ints("axes");
  int64_t rank = input.rank() + static_cast<int64_t>(axes.size());
  auto normalized = normalize_axes(axes, rank);
  if (!normalized)
    return make_error("unsqueeze axes {} for a rank-{} result: {}", list_str(axes), rank, normalized.error().message);
  std::vector<bool> inserted(rank, false);
  for (int64_t axis : *normalized) inserted[axis] = true;
  Shape shape;
  size_t next = 0;
  for (int64_t axis = 0; axis < rank; ++axis) shape.push_back(inserted[axis] ? Dim(1) : input.shape[next++]);
  return std::vector<TensorType>{{input.dtype, shape}};
}

Tensors eval_unsqueeze(const EvalContext& ctx) {
  TESSEL_ASSIGN(std::vector<int64_t> shape, concrete_shape(ctx, infer_unsqueeze));
  return std::vector<Tensor>{ctx.input(0).reshaped(shape)};
}

// ---- expand --------------------------------------------------------------------------------------

// ONNX Expand: numpy broadcasting in both directions, so a 1 in `shape` keeps the operand's dim.
Types infer_expand(const ShapeContext& ctx) {
  const TensorType& input = ctx.operand(0);
  const Shape& shape = ctx.attrs.dims("shape");
  TESSEL_TRY(check_non_negative(shape, "expand shape"));
  auto result = broadcast_shapes(input.shape, shape);
  if (!result) return make_error("expand of {} to {}: {}", input.str(), shape_str(shape), result.error().message);
  return std::vector<TensorType>{{input.dtype, *result}};
}

Tensors eval_expand(const EvalContext& ctx) {
  const Tensor& input = ctx.input(0);
  TESSEL_ASSIGN(std::vector<int64_t> shape, known_result_shape(ctx, 0, "expand"));
  auto check = broadcast_shapes(input.shape(), shape);
  if (!check || *check != shape)
    return make_error("expand of {} cannot produce shape {}", input.type_str(), list_str(shape));
  Tensor out(input.dtype(), shape);
  strided_copy(input, StridedView{0, broadcast_strides(input.shape(), shape)}, out, StridedView{0, out.strides()},
               shape);
  return std::vector<Tensor>{out};
}

// ---- tile ----------------------------------------------------------------------------------------

Types infer_tile(const ShapeContext& ctx) {
  const TensorType& input = ctx.operand(0);
  const std::vector<int64_t>& repeats = ctx.attrs.ints("repeats");
  if (static_cast<int64_t>(repeats.size()) != input.rank())
    return make_error("tile needs one repeat per axis of {}, got {}", input.str(), list_str(repeats));
  Shape shape;
  for (size_t axis = 0; axis < repeats.size(); ++axis) {
    if (repeats[axis] < 0) return make_error("tile repeats {} include a negative count", list_str(repeats));
    auto dim = input.shape[axis].as_const();
    if (dim && repeats[axis] > 0 && *dim > std::numeric_limits<int64_t>::max() / repeats[axis])
      return make_error("tile of {} by {} overflows int64", input.str(), list_str(repeats));
    shape.push_back(input.shape[axis] * Dim(repeats[axis]));
  }
  return std::vector<TensorType>{{input.dtype, shape}};
}

Tensors eval_tile(const EvalContext& ctx) {
  const Tensor& input = ctx.input(0);
  TESSEL_ASSIGN(std::vector<int64_t> shape, concrete_shape(ctx, infer_tile));
  Tensor out(input.dtype(), shape);
  // Index the result as [r0, d0, r1, d1, ...]: the repeat index does not move in the input.
  const std::vector<int64_t> in_strides = input.strides(), out_strides = out.strides();
  const std::vector<int64_t>& repeats = ctx.attrs.ints("repeats");
  std::vector<int64_t> space;
  StridedView from, to;
  for (int64_t axis = 0; axis < input.rank(); ++axis) {
    space.insert(space.end(), {repeats[axis], input.dim(axis)});
    from.strides.insert(from.strides.end(), {0, in_strides[axis]});
    to.strides.insert(to.strides.end(), {input.dim(axis) * out_strides[axis], out_strides[axis]});
  }
  strided_copy(input, from, out, to, space);
  return std::vector<Tensor>{out};
}

// ---- concat / split ------------------------------------------------------------------------------

Types infer_concat(const ShapeContext& ctx) {
  const TensorType& first = ctx.operand(0);
  auto axis = normalize_axis(ctx.attrs.i("axis"), first.rank());
  if (!axis) return make_error("concat of {}: {}", first.str(), axis.error().message);
  Shape shape = first.shape;
  shape[*axis] = Dim(0);
  for (size_t i = 0; i < ctx.operands.size(); ++i) {
    const TensorType& piece = ctx.operand(i);
    if (piece.dtype != first.dtype)
      return make_error("concat operands must share one dtype: operand 0 is {}, operand {} is {}", first.str(), i,
                        piece.str());
    bool same = piece.rank() == first.rank();
    for (int64_t d = 0; same && d < first.rank(); ++d) same = d == *axis || piece.shape[d] == first.shape[d];
    if (!same)
      return make_error("concat operand {} is {}, which does not match operand 0 ({}) outside axis {}", i, piece.str(),
                        first.str(), *axis);
    shape[*axis] = shape[*axis] + piece.shape[*axis];
  }
  return std::vector<TensorType>{{first.dtype, shape}};
}

Tensors eval_concat(const EvalContext& ctx) {
  TESSEL_ASSIGN(std::vector<int64_t> shape, concrete_shape(ctx, infer_concat));
  TESSEL_ASSIGN(int64_t axis, normalize_axis(ctx.attrs.i("axis"), static_cast<int64_t>(shape.size())));
  Tensor out(ctx.input(0).dtype(), shape);
  const std::vector<int64_t> out_strides = out.strides();
  int64_t position = 0;
  for (const Tensor* piece : ctx.inputs) {
    strided_copy(*piece, StridedView{0, piece->strides()}, out, StridedView{position * out_strides[axis], out_strides},
                 piece->shape());
    position += piece->dim(axis);
  }
  return std::vector<Tensor>{out};
}

Types infer_split(const ShapeContext& ctx) {
  const TensorType& input = ctx.operand(0);
  auto axis = normalize_axis(ctx.attrs.i("axis"), input.rank());
  if (!axis) return make_error("split of {}: {}", input.str(), axis.error().message);
  const Shape& sizes = ctx.attrs.dims("sizes");
  if (static_cast<int>(sizes.size()) != ctx.num_results)
    return make_error("split has {} sizes {} but {} results", sizes.size(), shape_str(sizes), ctx.num_results);
  TESSEL_TRY(check_non_negative(sizes, "split sizes"));
  Dim total(0);
  for (const Dim& size : sizes) total = total + size;
  if (total != input.shape[*axis])
    return make_error("split sizes {} sum to {}, but axis {} of {} has dim {}", shape_str(sizes), total.str(), *axis,
                      input.str(), input.shape[*axis].str());
  std::vector<TensorType> results;
  for (const Dim& size : sizes) {
    Shape shape = input.shape;
    shape[*axis] = size;
    results.push_back({input.dtype, shape});
  }
  return results;
}

Tensors eval_split(const EvalContext& ctx) {
  const Tensor& input = ctx.input(0);
  TESSEL_ASSIGN(int64_t axis, normalize_axis(ctx.attrs.i("axis"), input.rank()));
  const Shape& sizes = ctx.attrs.dims("sizes");
  const std::vector<int64_t> in_strides = input.strides();
  std::vector<Tensor> results;
  int64_t position = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::vector<int64_t> shape = input.shape();
    if (auto size = sizes[i].as_const()) {
      shape[axis] = *size;
    } else {
      TESSEL_ASSIGN(std::vector<int64_t> known, known_result_shape(ctx, i, "split"));
      shape[axis] = known[axis];
    }
    if (position + shape[axis] > input.dim(axis))
      return make_error("split pieces overrun axis {} of {}", axis, input.type_str());
    Tensor out(input.dtype(), shape);
    strided_copy(input, StridedView{position * in_strides[axis], in_strides}, out, StridedView{0, out.strides()},
                 shape);
    position += shape[axis];
    results.push_back(out);
  }
  if (position != input.dim(axis))
    return make_error("split sizes sum to {}, but axis {} of {} has dim {}", position, axis, input.type_str(),
                      input.dim(axis));
  return results;
}

}  // namespace tessel::ops::shape
