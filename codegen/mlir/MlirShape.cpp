// Layout ops of the shape family: reshape, squeeze and unsqueeze as
// tensor.collapse_shape / expand_shape (tensor.reshape when the dims do not
// group), transpose as linalg.transpose, concat as tensor.insert_slice, split and
// positive-step slice as tensor.extract_slice, expand as a broadcasting
// linalg.generic copy, tile as a broadcast into [r0, D0, r1, D1, ...] then a
// collapse. Negative-step slices read through tensor.extract in a generic.
// Slice bounds follow ir/ops/ShapeSlicePad.cpp exactly (ONNX clamping on
// constant dims; on symbolic dims the bounds are assumed to lie inside).
#include <algorithm>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "codegen/mlir/MlirEmitter.h"

namespace tessel::mlir {
namespace {

Status emit_transpose(FunctionEmitter& e, const Op& op) {
  const TValue& x = e.value(op.operand(0));
  std::vector<int64_t> perm = op.attr().ints("perm");
  if (perm.empty())
    for (int64_t axis = x.type.rank() - 1; axis >= 0; --axis) perm.push_back(axis);
  for (int64_t& axis : perm)
    if (axis < 0) axis += x.type.rank();
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) identity &= perm[i] == static_cast<int64_t>(i);
  if (identity) {
    e.bind(op.result(), x);
    return Status::success();
  }
  TESSEL_ASSIGN(TValue init, e.empty(op.result()->type()));
  std::string text = fmt::format("linalg.transpose ins({} : {}) outs({} : {}) permutation = [{}]", x.v,
                                 tensor_type(x.type), init.v, tensor_type(init.type), fmt::join(perm, ", "));
  e.bind(op.result(), {e.block().def(text), init.type});
  return Status::success();
}

/// concat as tensor.insert_slice of each operand into an empty result: unlike tensor.concat (MLIR 19),
/// this bufferizes without a decomposition pass.
Status emit_concat(FunctionEmitter& e, const Op& op) {
  const TensorType& result = op.result()->type();
  if (op.num_operands() == 1) {
    e.bind(op.result(), e.value(op.operand(0)));
    return Status::success();
  }
  int64_t axis = op.attr().i("axis");
  if (axis < 0) axis += result.rank();
  TESSEL_ASSIGN(TValue current, e.empty(result));
  Dim offset(0);
  for (const Value* operand : op.operands()) {
    const TValue& piece = e.value(operand);
    Shape offsets(static_cast<size_t>(result.rank()), Dim(0));
    offsets[static_cast<size_t>(axis)] = offset;
    TESSEL_ASSIGN(std::string offset_list, e.mixed_list(offsets));
    TESSEL_ASSIGN(std::string size_list, e.mixed_list(piece.type.shape));
    std::string text =
        fmt::format("tensor.insert_slice {} into {}{}{}[{}] : {} into {}", piece.v, current.v, offset_list, size_list,
                    fmt::join(std::vector<int>(offsets.size(), 1), ", "), tensor_type(piece.type), tensor_type(result));
    current = {e.block().def(text), result};
    offset = offset + piece.type.shape[static_cast<size_t>(axis)];
  }
  e.bind(op.result(), current);
  return Status::success();
}

Expected<TValue> extract_slice(FunctionEmitter& e, const TValue& x, const Shape& offsets, const TensorType& result,
                               const std::vector<int64_t>& strides) {
  TESSEL_ASSIGN(std::string offset_list, e.mixed_list(offsets));
  TESSEL_ASSIGN(std::string size_list, e.mixed_list(result.shape));
  std::string text = fmt::format("tensor.extract_slice {}{}{}[{}] : {} to {}", x.v, offset_list, size_list,
                                 fmt::join(strides, ", "), tensor_type(x.type), tensor_type(result));
  return TValue{e.block().def(text), result};
}

Status emit_split(FunctionEmitter& e, const Op& op) {
  const TValue& x = e.value(op.operand(0));
  int64_t axis = op.attr().i("axis");
  if (axis < 0) axis += x.type.rank();
  Dim offset(0);
  for (size_t i = 0; i < op.num_results(); ++i) {
    const TensorType& type = op.result(i)->type();
    Shape offsets(static_cast<size_t>(x.type.rank()), Dim(0));
    offsets[static_cast<size_t>(axis)] = offset;
    TESSEL_ASSIGN(TValue piece, extract_slice(e, x, offsets, type, std::vector<int64_t>(offsets.size(), 1)));
    e.bind(op.result(i), piece);
    offset = offset + type.shape[static_cast<size_t>(axis)];
  }
  return Status::success();
}

// Index values at least this large in magnitude mean "past the end" on a symbolic axis (as the interpreter).
constexpr int64_t kBeyondEnd = std::numeric_limits<int32_t>::max();

/// The first index a slice reads on an axis of size `dim` (ONNX Slice rules).
Dim slice_start(int64_t start, int64_t step, const Dim& dim) {
  bool forward = step > 0;
  if (auto d = dim.as_const()) {
    if (*d == 0) return Dim(0);
    int64_t s = start < 0 ? start + *d : start;
    return Dim(forward ? std::clamp<int64_t>(s, 0, *d) : std::clamp<int64_t>(s, 0, *d - 1));
  }
  // A symbolic axis: the start counts from the beginning or, if negative or "past the end", from the end.
  if (start >= kBeyondEnd) return forward ? dim : dim - 1;
  if (start <= -kBeyondEnd) return Dim(0);
  if (start < 0) return dim + start;
  return Dim(start);
}

Status emit_slice(FunctionEmitter& e, const Op& op) {
  const TValue& x = e.value(op.operand(0));
  const TensorType& result = op.result()->type();
  AttrReader attrs = op.attr();
  const std::vector<int64_t>& starts = attrs.ints("starts");
  std::vector<int64_t> axes = attrs.ints("axes"), steps = attrs.ints("steps");
  size_t rank = static_cast<size_t>(x.type.rank());
  Shape offsets(rank, Dim(0));
  std::vector<int64_t> strides(rank, 1);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t axis = axes.empty() ? static_cast<int64_t>(i) : axes[i];
    if (axis < 0) axis += x.type.rank();
    int64_t step = steps.empty() ? 1 : steps[i];
    offsets[static_cast<size_t>(axis)] = slice_start(starts[i], step, x.type.shape[static_cast<size_t>(axis)]);
    // A single element (or none) needs no stride; a huge one would not fit the index type's arithmetic.
    strides[static_cast<size_t>(axis)] = result.shape[static_cast<size_t>(axis)].as_const().value_or(2) > 1 ? step : 1;
  }
  bool backward = std::any_of(strides.begin(), strides.end(), [](int64_t s) { return s < 0; });
  if (!backward) {
    TESSEL_ASSIGN(TValue y, extract_slice(e, x, offsets, result, strides));
    e.bind(op.result(), y);
    return Status::success();
  }
  // Negative steps: y[i] = x[start + i * step] per axis, read with tensor.extract.
  std::vector<std::string> starts_index;
  for (const Dim& offset : offsets) {
    TESSEL_ASSIGN(std::string value, e.dim(offset));
    starts_index.push_back(value);
  }
  std::vector<std::string> step_index;
  for (int64_t stride : strides) step_index.push_back(e.index(stride));
  TESSEL_ASSIGN(TValue init, e.empty(result));
  GenericSpec spec;
  spec.loops = static_cast<int>(result.rank());
  spec.outputs = {{init, identity_map(result.rank())}};
  spec.body = [&](Block& b, const std::vector<Scalar>&) -> Expected<std::vector<Scalar>> {
    std::vector<std::string> at;
    for (size_t axis = 0; axis < rank; ++axis) {
      std::string i = b.def(fmt::format("linalg.index {} : index", axis));
      std::string scaled = b.def(fmt::format("arith.muli {}, {} : index", i, step_index[axis]));
      at.push_back(b.def(fmt::format("arith.addi {}, {} : index", starts_index[axis], scaled)));
    }
    return std::vector<Scalar>{
        {b.def(fmt::format("tensor.extract {}[{}] : {}", x.v, fmt::join(at, ", "), tensor_type(x.type))),
         x.type.dtype}};
  };
  TESSEL_ASSIGN(std::vector<TValue> values, e.generic(spec));
  e.bind(op.result(), values[0]);
  return Status::success();
}

