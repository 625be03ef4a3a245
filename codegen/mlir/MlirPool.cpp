// max_pool and avg_pool. The input is tensor.pad-ed (-inf / the lowest integer
// for max, 0 for sums) by the pads plus whatever a ceil_mode window hangs past
// the end; 2-D pools of signed or float data use linalg.pooling_nchw_max /
// pooling_nchw_sum, the rest a linalg.generic over [N, C, out..., taps...].
// avg_pool divides an f64 sum by a count that is itself a sum-pool of a ones
// tensor padded with 1 (count_include_pad) or 0, so edge windows divide by
// exactly the taps the interpreter counts; a window with nothing to count gives
// 0/0 = NaN. max_pool with an indices result is one generic carrying (max,
// flat index), where padding never wins and a NaN does (ir/ops/Pool.cpp).
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "codegen/mlir/MlirWindow.h"

namespace tessel::mlir {
namespace {

struct PoolGeometry {
  std::vector<int64_t> kernel;
  Window window;
  Shape low, high;  ///< padding of [N, C, spatial...], ceil_mode's overhang included in `high`
};

Expected<PoolGeometry> geometry(FunctionEmitter& e, const Op& op, const TensorType& x, const TensorType& y) {
  size_t spatial = static_cast<size_t>(x.rank() - 2);
  PoolGeometry g{op.attr().ints("kernel"), read_window(op, spatial), {0, 0}, {0, 0}};
  for (size_t i = 0; i < spatial; ++i) {
    int64_t pb = g.window.pad_begin[i], pe = g.window.pad_end[i];
    // Windows reach (out - 1) * s + (k - 1) * d + 1 into the padded input; ceil_mode may reach past its end.
    Dim reach = (y.shape[2 + i] - 1) * g.window.strides[i] + Dim((g.kernel[i] - 1) * g.window.dilations[i] + 1);
    Dim overhang = reach - (x.shape[2 + i] + pb + pe);
    auto extra = overhang.as_const();
    if (!extra)
      return e.op_error(op, fmt::format("ceil_mode windows over the symbolic dim {} are not supported (overhang {})",
                                        x.shape[2 + i].str(), overhang.str()));
    g.low.push_back(Dim(pb));
    g.high.push_back(Dim(pe + std::max<int64_t>(0, *extra)));
  }
  return g;
}

/// max or sum pooling of the padded input into `init` (whose dtype is the accumulator's).
Expected<TValue> pool(FunctionEmitter& e, const TValue& padded, const PoolGeometry& g, const TValue& init,
                      bool is_max) {
  size_t spatial = g.kernel.size();
  TESSEL_ASSIGN(TValue window, e.empty({init.type.dtype, to_shape(g.kernel)}));
  bool named = spatial == 2 && !is_unsigned(padded.type.dtype);
  if (named) {
    std::string out = tensor_type(init.type);
    std::string text =
        fmt::format("linalg.pooling_nchw_{} {{dilations = {}, strides = {}}} ins({}, {} : {}, {}) outs({} : {}) -> {}",
                    is_max ? "max" : "sum", i64_dense(g.window.dilations), i64_dense(g.window.strides), padded.v,
                    window.v, tensor_type(padded.type), tensor_type(window.type), init.v, out, out);
    return TValue{e.block().def(text), init.type};
  }
  GenericSpec spec;
  int taps = 2 + static_cast<int>(spatial);
  spec.loops = taps + static_cast<int>(spatial);
  std::vector<std::string> x_map{"d0", "d1"}, w_map, out_map{"d0", "d1"};
  for (size_t i = 0; i < spatial; ++i) {
    int out = 2 + static_cast<int>(i), tap = taps + static_cast<int>(i);
    x_map.push_back(window_expr(out, tap, g.window.strides[i], g.window.dilations[i]));
    w_map.push_back(fmt::format("d{}", tap));
    out_map.push_back(fmt::format("d{}", out));
    spec.reductions.push_back(tap);
  }
  spec.inputs = {{padded, x_map}, {window, w_map}};
  spec.outputs = {{init, out_map}};
  spec.body = [is_max](Block& b, const std::vector<Scalar>& args) -> Expected<std::vector<Scalar>> {
    Scalar acc = args[2], v = convert(b, args[0], args[2].t);
    return std::vector<Scalar>{is_max ? max(b, acc, v) : add(b, acc, v)};
  };
  TESSEL_ASSIGN(std::vector<TValue> values, e.generic(spec));
  return values[0];
}

Scalar lowest(Block& b, DType dtype) {
  if (is_float(dtype)) return constant(b, dtype, -std::numeric_limits<double>::infinity());
  int bits = bit_width(dtype);
  int64_t value =
      is_unsigned(dtype) ? 0 : (bits == 64 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (bits - 1)));
  return int_constant(b, dtype, value);
}

/// max_pool with indices: (max, flat index into x) per window; taps in the padding never win.
Status max_pool_with_indices(FunctionEmitter& e, const Op& op, const TValue& x, const TValue& padded,
                             const PoolGeometry& g) {
  size_t spatial = g.kernel.size();
  const TensorType& y_type = op.result(0)->type();
  bool column_major = op.attr().i("storage_order") != 0;
  TESSEL_ASSIGN(TValue best_init, e.filled(y_type, lowest(e.block(), x.type.dtype)));
  TESSEL_ASSIGN(TValue index_init, e.filled(op.result(1)->type(), int_constant(e.block(), DType::I64, -1)));
  std::vector<std::string> dims;  // N, C, spatial... of x
  for (const Dim& d : x.type.shape) {
    TESSEL_ASSIGN(std::string value, e.dim(d));
    dims.push_back(value);
  }
  TESSEL_ASSIGN(TValue window, e.empty({x.type.dtype, to_shape(g.kernel)}));
  GenericSpec spec;
  int taps = 2 + static_cast<int>(spatial);
  spec.loops = taps + static_cast<int>(spatial);
  std::vector<std::string> x_map{"d0", "d1"}, w_map, out_map{"d0", "d1"};
  for (size_t i = 0; i < spatial; ++i) {
    int out = 2 + static_cast<int>(i), tap = taps + static_cast<int>(i);
    x_map.push_back(window_expr(out, tap, g.window.strides[i], g.window.dilations[i]));
    w_map.push_back(fmt::format("d{}", tap));
    out_map.push_back(fmt::format("d{}", out));
    spec.reductions.push_back(tap);
  }
  spec.inputs = {{padded, x_map}, {window, w_map}};
  spec.outputs = {{best_init, out_map}, {index_init, out_map}};
  spec.body = [&](Block& b, const std::vector<Scalar>& args) -> Expected<std::vector<Scalar>> {
    auto idx = [&](const std::string& text) { return b.def(text); };
    std::string zero = idx("arith.constant 0 : index");
    std::string inside = b.def("arith.constant true");
    std::vector<std::string> position;
    for (size_t i = 0; i < spatial; ++i) {
      // Input position o*s + k*d - pad_begin; the tap counts only inside [0, D).
      std::string o = idx(fmt::format("linalg.index {} : index", 2 + i));
      std::string k = idx(fmt::format("linalg.index {} : index", taps + static_cast<int>(i)));
      std::string os = idx(fmt::format("arith.muli {}, {} : index", o, e.index(g.window.strides[i])));
      std::string kd = idx(fmt::format("arith.muli {}, {} : index", k, e.index(g.window.dilations[i])));
      std::string sum = idx(fmt::format("arith.addi {}, {} : index", os, kd));
      std::string h = idx(fmt::format("arith.subi {}, {} : index", sum, e.index(g.window.pad_begin[i])));
      std::string above = idx(fmt::format("arith.cmpi sge, {}, {} : index", h, zero));
      std::string below = idx(fmt::format("arith.cmpi slt, {}, {} : index", h, dims[2 + i]));
      inside =
          idx(fmt::format("arith.andi {}, {} : i1", inside, idx(fmt::format("arith.andi {}, {} : i1", above, below))));
      position.push_back(h);
    }
    // Flat index: (n * C + c) * prod(D) + the spatial offset, row-major or (storage_order 1) column-major.
    std::string n = idx("linalg.index 0 : index"), c = idx("linalg.index 1 : index");
    std::string flat =
        idx(fmt::format("arith.addi {}, {} : index", idx(fmt::format("arith.muli {}, {} : index", n, dims[1])), c));
    for (size_t i = 0; i < spatial; ++i) flat = idx(fmt::format("arith.muli {}, {} : index", flat, dims[2 + i]));
    std::string offset = zero;
    for (size_t j = 0; j < spatial; ++j) {
      size_t i = column_major ? spatial - 1 - j : j;
      offset = idx(fmt::format("arith.addi {}, {} : index",
                               idx(fmt::format("arith.muli {}, {} : index", offset, dims[2 + i])), position[i]));
    }
    flat = idx(fmt::format("arith.addi {}, {} : index", flat, offset));
    Scalar index{idx(fmt::format("arith.index_cast {} : index to i64", flat)), DType::I64};
    Scalar v = widen(b, args[0]), best = widen(b, args[2]), best_index = args[3];
    Scalar take = binary_op(b, "arith.ori", compare(b, Cmp::Lt, best_index, int_constant(b, DType::I64, 0)),
                            compare(b, Cmp::Gt, v, best));
    if (is_float(v.t))
      take = binary_op(b, "arith.ori", take,
                       binary_op(b, "arith.andi", compare(b, Cmp::Ne, v, v), compare(b, Cmp::Eq, best, best)));
    take = binary_op(b, "arith.andi", Scalar{inside, DType::Bool}, take);
    return std::vector<Scalar>{select(b, take, args[0], args[2]), select(b, take, index, best_index)};
  };
  TESSEL_ASSIGN(std::vector<TValue> values, e.generic(spec));
  e.bind(op.result(0), values[0]);
  e.bind(op.result(1), values[1]);
  return Status::success();
}

Status emit_max_pool(FunctionEmitter& e, const Op& op, const TValue& x, const PoolGeometry& g) {
  TESSEL_ASSIGN(TValue padded, e.pad(x, g.low, g.high, lowest(e.block(), x.type.dtype)));
  if (op.num_results() == 2) return max_pool_with_indices(e, op, x, padded, g);
  TESSEL_ASSIGN(TValue init, e.filled(op.result()->type(), lowest(e.block(), x.type.dtype)));
  TESSEL_ASSIGN(TValue y, pool(e, padded, g, init, /*is_max=*/true));
  e.bind(op.result(), y);
  return Status::success();
}

Status emit_avg_pool(FunctionEmitter& e, const Op& op, const TValue& x, const PoolGeometry& g) {
  const TensorType& result = op.result()->type();
  DType acc = float_acc_dtype(result.dtype, e.options());
  TESSEL_ASSIGN(TValue padded, e.pad(x, g.low, g.high, constant(e.block(), x.type.dtype, 0.0)));
  TESSEL_ASSIGN(TValue sum_init, e.filled({acc, result.shape}, constant(e.block(), acc, 0.0)));
  TESSEL_ASSIGN(TValue sums, pool(e, padded, g, sum_init, /*is_max=*/false));
  // Counts: sum-pool a [1, 1, D...] ones tensor padded like x, the pads counting 1 with count_include_pad.
  Shape plane{1, 1}, counts_shape{1, 1}, pads{0, 0}, overhang{0, 0};
  for (size_t i = 2; i < static_cast<size_t>(x.type.rank()); ++i) {
    plane.push_back(x.type.shape[i]);
    counts_shape.push_back(result.shape[i]);
    pads.push_back(g.window.pad_end[i - 2]);
    overhang.push_back(g.high[i] - Dim(g.window.pad_end[i - 2]));
  }
  TESSEL_ASSIGN(TValue ones, e.filled({acc, plane}, constant(e.block(), acc, 1.0)));
  TValue counted = ones;
  if (op.attr().i("count_include_pad") != 0) {
    TESSEL_ASSIGN(counted, e.pad(counted, g.low, pads, constant(e.block(), acc, 1.0)));
    TESSEL_ASSIGN(counted, e.pad(counted, Shape(plane.size(), Dim(0)), overhang, constant(e.block(), acc, 0.0)));
  } else {
    TESSEL_ASSIGN(counted, e.pad(counted, g.low, g.high, constant(e.block(), acc, 0.0)));
  }
  TESSEL_ASSIGN(TValue count_init, e.filled({acc, counts_shape}, constant(e.block(), acc, 0.0)));
  TESSEL_ASSIGN(TValue counts, pool(e, counted, g, count_init, /*is_max=*/false));
  TESSEL_ASSIGN(TValue y, e.elementwise({sums, counts}, result, [&](Block& b, const std::vector<Scalar>& args) {
    return narrow_acc(b, fdiv(b, args[0], args[1]), result.dtype);
  }));
  e.bind(op.result(), y);
  return Status::success();
}

}  // namespace

Status emit_pool(FunctionEmitter& e, const Op& op) {
  const TValue& x = e.value(op.operand(0));
  TESSEL_ASSIGN(PoolGeometry g, geometry(e, op, x.type, op.result()->type()));
  return op.kind() == OpKind::MaxPool ? emit_max_pool(e, op, x, g) : emit_avg_pool(e, op, x, g);
}

}  // namespace tessel::mlir
