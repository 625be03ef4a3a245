// Reductions and argmax/argmin as linalg.generic reductions whose output map
// drops the reduced axes; keepdims is a tensor.expand_shape afterwards. Steps
// that broadcast a reduction back against its input -- log-sum-exp's second
// pass, softmax and layer_norm (MlirNorm.cpp) -- use the "keepdims" form, so
// ordinary numpy maps apply. Floats accumulate in
// f64 by default; integer sums, products and l1 wrap in the dtype, integer
// means divide a 64-bit sum (0 over an empty axis).
// argmax/argmin carry (value, index) through the reduction and rely on it
// visiting the axis in order, as the loop lowerings do.
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "codegen/mlir/MlirReduce.h"

namespace tessel::mlir {

Expected<TValue> reduce_keepdims(FunctionEmitter& e, const TValue& x, const Reduction& r) {
  TESSEL_ASSIGN(TValue kept, reduce_kept(e, x, r));
  Shape keep_shape;
  for (int64_t axis = 0; axis < x.type.rank(); ++axis)
    keep_shape.push_back(r.reduced[axis] ? Dim(1) : x.type.shape[axis]);
  return e.reshape(kept, keep_shape);
}

Expected<TValue> reduce_kept(FunctionEmitter& e, const TValue& x, const Reduction& r) {
  Shape kept_shape;
  std::vector<std::string> out_map;
  GenericSpec spec;
  spec.loops = static_cast<int>(x.type.rank());
  for (int64_t axis = 0; axis < x.type.rank(); ++axis) {
    if (r.reduced[axis]) {
      spec.reductions.push_back(static_cast<int>(axis));
      continue;
    }
    kept_shape.push_back(x.type.shape[axis]);
    out_map.push_back(fmt::format("d{}", axis));
  }
  spec.inputs.push_back({x, identity_map(x.type.rank())});
  for (const TValue& extra : r.extra) spec.inputs.push_back({extra, broadcast_map(extra.type.shape, x.type.shape)});
  TESSEL_ASSIGN(TValue init, e.filled({r.init.t, kept_shape}, r.init));
  spec.outputs.push_back({init, out_map});
  size_t inputs = spec.inputs.size();
  spec.body = [&](Block& b, const std::vector<Scalar>& args) -> Expected<std::vector<Scalar>> {
    std::vector<Scalar> ins(args.begin(), args.begin() + static_cast<long>(inputs));
    return std::vector<Scalar>{r.step(b, ins, args[inputs])};
  };
  TESSEL_ASSIGN(std::vector<TValue> values, e.generic(spec));
  return values[0];
}

Expected<Scalar> count_scalar(FunctionEmitter& e, const Dim& count, DType dtype) {
  Block& top = e.block();
  if (auto value = count.as_const()) {
    if (is_float(dtype)) return constant(top, dtype, static_cast<double>(*value));
    return int_constant(top, dtype, *value);
  }
  TESSEL_ASSIGN(std::string index, e.dim(count));
  DType int_type = is_float(dtype) ? DType::I64 : dtype;
  Scalar value{top.def(fmt::format("arith.index_cast {} : index to {}", index, elem_type(int_type))), int_type};
  return is_float(dtype) ? convert(top, value, dtype) : value;
}

std::vector<bool> all_axes(int64_t rank, const std::vector<int64_t>& axes) {
  std::vector<bool> reduced(static_cast<size_t>(rank), axes.empty());
  for (int64_t axis : axes) reduced[static_cast<size_t>(axis < 0 ? axis + rank : axis)] = true;
  return reduced;
}

Dim reduced_count(const Shape& shape, const std::vector<bool>& reduced) {
  Dim count(1);
  for (size_t axis = 0; axis < shape.size(); ++axis)
    if (reduced[axis]) count = count * shape[axis];
  return count;
}

namespace {

double identity(OpKind kind) {
  double inf = std::numeric_limits<double>::infinity();
  switch (kind) {
    case OpKind::ReduceProd: return 1;
    case OpKind::ReduceMax:
    case OpKind::ReduceLogSumExp: return -inf;
    case OpKind::ReduceMin: return inf;
    default: return 0;
  }
}

/// The lowest or highest value of an integer dtype, as a bit pattern.
int64_t int_extreme(DType dtype, bool highest) {
  int bits = bit_width(dtype);
  if (is_unsigned(dtype)) return highest ? (bits == 64 ? -1 : (int64_t{1} << bits) - 1) : 0;
  int64_t top = bits == 64 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (bits - 1)) - 1;
  return highest ? top : -top - 1;
}

Scalar fold(Block& b, OpKind kind, Scalar v, Scalar acc) {
  v = convert(b, v, acc.t);
  switch (kind) {
    case OpKind::ReduceProd: return mul(b, acc, v);
    case OpKind::ReduceMax:
    case OpKind::ReduceLogSumExp: return max(b, acc, v);
    case OpKind::ReduceMin: return min(b, acc, v);
    case OpKind::ReduceL1:
      return add(b, acc, is_float(v.t) ? unary_op(b, "math.absf", v) : unary_op(b, "math.absi", v));
    case OpKind::ReduceL2: return add(b, acc, mul(b, v, v));
    default: return add(b, acc, v);
  }
}

Expected<TValue> reduce_float(FunctionEmitter& e, const Op& op, const TValue& x, const std::vector<bool>& reduced) {
  OpKind kind = op.kind();
  DType dtype = x.type.dtype, acc = float_acc_dtype(dtype, e.options());
  Reduction r{reduced, constant(e.block(), acc, identity(kind)), {}, nullptr};
  r.step = [kind](Block& b, const std::vector<Scalar>& ins, Scalar a) { return fold(b, kind, ins[0], a); };
  TESSEL_ASSIGN(TValue folded, reduce_kept(e, x, r));
  if (kind == OpKind::ReduceLogSumExp) {
    // m + log(sum(exp(x - m))) with m the maximum; an infinite or NaN m is the answer itself.
    TValue m = folded;
    Shape keep_shape;
    for (int64_t axis = 0; axis < x.type.rank(); ++axis)
      keep_shape.push_back(reduced[axis] ? Dim(1) : x.type.shape[axis]);
    TESSEL_ASSIGN(TValue m_keep, e.reshape(m, keep_shape));
    Reduction sum{reduced, constant(e.block(), acc, 0.0), {m_keep}, nullptr};
    sum.step = [](Block& b, const std::vector<Scalar>& ins, Scalar a) {
      Scalar v = convert(b, ins[0], a.t);
      return add(b, a, unary_op(b, "exp", sub(b, v, ins[1])));
    };
    TESSEL_ASSIGN(TValue s, reduce_kept(e, x, sum));
    return e.elementwise({m, s}, {dtype, m.type.shape}, [&](Block& b, const std::vector<Scalar>& args) {
      Scalar value = add(b, args[0], unary_op(b, "log", args[1]));
      return narrow_acc(b, select(b, is_finite(b, args[0]), value, args[0]), dtype);
    });
  }
  Scalar count;
  if (kind == OpKind::ReduceMean) {
    TESSEL_ASSIGN(count, count_scalar(e, reduced_count(x.type.shape, reduced), acc));
  }
  return e.elementwise({folded}, {dtype, folded.type.shape}, [&](Block& b, const std::vector<Scalar>& args) {
    Scalar value = args[0];
    if (kind == OpKind::ReduceMean) value = fdiv(b, value, count);  // 0/0 = NaN over an empty axis
    if (kind == OpKind::ReduceL2) value = unary_op(b, "sqrt", value);
    return narrow_acc(b, value, dtype);
  });
}

Expected<TValue> reduce_int(FunctionEmitter& e, const Op& op, const TValue& x, const std::vector<bool>& reduced) {
  OpKind kind = op.kind();
  DType dtype = x.type.dtype;
  if (kind != OpKind::ReduceMean) {
    Scalar init = kind == OpKind::ReduceMax   ? int_constant(e.block(), dtype, int_extreme(dtype, false))
                  : kind == OpKind::ReduceMin ? int_constant(e.block(), dtype, int_extreme(dtype, true))
                                              : int_constant(e.block(), dtype, kind == OpKind::ReduceProd ? 1 : 0);
    Reduction r{reduced, init, {}, [kind](Block& b, const std::vector<Scalar>& ins, Scalar a) {
                  return fold(b, kind, ins[0], a);
                }};
    return reduce_kept(e, x, r);
  }
  // The interpreter sums exactly in 128 bits; a 64-bit sum is exact for inputs up to 32 bits wide (and
  // fewer than 2^31 elements) but can wrap for i64/u64 inputs -- see docs/mlir.md.
  DType wide = is_unsigned(dtype) ? DType::U64 : DType::I64;
  Reduction r{reduced, int_constant(e.block(), wide, 0), {}, [](Block& b, const std::vector<Scalar>& ins, Scalar a) {
                return add(b, a, convert(b, ins[0], a.t));
              }};
  TESSEL_ASSIGN(TValue sum, reduce_kept(e, x, r));
  TESSEL_ASSIGN(Scalar count, count_scalar(e, reduced_count(x.type.shape, reduced), wide));
  return e.elementwise({sum}, {dtype, sum.type.shape}, [&](Block& b, const std::vector<Scalar>& args) {
    // x / 0 is 0 by the IR's integer rule (an empty axis has mean 0).
    Scalar zero = int_constant(b, wide, 0);
    Scalar empty = compare(b, Cmp::Eq, count, zero);
    Scalar divisor = select(b, empty, int_constant(b, wide, 1), count);
    Scalar quotient = binary_op(b, is_unsigned(wide) ? "arith.divui" : "arith.divsi", args[0], divisor);
    return convert(b, select(b, empty, zero, quotient), dtype);
  });
}

Expected<TValue> arg_reduce(FunctionEmitter& e, const Op& op, const TValue& x) {
  AttrReader attrs = op.attr();
  int64_t axis = attrs.i("axis");
  if (axis < 0) axis += x.type.rank();
  bool is_max = op.kind() == OpKind::ArgMax, last = attrs.i("select_last_index") != 0;
  DType dtype = x.type.dtype;
  Shape kept_shape;
  std::vector<std::string> out_map;
  for (int64_t a = 0; a < x.type.rank(); ++a) {
    if (a == axis) continue;
    kept_shape.push_back(x.type.shape[a]);
    out_map.push_back(fmt::format("d{}", a));
  }
  GenericSpec spec;
  spec.loops = static_cast<int>(x.type.rank());
  spec.reductions = {static_cast<int>(axis)};
  spec.inputs.push_back({x, identity_map(x.type.rank())});
  TESSEL_ASSIGN(TValue best_init, e.filled({dtype, kept_shape}, constant(e.block(), dtype, 0.0)));
  TESSEL_ASSIGN(TValue index_init, e.filled({DType::I64, kept_shape}, int_constant(e.block(), DType::I64, -1)));
  spec.outputs = {{best_init, out_map}, {index_init, out_map}};
  spec.body = [&](Block& b, const std::vector<Scalar>& args) -> Expected<std::vector<Scalar>> {
    Scalar v = widen(b, args[0]), best = widen(b, args[1]), index = args[2];
    std::string position = b.def(fmt::format("linalg.index {} : index", axis));
    Scalar k{b.def(fmt::format("arith.index_cast {} : index to i64", position)), DType::I64};
    // The first element is taken unconditionally (index -1 marks "none yet").
    Scalar first = compare(b, Cmp::Lt, index, int_constant(b, DType::I64, 0));
    Scalar better = compare(b, is_max ? Cmp::Gt : Cmp::Lt, v, best);
    if (last) better = binary_op(b, "arith.ori", better, compare(b, Cmp::Eq, v, best));
    Scalar take = better;
    if (is_float(v.t)) {
      // NaN counts as the extreme: the first NaN wins, or the last one with select_last_index.
      Scalar v_nan = compare(b, Cmp::Ne, v, v), best_nan = compare(b, Cmp::Ne, best, best);
      Scalar after_nan = last ? v_nan : bool_constant(b, false);
      take = select(b, best_nan, after_nan, binary_op(b, "arith.ori", v_nan, better));
    }
    take = binary_op(b, "arith.ori", first, take);
    return std::vector<Scalar>{select(b, take, args[0], args[1]), select(b, take, k, index)};
  };
  TESSEL_ASSIGN(std::vector<TValue> values, e.generic(spec));
  return values[1];
}

}  // namespace

Status emit_reduce(FunctionEmitter& e, const Op& op) {
  const TValue& x = e.value(op.operand(0));
  const TensorType& result = op.result()->type();
  // Each computes the result without the reduced axes; keepdims is a reshape.
  TValue kept;
  if (op.kind() == OpKind::ArgMax || op.kind() == OpKind::ArgMin) {
    TESSEL_ASSIGN(kept, arg_reduce(e, op, x));
  } else {
    std::vector<bool> reduced = all_axes(x.type.rank(), op.attr().ints("axes"));
    if (is_float(x.type.dtype)) {
      TESSEL_ASSIGN(kept, reduce_float(e, op, x, reduced));
    } else {
      TESSEL_ASSIGN(kept, reduce_int(e, op, x, reduced));
    }
  }
  TESSEL_ASSIGN(TValue y, e.reshape(kept, result.shape));
  e.bind(op.result(), y);
  return Status::success();
}

}  // namespace tessel::mlir
