// Anchor ops in the lowering: each defines its iteration domain (docs/loop-ir.md) and its accumulation.
//   matmul [b0.., i, j] + k        gemm [i, j] + k
//   reduce [d0 .. d(r-1)] (the result dims) + [r<a> for each reduced input axis a]; argmax/argmin too
//   scatter_elements [d0 .. d(r-1)] (the data dims) + r<axis> (the indices' extent along the axis)
// (conv, conv_transpose and pool: passes/LowerWindow.cpp). Floats accumulate in f32 (f64 for f64),
// integers in their own dtype with wraparound (the same result as the interpreter's 64-bit accumulation
// truncated). argmax/argmin keep the extreme and its index; ties (and NaNs, which count as the extreme)
// are resolved by index, so the result does not depend on the order in which a schedule visits them.
#include <limits>

#include "ir/loop/Transforms.h"
#include "ir/ops/OpUtil.h"
#include "passes/LowerImpl.h"

namespace tessel::lower {

using namespace loop;  // NOLINT

Expr zero_of(DType c) { return is_float(c) ? float_imm(0, c) : int_imm(0, c); }

Expr lowest_of(DType c) {
  if (is_float(c)) return float_imm(-std::numeric_limits<double>::infinity(), c);
  switch (c) {
    case DType::I8: return int_imm(std::numeric_limits<int8_t>::lowest(), c);
    case DType::I16: return int_imm(std::numeric_limits<int16_t>::lowest(), c);
    case DType::I32: return int_imm(std::numeric_limits<int32_t>::lowest(), c);
    case DType::I64: return int_imm(std::numeric_limits<int64_t>::lowest(), c);
    default: return int_imm(0, c);  // unsigned
  }
}

Expr highest_of(DType c) {
  if (is_float(c)) return float_imm(std::numeric_limits<double>::infinity(), c);
  switch (c) {
    case DType::I8: return int_imm(std::numeric_limits<int8_t>::max(), c);
    case DType::I16: return int_imm(std::numeric_limits<int16_t>::max(), c);
    case DType::I32: return int_imm(std::numeric_limits<int32_t>::max(), c);
    case DType::I64: return int_imm(std::numeric_limits<int64_t>::max(), c);
    case DType::U8: return int_imm(std::numeric_limits<uint8_t>::max(), c);
    case DType::U16: return int_imm(std::numeric_limits<uint16_t>::max(), c);
    case DType::U32: return int_imm(std::numeric_limits<uint32_t>::max(), c);
    default: return int_imm(-1, c);  // u64 max
  }
}

Anchor reduction_domain(const Shape& in, const std::vector<bool>& reduced, bool keepdims) {
  Anchor anchor;
  size_t d = 0;
  for (size_t a = 0; a < in.size(); ++a) {
    if (reduced[a] && !keepdims) continue;
    anchor.axes.push_back({"d" + std::to_string(d++), reduced[a] ? Dim(1) : in[a], false});
  }
  anchor.num_spatial = anchor.axes.size();
  for (size_t a = 0; a < in.size(); ++a)
    if (reduced[a]) anchor.axes.push_back({"r" + std::to_string(a), in[a], true});
  return anchor;
}

std::vector<Expr> reduction_input_index(const std::vector<bool>& reduced, bool keepdims, size_t num_spatial,
                                        const std::vector<Expr>& ax) {
  std::vector<Expr> xi;
  size_t next_out = 0, next_red = num_spatial;
  for (bool r : reduced) {
    if (r) {
      xi.push_back(ax[next_red++]);
      if (keepdims) ++next_out;
    } else {
      xi.push_back(ax[next_out++]);
    }
  }
  return xi;
}

namespace {

Expected<Anchor> matmul_anchor(const Op& op, Inliner& inl) {
  const Value *a = op.operand(0), *b = op.operand(1);
  const Shape &as = a->type().shape, &bs = b->type().shape, &out = op.result()->type().shape;
  DType c = compute_dtype(a->type().dtype);
  if (!is_float(c) && !is_integer(c)) return op_error(op, "on " + a->type().str() + " has no loop lowering");
  bool has_i = as.size() > 1, has_j = bs.size() > 1;
  size_t batch = out.size() - (has_i ? 1 : 0) - (has_j ? 1 : 0);
  Anchor anchor;
  for (size_t d = 0; d < batch; ++d) anchor.axes.push_back({"b" + std::to_string(d), out[d], false});
  if (has_i) anchor.axes.push_back({"i", out[batch], false});
  if (has_j) anchor.axes.push_back({"j", out.back(), false});
  anchor.num_spatial = anchor.axes.size();
  anchor.axes.push_back({"k", as.back(), true});
  anchor.accs = {{c, zero_of(c)}};
  anchor.update = [=, &inl](const std::vector<Expr>& ax, const std::vector<Expr>& acc) -> Expected<std::vector<Expr>> {
    Expr k = ax.back();
    auto batch_index = [&](const Shape& s, size_t own) {
      std::vector<Expr> idx;
      size_t offset = batch - own;
      for (size_t d = 0; d < own; ++d) idx.push_back(s[d] == Dim(1) ? int_imm(0) : ax[offset + d]);
      return idx;
    };
    std::vector<Expr> ai = as.size() > 1 ? batch_index(as, as.size() - 2) : std::vector<Expr>{};
    if (has_i) ai.push_back(ax[batch]);
    ai.push_back(k);
    std::vector<Expr> bi = bs.size() > 1 ? batch_index(bs, bs.size() - 2) : std::vector<Expr>{};
    bi.push_back(k);
    if (has_j) bi.push_back(ax[anchor.num_spatial - 1]);
    TESSEL_ASSIGN(Expr av, inl.value_at(a, ai));
    TESSEL_ASSIGN(Expr bv, inl.value_at(b, bi));
    return std::vector<Expr>{acc[0] + av * bv};
  };
  anchor.finalize = [](const std::vector<Expr>&, const std::vector<Expr>& acc) -> Expected<Expr> { return acc[0]; };
  return anchor;
}

Expected<Anchor> gemm_anchor(const Op& op, Inliner& inl) {
  const Value *a = op.operand(0), *b = op.operand(1), *cv = op.operand(2);
  AttrReader attrs = op.attr();
  bool ta = attrs.i("trans_a") != 0, tb = attrs.i("trans_b") != 0;
  double alpha = attrs.f("alpha"), beta = attrs.f("beta");
  DType c = compute_dtype(a->type().dtype);
  const Shape& out = op.result()->type().shape;
  Anchor anchor;
  anchor.axes = {{"i", out[0], false}, {"j", out[1], false}, {"k", a->type().shape[ta ? 0 : 1], true}};
  anchor.num_spatial = 2;
  anchor.accs = {{c, zero_of(c)}};
  anchor.update = [=, &inl](const std::vector<Expr>& ax, const std::vector<Expr>& acc) -> Expected<std::vector<Expr>> {
    TESSEL_ASSIGN(Expr av, inl.value_at(a, ta ? std::vector<Expr>{ax[2], ax[0]} : std::vector<Expr>{ax[0], ax[2]}));
    TESSEL_ASSIGN(Expr bv, inl.value_at(b, tb ? std::vector<Expr>{ax[1], ax[2]} : std::vector<Expr>{ax[2], ax[1]}));
    return std::vector<Expr>{acc[0] + av * bv};
  };
  auto scalar = [c](double value) {
    return is_float(c) ? float_imm(value, c) : int_imm(static_cast<int64_t>(value), c);
  };
  anchor.finalize = [=, &inl](const std::vector<Expr>& sp, const std::vector<Expr>& acc) -> Expected<Expr> {
    Expr result = alpha == 1 ? acc[0] : scalar(alpha) * acc[0];
    if (cv && beta != 0) {
      const Shape& cs = cv->type().shape;
      std::vector<Expr> ci;
      for (size_t d = 0; d < cs.size(); ++d) ci.push_back(cs[d] == Dim(1) ? int_imm(0) : sp[2 - cs.size() + d]);
      TESSEL_ASSIGN(Expr cval, inl.value_at(cv, ci));
      result = result + (beta == 1 ? cval : scalar(beta) * cval);
    }
    return result;
  };
  return anchor;
}

Expected<Anchor> reduce_anchor(const Op& op, Inliner& inl) {
  const Value* x = op.operand(0);
  const Shape& xs = x->type().shape;
  OpKind kind = op.kind();
  DType dtype = x->type().dtype, c = compute_dtype(dtype);
  bool fp = is_float(c);
  if (!fp && (kind == OpKind::ReduceL2 || kind == OpKind::ReduceMean))
    return op_error(op, "on " + x->type().str() + " has no loop lowering (floats only)");
  std::vector<int64_t> axes_attr = op.attr().ints("axes");
  std::vector<bool> reduced(xs.size(), axes_attr.empty());
  for (int64_t a : axes_attr) {
    TESSEL_ASSIGN(int64_t axis, ops::normalize_axis(a, x->type().rank()));
    reduced[static_cast<size_t>(axis)] = true;
  }
  bool keepdims = op.attr().i("keepdims") != 0;
  Anchor anchor = reduction_domain(xs, reduced, keepdims);
  Dim count = 1;
  for (size_t a = 0; a < xs.size(); ++a)
    if (reduced[a]) count = count * xs[a];
  Expr init = kind == OpKind::ReduceMax    ? lowest_of(c)
              : kind == OpKind::ReduceMin  ? highest_of(c)
              : kind == OpKind::ReduceProd ? (fp ? float_imm(1, c) : int_imm(1, c))
                                           : zero_of(c);
  anchor.accs = {{c, init}};
  size_t ns = anchor.num_spatial;
  anchor.update = [=, &inl](const std::vector<Expr>& ax, const std::vector<Expr>& acc) -> Expected<std::vector<Expr>> {
    TESSEL_ASSIGN(Expr v, inl.value_at(x, reduction_input_index(reduced, keepdims, ns, ax)));
    switch (kind) {
      case OpKind::ReduceMax: return std::vector<Expr>{max(acc[0], v)};
      case OpKind::ReduceMin: return std::vector<Expr>{min(acc[0], v)};
      case OpKind::ReduceProd: return std::vector<Expr>{acc[0] * v};
      case OpKind::ReduceL1: return std::vector<Expr>{acc[0] + call(Intrinsic::Abs, {v})};
      case OpKind::ReduceL2: return std::vector<Expr>{acc[0] + v * v};
      default: return std::vector<Expr>{acc[0] + v};
    }
  };
  anchor.finalize = [=](const std::vector<Expr>&, const std::vector<Expr>& acc) -> Expected<Expr> {
    if (kind == OpKind::ReduceMean) return acc[0] / cast(Type{c}, dim_expr(count));
    if (kind == OpKind::ReduceL2) return call(Intrinsic::Sqrt, {acc[0]});
    return acc[0];
  };
  return anchor;
}

/// argmax / argmin: accumulators (extreme, its index), index -1 until the first element. The shape rule
/// rejects a constant empty axis; a symbolic one that is 0 at run time (an interpreter error) gives -1.
Expected<Anchor> arg_anchor(const Op& op, Inliner& inl) {
  const Value* x = op.operand(0);
  const Shape& xs = x->type().shape;
  DType c = compute_dtype(x->type().dtype);
  TESSEL_ASSIGN(int64_t axis, ops::normalize_axis(op.attr().i("axis"), x->type().rank()));
  std::vector<bool> reduced(xs.size(), false);
  reduced[static_cast<size_t>(axis)] = true;
  bool keepdims = op.attr().i("keepdims") != 0;
  bool is_max = op.kind() == OpKind::ArgMax, last = op.attr().i("select_last_index") != 0;
  Anchor anchor = reduction_domain(xs, reduced, keepdims);
  anchor.accs = {{c, is_max ? lowest_of(c) : highest_of(c)}, {DType::I64, int_imm(-1)}};
  size_t ns = anchor.num_spatial;
  anchor.update = [=, &inl](const std::vector<Expr>& ax, const std::vector<Expr>& acc) -> Expected<std::vector<Expr>> {
    TESSEL_ASSIGN(Expr v, inl.value_at(x, reduction_input_index(reduced, keepdims, ns, ax)));
    Expr k = ax.back(), best = acc[0], at = acc[1];
    Expr wins_tie = last ? k > at : k < at;
    Expr better = at < int_imm(0) || (is_max ? v > best : v < best) || (eq(v, best) && wins_tie);
    if (is_float(c)) {
      // NaN is the extreme; among NaNs the tie rule picks.
      Expr v_nan = call(Intrinsic::IsNan, {v}), best_nan = call(Intrinsic::IsNan, {best});
      better = select(best_nan, v_nan && wins_tie, v_nan || better);
    }
    return std::vector<Expr>{select(better, v, best), select(better, k, at)};
  };
  anchor.finalize = [](const std::vector<Expr>&, const std::vector<Expr>& acc) -> Expected<Expr> { return acc[1]; };
  return anchor;
}

/// One scatter_elements step: the update combined into the current value, in the data's dtype.
Expr scatter_combine(const std::string& reduction, DType dtype, const Expr& acc, const Expr& update) {
  if (dtype == DType::Bool) {  // add and max are `or`, mul and min `and` (the interpreter's integer rule)
    if (reduction == "add" || reduction == "max") return acc || update;
    if (reduction == "mul" || reduction == "min") return acc && update;
    return update;
  }
  Expr r = reduction == "add"   ? acc + update
           : reduction == "mul" ? acc * update
           : reduction == "max" ? max(acc, update)
           : reduction == "min" ? min(acc, update)
                                : update;
  return round_to(dtype, r);
}

/// scatter_elements as a reduction over the indices' axis: output element o starts as data[o], and
/// each indices position p that agrees with o off the axis and whose index is o[axis] combines
/// updates[p] into it, in increasing p[axis] (the interpreter's order, so `none` keeps the last).
/// Indices out of range (an interpreter error) match nothing.
Expected<Anchor> scatter_anchor(const Op& op, Inliner& inl) {
  const Value *data = op.operand(0), *indices = op.operand(1), *updates = op.operand(2);
  const Shape &ds = data->type().shape, &is = indices->type().shape;
  DType dtype = data->type().dtype;
  std::string reduction = op.attr().s("reduction");
  if (reduction != "none" && reduction != "add" && reduction != "mul" && reduction != "max" && reduction != "min")
    return op_error(op, "has reduction '" + reduction + "', which is not one of none, add, mul, max, min");
  TESSEL_ASSIGN(int64_t axis_attr, ops::normalize_axis(op.attr().i("axis"), data->type().rank()));
  size_t axis = static_cast<size_t>(axis_attr);
  Anchor anchor;
  for (size_t d = 0; d < ds.size(); ++d) anchor.axes.push_back({"d" + std::to_string(d), ds[d], false});
  anchor.num_spatial = ds.size();
  anchor.axes.push_back({"r" + std::to_string(axis), is[axis], true});
  anchor.accs = {{compute_dtype(dtype), zero_of(compute_dtype(dtype))}};
  anchor.init_at = [=, &inl](const std::vector<Expr>& sp) -> Expected<std::vector<Expr>> {
    TESSEL_ASSIGN(Expr v, inl.value_at(data, sp));
    return std::vector<Expr>{v};
  };
  anchor.update = [=, &inl](const std::vector<Expr>& ax, const std::vector<Expr>& acc) -> Expected<std::vector<Expr>> {
    std::vector<Expr> p;
    Expr match = bool_imm(true);
    for (size_t d = 0; d < ds.size(); ++d) {
      if (d == axis) {
        p.push_back(ax.back());
      } else if (is[d] == ds[d]) {
        p.push_back(ax[d]);
      } else {  // indices smaller than data off the axis: positions past them get no update
        match = match && ax[d] < dim_expr(is[d]);
        p.push_back(min(ax[d], max(dim_expr(is[d]) - int_imm(1), int_imm(0))));
      }
    }
    TESSEL_ASSIGN(Expr raw, inl.value_at(indices, p));
    Expr i = raw->type.elem == DType::I64 ? raw : cast(i64_type(), raw);
    i = select(i < int_imm(0), i + dim_expr(ds[axis]), i);
    match = simplify(match && eq(i, ax[axis]));
    TESSEL_ASSIGN(Expr u, inl.value_at(updates, p));
    return std::vector<Expr>{select(match, scatter_combine(reduction, dtype, acc[0], u), acc[0])};
  };
  anchor.finalize = [](const std::vector<Expr>&, const std::vector<Expr>& acc) -> Expected<Expr> { return acc[0]; };
  return anchor;
}

}  // namespace

bool is_anchor(const Op& op) {
  switch (op_info(op.kind()).family) {
    case OpFamily::MatMul:
    case OpFamily::Conv:
    case OpFamily::Pool: return true;
    case OpFamily::Reduce: return op.kind() != OpKind::ReduceLogSumExp;
    default:
      return op.kind() == OpKind::ScatterElements || op.kind() == OpKind::TreeEnsemble ||
             op.kind() == OpKind::PairwiseCoupling;
  }
}

bool is_staged(const Op& op) {
  return op_info(op.kind()).family == OpFamily::Norm || op.kind() == OpKind::ReduceLogSumExp;
}

Status check_lowerable(const Op& op) {
  switch (op_info(op.kind()).family) {
    case OpFamily::Const:
    case OpFamily::Binary:
    case OpFamily::Select:
    case OpFamily::Cast:
    case OpFamily::MatMul:
    case OpFamily::Conv:
    case OpFamily::Pool:
    case OpFamily::Reduce:
    case OpFamily::Norm: return Status::success();
    case OpFamily::Unary: return Status::success();  // bitcast is a loop-IR reinterpret
    case OpFamily::Shape: return Status::success();
    case OpFamily::Ml:
      if (op.kind() == OpKind::TreeEnsemble || op.kind() == OpKind::PairwiseCoupling) return Status::success();
      break;
    default: break;
  }
  return op_error(op, "has no loop lowering; decompose it first");
}

Expected<Anchor> make_anchor(const Value* v, Inliner& inliner) {
  const Op& op = *v->producer();
  switch (op.kind()) {
    case OpKind::MatMul: return matmul_anchor(op, inliner);
    case OpKind::Gemm: return gemm_anchor(op, inliner);
    case OpKind::Conv: return conv_anchor(op, inliner);
    case OpKind::ConvTranspose: return conv_transpose_anchor(op, inliner);
    case OpKind::MaxPool:
    case OpKind::AvgPool: return pool_anchor(v, inliner);
    case OpKind::ArgMax:
    case OpKind::ArgMin: return arg_anchor(op, inliner);
    case OpKind::ScatterElements: return scatter_anchor(op, inliner);
    case OpKind::TreeEnsemble: return tree_ensemble_anchor(op, inliner);
    case OpKind::PairwiseCoupling: return pairwise_coupling_anchor(op, inliner);
    default:
      if (is_anchor(op)) return reduce_anchor(op, inliner);
      return op_error(op, "is not an anchor (internal lowering error)");
  }
}

Anchor elementwise_anchor(const Value* v, Inliner& inliner) {
  Anchor anchor;
  const Shape& shape = v->type().shape;
  for (size_t d = 0; d < shape.size(); ++d) anchor.axes.push_back({"d" + std::to_string(d), shape[d], false});
  anchor.num_spatial = shape.size();
  anchor.finalize = [v, &inliner](const std::vector<Expr>& sp, const std::vector<Expr>&) -> Expected<Expr> {
    return inliner.value_at(v, sp);
  };
  return anchor;
}

}  // namespace tessel::lower
