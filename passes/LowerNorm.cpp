// Staged ops in the lowering: ops whose value at an index needs statistics of a whole row, computed
// first by reduction nests into heap buffers (in the statistics' compute dtype, keepdims-shaped):
//   softmax / log_softmax   max m = max(x), then s = sum(exp(x - m)) over the axis;
//                           value exp(x - m) / s, or (x - m) - log(s)
//   layer_norm              mean = sum(x) / n, then inv_std = 1 / sqrt(sum((x - mean)^2) / n + eps)
//                           over the axes [axis, rank); values (x - mean) * inv_std * scale + bias,
//                           mean and inv_std (its second and third results)
//   reduce_log_sum_exp      m = max(x), then s = sum(exp(x - m)); value m + log(s), or m itself when m
//                           is infinite or NaN (an empty or all -inf row gives -inf)
// These are the interpreter's formulas (ir/ops/Norm.cpp, Reduce.cpp): the row maximum is subtracted so
// large inputs do not overflow, and f16/bf16 compute in f32 and round once at the end, which is why
// `decompose` keeps the 16-bit ones and lowering must handle them.
#include "ir/loop/Transforms.h"
#include "ir/ops/OpUtil.h"
#include "passes/LowerImpl.h"

namespace tessel::lower {

using namespace loop;  // NOLINT

namespace {

/// The reduced axes of a staged op and whether its statistics keep them (as size-1 dims).
struct StageAxes {
  std::vector<bool> reduced;
  bool keepdims = true;
};

Expected<StageAxes> stage_axes(const Op& op) {
  const Value* x = op.operand(0);
  int64_t rank = x->type().rank();
  StageAxes s;
  s.reduced.assign(static_cast<size_t>(rank), false);
  if (op.kind() == OpKind::ReduceLogSumExp) {
    std::vector<int64_t> axes = op.attr().ints("axes");
    if (axes.empty()) s.reduced.assign(static_cast<size_t>(rank), true);
    for (int64_t a : axes) {
      TESSEL_ASSIGN(int64_t axis, ops::normalize_axis(a, rank));
      s.reduced[static_cast<size_t>(axis)] = true;
    }
    s.keepdims = op.attr().i("keepdims") != 0;
    return s;
  }
  TESSEL_ASSIGN(int64_t axis, ops::normalize_axis(op.attr().i("axis"), rank));
  for (int64_t a = axis; a < rank; ++a) {
    s.reduced[static_cast<size_t>(a)] = true;
    if (op.kind() != OpKind::LayerNorm) break;  // softmax: one axis; layer_norm: the trailing axes
  }
  return s;
}

/// The statistics' index for the input index `index`: reduced axes become 0, or are dropped.
std::vector<Expr> stat_index(const StageAxes& s, const std::vector<Expr>& index) {
  std::vector<Expr> out;
  for (size_t a = 0; a < index.size(); ++a) {
    if (!s.reduced[a]) {
      out.push_back(index[a]);
    } else if (s.keepdims) {
      out.push_back(int_imm(0));
    }
  }
  return out;
}

Expr is_finite(const Expr& e) {
  return call(Intrinsic::Not, {call(Intrinsic::IsNan, {e}) || call(Intrinsic::IsInf, {e})});
}

}  // namespace

Expected<std::vector<TensorType>> stage_types(const Op& op) {
  const TensorType& x = op.operand(0)->type();
  if (!is_float(x.dtype)) return op_error(op, "on " + x.str() + " has no loop lowering (floats only)");
  TESSEL_ASSIGN(StageAxes s, stage_axes(op));
  Shape shape;
  for (size_t a = 0; a < x.shape.size(); ++a) {
    if (!s.reduced[a]) {
      shape.push_back(x.shape[a]);
    } else if (s.keepdims) {
      shape.push_back(Dim(1));
    }
  }
  TensorType stat{compute_dtype(x.dtype), shape};
  return std::vector<TensorType>{stat, stat};
}

Expected<Anchor> stage_anchor(const Op& op, size_t k, Inliner& inl) {
  const Value* x = op.operand(0);
  const Shape& xs = x->type().shape;
  DType c = compute_dtype(x->type().dtype);
  TESSEL_ASSIGN(StageAxes s, stage_axes(op));
  Anchor anchor = reduction_domain(xs, s.reduced, s.keepdims);
  size_t ns = anchor.num_spatial;
  bool layer_norm = op.kind() == OpKind::LayerNorm;
  Dim count = 1;
  for (size_t a = 0; a < xs.size(); ++a)
    if (s.reduced[a]) count = count * xs[a];
  Expr n = cast(Type{c}, dim_expr(count));
  anchor.accs = {{c, k == 0 && !layer_norm ? lowest_of(c) : zero_of(c)}};
  anchor.update = [=, &inl, &op](const std::vector<Expr>& ax,
                                 const std::vector<Expr>& acc) -> Expected<std::vector<Expr>> {
    TESSEL_ASSIGN(Expr v, inl.value_at(x, reduction_input_index(s.reduced, s.keepdims, ns, ax)));
    if (k == 0) return std::vector<Expr>{layer_norm ? acc[0] + v : max(acc[0], v)};
    std::vector<Expr> row(ax.begin(), ax.begin() + static_cast<long>(ns));
    TESSEL_ASSIGN(Expr first, inl.stat_at(op, 0, row));
    Expr d = v - first;
    return std::vector<Expr>{acc[0] + (layer_norm ? d * d : call(Intrinsic::Exp, {d}))};
  };
  double epsilon = layer_norm ? op.attr().f("epsilon") : 0;
  anchor.finalize = [=](const std::vector<Expr>&, const std::vector<Expr>& acc) -> Expected<Expr> {
    if (!layer_norm) return acc[0];
    if (k == 0) return acc[0] / n;  // an empty row gives 0/0 = NaN, as the interpreter's mean
    return float_imm(1, c) / call(Intrinsic::Sqrt, {acc[0] / n + float_imm(epsilon, c)});
  };
  return anchor;
}

Expected<Expr> Inliner::stat_at(const Op& op, size_t k, const std::vector<Expr>& index) {
  auto it = stats_.find(&op);
  if (it == stats_.end() || k >= it->second.size())
    return op_error(op, "reads statistic " + std::to_string(k) + " before its nest ran (internal lowering error)");
  TESSEL_ASSIGN(std::vector<TensorType> types, stage_types(op));
  return load(it->second[k], types[k].dtype, flat_index(index, types[k].shape));
}

Expected<Expr> Inliner::staged_at(const Op& op, const Value* v, const std::vector<Expr>& index) {
  DType dtype = op.operand(0)->type().dtype;
  TESSEL_ASSIGN(StageAxes s, stage_axes(op));
  if (op.kind() == OpKind::ReduceLogSumExp) {
    TESSEL_ASSIGN(Expr m, stat_at(op, 0, index));
    TESSEL_ASSIGN(Expr sum, stat_at(op, 1, index));
    return round_to(dtype, select(is_finite(m), m + call(Intrinsic::Log, {sum}), m));
  }
  if (op.kind() == OpKind::LayerNorm && v->index() > 0) return stat_at(op, static_cast<size_t>(v->index() - 1), index);
  std::vector<Expr> row = stat_index(s, index);
  TESSEL_ASSIGN(Expr x, value_at(op.operand(0), index));
  TESSEL_ASSIGN(Expr first, stat_at(op, 0, row));
  TESSEL_ASSIGN(Expr second, stat_at(op, 1, row));
  Expr r;
  switch (op.kind()) {
    case OpKind::Softmax: r = call(Intrinsic::Exp, {x - first}) / second; break;
    case OpKind::LogSoftmax: r = (x - first) - call(Intrinsic::Log, {second}); break;
    case OpKind::LayerNorm: {
      r = (x - first) * second;
      if (op.operand(1)) {
        TESSEL_ASSIGN(Expr scale, broadcast_operand(op, 1, index));
        r = r * scale;
      }
      if (op.operand(2)) {
        TESSEL_ASSIGN(Expr bias, broadcast_operand(op, 2, index));
        r = r + bias;
      }
      break;
    }
    default: return op_error(op, "is not a staged op (internal lowering error)");
  }
  return round_to(dtype, r);
}

}  // namespace tessel::lower