Status emit_tile(FunctionEmitter& e, const Op& op) {
  const TValue& x = e.value(op.operand(0));
  const std::vector<int64_t>& repeats = op.attr().ints("repeats");
  if (x.type.rank() == 0) {
    e.bind(op.result(), x);
    return Status::success();
  }
  // Broadcast x[D0, D1, ...] to [r0, D0, r1, D1, ...], then merge each (r, D) pair.
  Shape spread;
  std::vector<std::string> map, groups;
  for (int64_t axis = 0; axis < x.type.rank(); ++axis) {
    spread.push_back(Dim(repeats[static_cast<size_t>(axis)]));
    spread.push_back(x.type.shape[static_cast<size_t>(axis)]);
    map.push_back(fmt::format("d{}", 2 * axis + 1));
    groups.push_back(fmt::format("[{}, {}]", 2 * axis, 2 * axis + 1));
  }
  TESSEL_ASSIGN(TValue init, e.empty({x.type.dtype, spread}));
  GenericSpec spec;
  spec.loops = static_cast<int>(spread.size());
  spec.inputs = {{x, map}};
  spec.outputs = {{init, identity_map(static_cast<int64_t>(spread.size()))}};
  spec.body = [](Block&, const std::vector<Scalar>& args) -> Expected<std::vector<Scalar>> {
    return std::vector<Scalar>{args[0]};
  };
  TESSEL_ASSIGN(std::vector<TValue> values, e.generic(spec));
  const TensorType& result = op.result()->type();
  std::string text = fmt::format("tensor.collapse_shape {} [{}] : {} into {}", values[0].v, fmt::join(groups, ", "),
                                 tensor_type(values[0].type), tensor_type(result));
  e.bind(op.result(), {e.block().def(text), result});
  return Status::success();
}

}  // namespace

Status emit_shape(FunctionEmitter& e, const Op& op) {
  switch (op.kind()) {
    case OpKind::Reshape:
    case OpKind::Squeeze:
    case OpKind::Unsqueeze: {
      TESSEL_ASSIGN(TValue y, e.reshape(e.value(op.operand(0)), op.result()->type().shape));
      e.bind(op.result(), y);
      return Status::success();
    }
    case OpKind::Expand: {
      TESSEL_ASSIGN(TValue y, e.elementwise({e.value(op.operand(0))}, op.result()->type(),
                                            [](Block&, const std::vector<Scalar>& args) { return args[0]; }));
      e.bind(op.result(), y);
      return Status::success();
    }
    case OpKind::Transpose: return emit_transpose(e, op);
    case OpKind::Concat: return emit_concat(e, op);
    case OpKind::Split: return emit_split(e, op);
    case OpKind::Slice: return emit_slice(e, op);
    case OpKind::Tile: return emit_tile(e, op);
    default: return make_error("MLIR export does not support {}; decompose it first", e.describe(op));
  }
}

}  // namespace tessel::mlir
