// Index-driven ops of the shape family: gather and gather_elements as a
// linalg.generic over the result whose body computes the source coordinates
// (negative indices count from the end) and reads them with tensor.extract;
// pad as tensor.pad (constant mode) or the same gather form (edge, reflect,
// wrap), after cropping negative pads with tensor.extract_slice; range from
// linalg.index; shape_of from tensor.dim. Difference from the interpreter: an
// out-of-range index is an error there but undefined behaviour here.
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "codegen/mlir/MlirEmitter.h"

namespace tessel::mlir {
namespace {

std::string linalg_index(Block& b, int64_t loop) { return b.def(fmt::format("linalg.index {} : index", loop)); }

/// An i32/i64 index element as `index`, plus `dim` when negative.
std::string wrapped_index(Block& b, Scalar index, const std::string& dim) {
  std::string value = b.def(fmt::format("arith.index_cast {} : {} to index", index.v, elem_type(index.t)));
  std::string zero = b.def("arith.constant 0 : index");
  std::string negative = b.def(fmt::format("arith.cmpi slt, {}, {} : index", value, zero));
  std::string shifted = b.def(fmt::format("arith.addi {}, {} : index", value, dim));
  return b.def(fmt::format("arith.select {}, {}, {} : index", negative, shifted, value));
}

Scalar extract(Block& b, const TValue& x, const std::vector<std::string>& at) {
  return {b.def(fmt::format("tensor.extract {}[{}] : {}", x.v, fmt::join(at, ", "), tensor_type(x.type))),
          x.type.dtype};
}

/// A generic over `result` (no inputs but `inputs`) whose body computes the element from the loop indices.
Expected<TValue> gather_generic(FunctionEmitter& e, const TensorType& result, std::vector<Operand> inputs,
                                const std::function<Scalar(Block&, const std::vector<Scalar>&)>& fn) {
  TESSEL_ASSIGN(TValue init, e.empty(result));
  GenericSpec spec;
  spec.loops = static_cast<int>(result.rank());
  spec.inputs = std::move(inputs);
  spec.outputs = {{init, identity_map(result.rank())}};
  spec.body = [&](Block& b, const std::vector<Scalar>& args) -> Expected<std::vector<Scalar>> {
    return std::vector<Scalar>{fn(b, args)};
  };
  TESSEL_ASSIGN(std::vector<TValue> values, e.generic(spec));
  return values[0];
}

Status emit_gather(FunctionEmitter& e, const Op& op) {
  const TValue &data = e.value(op.operand(0)), &indices = e.value(op.operand(1));
  int64_t axis = op.attr().i("axis");
  if (axis < 0) axis += data.type.rank();
  int64_t q = indices.type.rank();
  TESSEL_ASSIGN(std::string dim, e.dim(data.type.shape[static_cast<size_t>(axis)]));
  std::vector<std::string> map;
  for (int64_t j = 0; j < q; ++j) map.push_back(fmt::format("d{}", axis + j));
  TESSEL_ASSIGN(TValue y, gather_generic(e, op.result()->type(), {{indices, map}},
                                         [&](Block& b, const std::vector<Scalar>& args) {
                                           std::vector<std::string> at;
                                           for (int64_t j = 0; j < data.type.rank(); ++j) {
                                             if (j == axis)
                                               at.push_back(wrapped_index(b, args[0], dim));
                                             else
                                               at.push_back(linalg_index(b, j < axis ? j : j - 1 + q));
                                           }
                                           return extract(b, data, at);
                                         }));
  e.bind(op.result(), y);
  return Status::success();
}

Status emit_gather_elements(FunctionEmitter& e, const Op& op) {
  const TValue &data = e.value(op.operand(0)), &indices = e.value(op.operand(1));
  int64_t axis = op.attr().i("axis");
  if (axis < 0) axis += data.type.rank();
  TESSEL_ASSIGN(std::string dim, e.dim(data.type.shape[static_cast<size_t>(axis)]));
  TESSEL_ASSIGN(TValue y,
                gather_generic(e, op.result()->type(), {{indices, identity_map(indices.type.rank())}},
                               [&](Block& b, const std::vector<Scalar>& args) {
                                 std::vector<std::string> at;
                                 for (int64_t j = 0; j < data.type.rank(); ++j)
                                   at.push_back(j == axis ? wrapped_index(b, args[0], dim) : linalg_index(b, j));
                                 return extract(b, data, at);
                               }));
  e.bind(op.result(), y);
  return Status::success();
}

/// floor(a mod b) for index values, b > 0.
std::string floor_mod(Block& b, const std::string& a, const std::string& m) {
  std::string r = b.def(fmt::format("arith.remsi {}, {} : index", a, m));
  std::string zero = b.def("arith.constant 0 : index");
  std::string negative = b.def(fmt::format("arith.cmpi slt, {}, {} : index", r, zero));
  std::string fixed = b.def(fmt::format("arith.addi {}, {} : index", r, m));
  return b.def(fmt::format("arith.select {}, {}, {} : index", negative, fixed, r));
}

/// The source position along one axis for pad modes edge / wrap / reflect (ir/ops/ShapeSlicePad.cpp).
std::string pad_source(Block& b, const std::string& mode, const std::string& i, const std::string& kept) {
  std::string zero = b.def("arith.constant 0 : index"), one = b.def("arith.constant 1 : index");
  std::string last = b.def(fmt::format("arith.subi {}, {} : index", kept, one));
  if (mode == "edge") {
    std::string low = b.def(fmt::format("arith.maxsi {}, {} : index", i, zero));
    return b.def(fmt::format("arith.minsi {}, {} : index", low, last));
  }
  if (mode == "wrap") return floor_mod(b, i, kept);
  // Reflection without repeating the edge has period 2 * (kept - 1); a one-element axis always reads 0.
  std::string two = b.def("arith.constant 2 : index");
  std::string period = b.def(fmt::format("arith.muli {}, {} : index", last, two));
  std::string flat = b.def(fmt::format("arith.cmpi eq, {}, {} : index", period, zero));
  std::string safe = b.def(fmt::format("arith.select {}, {}, {} : index", flat, one, period));
  std::string m = floor_mod(b, i, safe);
  m = b.def(fmt::format("arith.select {}, {}, {} : index", flat, zero, m));
  std::string inside = b.def(fmt::format("arith.cmpi slt, {}, {} : index", m, kept));
  std::string mirrored = b.def(fmt::format("arith.subi {}, {} : index", period, m));
  return b.def(fmt::format("arith.select {}, {}, {} : index", inside, m, mirrored));
}

Status emit_pad(FunctionEmitter& e, const Op& op) {
  TValue x = e.value(op.operand(0));
  AttrReader attrs = op.attr();
  const std::vector<int64_t>& pads = attrs.ints("pads");
  const std::string& mode = attrs.s("mode");
  size_t rank = static_cast<size_t>(x.type.rank());
  // Negative pads crop first.
  Shape crop_offsets, kept_shape, low, high;
  bool crops = false;
  for (size_t axis = 0; axis < rank; ++axis) {
    int64_t begin = pads[axis], end = pads[axis + rank];
    crops |= begin < 0 || end < 0;
    crop_offsets.push_back(Dim(std::max<int64_t>(0, -begin)));
    kept_shape.push_back(x.type.shape[axis] - std::max<int64_t>(0, -begin) - std::max<int64_t>(0, -end));
    low.push_back(Dim(std::max<int64_t>(0, begin)));
    high.push_back(Dim(std::max<int64_t>(0, end)));
  }
  if (crops) {
    TensorType kept{x.type.dtype, kept_shape};
    TESSEL_ASSIGN(std::string offsets, e.mixed_list(crop_offsets));
    TESSEL_ASSIGN(std::string sizes, e.mixed_list(kept_shape));
    std::string text = fmt::format("tensor.extract_slice {}{}{}[{}] : {} to {}", x.v, offsets, sizes,
                                   fmt::join(std::vector<int>(rank, 1), ", "), tensor_type(x.type), tensor_type(kept));
    x = {e.block().def(text), kept};
  }
  const TensorType& result = op.result()->type();
  if (mode == "constant") {
    // The fill value converts as Tensor::from_doubles does (saturating for integers, != 0 for bool).
    TESSEL_ASSIGN(TValue y, e.pad(x, low, high, constant(e.block(), x.type.dtype, attrs.f("value"))));
    e.bind(op.result(), y);
    return Status::success();
  }
  std::vector<std::string> kept_dims, leads;
  for (size_t axis = 0; axis < rank; ++axis) {
    TESSEL_ASSIGN(std::string kept, e.dim(x.type.shape[axis]));
    kept_dims.push_back(kept);
    leads.push_back(e.index(*low[axis].as_const()));
  }
  TESSEL_ASSIGN(TValue y, gather_generic(e, result, {}, [&](Block& b, const std::vector<Scalar>&) {
                  std::vector<std::string> at;
                  for (size_t axis = 0; axis < rank; ++axis) {
                    std::string o = linalg_index(b, static_cast<int64_t>(axis));
                    if (low[axis] == Dim(0) && high[axis] == Dim(0)) {
                      at.push_back(o);
                      continue;
                    }
                    std::string i = b.def(fmt::format("arith.subi {}, {} : index", o, leads[axis]));
                    at.push_back(pad_source(b, mode, i, kept_dims[axis]));
                  }
                  return extract(b, x, at);
                }));
  e.bind(op.result(), y);
  return Status::success();
}

Status emit_range(FunctionEmitter& e, const Op& op) {
  const TensorType& result = op.result()->type();
  DType dtype = result.dtype;
  Block& top = e.block();
  auto scalar = [&](size_t i) {
    const TValue& t = e.value(op.operand(i));
    return Scalar{top.def(fmt::format("tensor.extract {}[] : {}", t.v, tensor_type(t.type))), dtype};
  };
  Scalar start = scalar(0), delta = scalar(2);
  TESSEL_ASSIGN(TValue y, gather_generic(e, result, {}, [&](Block& b, const std::vector<Scalar>&) {
                  std::string i = linalg_index(b, 0);
                  Scalar position{b.def(fmt::format("arith.index_cast {} : index to i64", i)), DType::I64};
                  if (!is_float(dtype)) {
                    // Integers wrap: start + i * delta modulo 2^bits.
                    return add(b, start, mul(b, convert(b, position, dtype), delta));
                  }
                  // start + i * delta in f64, rounded once to the dtype (f16/bf16 through f32).
                  Scalar value = add(b, convert(b, start, DType::F64),
                                     mul(b, convert(b, position, DType::F64), convert(b, delta, DType::F64)));
                  return narrow_acc(b, value, dtype);
                }));
  e.bind(op.result(), y);
  return Status::success();
}

Status emit_shape_of(FunctionEmitter& e, const Op& op) {
  const TValue& x = e.value(op.operand(0));
  const TensorType& result = op.result()->type();
  int64_t rank = x.type.rank();
  auto clamp = [&](int64_t bound) {
    if (bound < 0) bound = bound < -rank ? 0 : bound + rank;
    return std::min(bound, rank);
  };
  int64_t first = clamp(op.attr().i("start")), last = std::max(first, clamp(op.attr().i("end")));
  if (first == last) {
    e.bind(op.result(), {e.block().def("arith.constant dense<> : " + tensor_type(result)), result});
    return Status::success();
  }
  std::vector<std::string> dims;
  for (int64_t axis = first; axis < last; ++axis) {
    const Dim& d = x.type.shape[static_cast<size_t>(axis)];
    if (auto value = d.as_const()) {
      dims.push_back(int_constant(e.block(), DType::I64, *value).v);
      continue;
    }
    TESSEL_ASSIGN(std::string index, e.dim(d));
    dims.push_back(e.block().def(fmt::format("arith.index_cast {} : index to i64", index)));
  }
  std::string text = fmt::format("tensor.from_elements {} : {}", fmt::join(dims, ", "), tensor_type(result));
  e.bind(op.result(), {e.block().def(text), result});
  return Status::success();
}

}  // namespace

Status emit_indexing(FunctionEmitter& e, const Op& op) {
  switch (op.kind()) {
    case OpKind::Gather: return emit_gather(e, op);
    case OpKind::GatherElements: return emit_gather_elements(e, op);
    case OpKind::Pad: return emit_pad(e, op);
    case OpKind::Range: return emit_range(e, op);
    case OpKind::ShapeOf: return emit_shape_of(e, op);
    default: return make_error("MLIR export does not support {}; decompose it first", e.describe(op));
  }
}

}  // namespace tessel::mlir
