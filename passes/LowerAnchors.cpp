// Anchor ops in the lowering: each defines its iteration domain (docs/loop-ir.md) and its accumulation.
//   matmul [b0.., i, j] + k        gemm [i, j] + k
//   conv   [n, oc, oh, ow] + [ic, kh, kw] (od/kd for 3-D; ow/kw alone for 1-D)
//   pool   [n, c, oh, ow] + [kh, kw]
//   reduce [d0 .. d(r-1)] (the result dims) + [r<a> for each reduced input axis a]
// Floats accumulate in f32 (f64 for f64), integers in their own dtype with wraparound (the same result
// as the interpreter's 64-bit accumulation truncated). Window taps outside the input are masked with a
// select over a clamped, always-in-bounds load, and only on sides that have padding.
#include <limits>

#include "ir/loop/Transforms.h"
#include "ir/ops/OpUtil.h"
#include "passes/LowerImpl.h"

namespace tessel::lower {

using namespace loop;  // NOLINT

namespace {

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

/// Per-axis window attributes filled to `spatial` entries.
struct Window {
  std::vector<int64_t> strides, pads, dilations, kernel;
  int64_t pad_begin(size_t a) const { return pads[a]; }
  int64_t pad_end(size_t a) const { return pads[a + strides.size()]; }
};

Expected<Window> read_window(const Op& op, size_t spatial) {
  Window w;
  AttrReader attrs = op.attr();
  w.strides = attrs.ints("strides");
  w.pads = attrs.ints("pads");
  w.dilations = attrs.ints("dilations");
  if (w.strides.empty()) w.strides.assign(spatial, 1);
  if (w.pads.empty()) w.pads.assign(2 * spatial, 0);
  if (w.dilations.empty()) w.dilations.assign(spatial, 1);
  if (w.strides.size() != spatial || w.pads.size() != 2 * spatial || w.dilations.size() != spatial)
    return op_error(op, "has window attributes that do not match its spatial rank");
  return w;
}

std::vector<std::string> spatial_names(size_t spatial, char prefix) {
  static const char* kNames[] = {"d", "h", "w"};
  std::vector<std::string> names;
  for (size_t a = 0; a < spatial; ++a) {
    if (spatial <= 3)
      names.push_back(std::string(1, prefix) + kNames[3 - spatial + a]);
    else
      names.push_back(std::string(1, prefix) + std::to_string(a));
  }
  return names;
}

/// Input position of window tap `k` at output position `o` on axis `a`, and whether it lies inside
/// [0, dim); the position is clamped into range when it might not.
struct Tap {
  Expr pos;
  Expr inside;
};

Tap window_tap(const Window& w, size_t a, const Expr& o, const Expr& k, const Dim& dim, bool ceil_mode) {
  Expr pos = o * int_imm(w.strides[a]) - int_imm(w.pad_begin(a)) + k * int_imm(w.dilations[a]);
  Expr inside = bool_imm(true);
  Expr d = dim_expr(dim);
  bool check_low = w.pad_begin(a) > 0, check_high = w.pad_end(a) > 0 || ceil_mode;
  if (check_low) inside = inside && pos >= int_imm(0);
  if (check_high) inside = inside && pos < d;
  if (check_low || check_high) pos = max(min(pos, d - int_imm(1)), int_imm(0));
  return {simplify(pos), simplify(inside)};
}

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

Expected<Anchor> conv_anchor(const Op& op, Inliner& inl) {
  const Value *x = op.operand(0), *w = op.operand(1), *bias = op.operand(2);
  const Shape &xs = x->type().shape, &ws = w->type().shape, &out = op.result()->type().shape;
  if (!is_float(x->type().dtype)) return op_error(op, "on " + x->type().str() + " has no loop lowering");
  size_t spatial = xs.size() - 2;
  TESSEL_ASSIGN(Window win, read_window(op, spatial));
  int64_t group = op.attr().i("group");
  auto m_per_group = out[1].divide_exact(Dim(group));
  if (!m_per_group) return op_error(op, "output channels " + out[1].str() + " are not divisible by the group");
  DType c = compute_dtype(x->type().dtype);
  Anchor anchor;
  anchor.axes = {{"n", out[0], false}, {"oc", out[1], false}};
  auto onames = spatial_names(spatial, 'o'), knames = spatial_names(spatial, 'k');
  for (size_t a = 0; a < spatial; ++a) anchor.axes.push_back({onames[a], out[2 + a], false});
  anchor.num_spatial = anchor.axes.size();
  anchor.axes.push_back({"ic", ws[1], true});
  for (size_t a = 0; a < spatial; ++a) anchor.axes.push_back({knames[a], ws[2 + a], true});
  anchor.accs = {{c, zero_of(c)}};
  Dim per_group = *m_per_group;
  anchor.update = [=, &inl](const std::vector<Expr>& ax, const std::vector<Expr>& acc) -> Expected<std::vector<Expr>> {
    size_t ns = 2 + spatial;
    Expr n = ax[0], oc = ax[1], ic = ax[ns];
    Expr channel = group == 1 ? ic : (oc / dim_expr(per_group)) * dim_expr(ws[1]) + ic;
    std::vector<Expr> xi = {n, channel}, wi = {oc, ic};
    Expr inside = bool_imm(true);
    for (size_t a = 0; a < spatial; ++a) {
      Tap tap = window_tap(win, a, ax[2 + a], ax[ns + 1 + a], xs[2 + a], false);
      xi.push_back(tap.pos);
      inside = inside && tap.inside;
      wi.push_back(ax[ns + 1 + a]);
    }
    TESSEL_ASSIGN(Expr xv, inl.value_at(x, xi));
    TESSEL_ASSIGN(Expr wv, inl.value_at(w, wi));
    Expr term = simplify(select(simplify(inside), xv, zero_of(c)));
    return std::vector<Expr>{acc[0] + term * wv};
  };
  anchor.finalize = [=, &inl](const std::vector<Expr>& sp, const std::vector<Expr>& acc) -> Expected<Expr> {
    if (!bias) return acc[0];
    TESSEL_ASSIGN(Expr bv, inl.value_at(bias, {sp[1]}));
    return acc[0] + bv;
  };
  return anchor;
}

Expected<Anchor> pool_anchor(const Op& op, Inliner& inl) {
  if (op.num_results() > 1) return op_error(op, "with an indices result has no loop lowering");
  const Value* x = op.operand(0);
  const Shape &xs = x->type().shape, &out = op.result()->type().shape;
  size_t spatial = xs.size() - 2;
  TESSEL_ASSIGN(Window win, read_window(op, spatial));
  win.kernel = op.attr().ints("kernel");
  bool is_max = op.kind() == OpKind::MaxPool;
  bool ceil_mode = op.attr().i("ceil_mode") != 0;
  bool include_pad = !is_max && op.attr().i("count_include_pad") != 0;
  DType c = compute_dtype(x->type().dtype);
  Anchor anchor;
  anchor.axes = {{"n", out[0], false}, {"c", out[1], false}};
  auto onames = spatial_names(spatial, 'o'), knames = spatial_names(spatial, 'k');
  for (size_t a = 0; a < spatial; ++a) anchor.axes.push_back({onames[a], out[2 + a], false});
  anchor.num_spatial = anchor.axes.size();
  for (size_t a = 0; a < spatial; ++a) anchor.axes.push_back({knames[a], Dim(win.kernel[a]), true});
  if (is_max)
    anchor.accs = {{c, lowest_of(c)}};
  else
    anchor.accs = {{c, zero_of(c)}, {c, zero_of(c)}};  // sum, tap count
  anchor.update = [=, &inl](const std::vector<Expr>& ax, const std::vector<Expr>& acc) -> Expected<std::vector<Expr>> {
    std::vector<Expr> xi = {ax[0], ax[1]};
    Expr inside = bool_imm(true), counted = bool_imm(true);
    for (size_t a = 0; a < spatial; ++a) {
      Tap tap = window_tap(win, a, ax[2 + a], ax[2 + spatial + a], xs[2 + a], ceil_mode);
      xi.push_back(tap.pos);
      inside = inside && tap.inside;
      if (include_pad) {
        // Taps inside the padded input count; those of a ceil-mode window past the end padding do not.
        Expr padded = ax[2 + a] * int_imm(win.strides[a]) + ax[2 + spatial + a] * int_imm(win.dilations[a]);
        counted = counted && padded < dim_expr(xs[2 + a]) + int_imm(win.pad_begin(a) + win.pad_end(a));
      }
    }
    inside = simplify(inside);
    if (!include_pad) counted = inside;
    TESSEL_ASSIGN(Expr xv, inl.value_at(x, xi));
    if (is_max) return std::vector<Expr>{max(acc[0], simplify(select(inside, xv, lowest_of(c))))};
    return std::vector<Expr>{acc[0] + simplify(select(inside, xv, zero_of(c))),
                             acc[1] + simplify(select(simplify(counted), float_imm(1, c), zero_of(c)))};
  };
  anchor.finalize = [=](const std::vector<Expr>&, const std::vector<Expr>& acc) -> Expected<Expr> {
    return is_max ? acc[0] : acc[0] / acc[1];
  };
  return anchor;
}

Expected<Anchor> reduce_anchor(const Op& op, Inliner& inl) {
  const Value* x = op.operand(0);
  const Shape &xs = x->type().shape, &out = op.result()->type().shape;
  OpKind kind = op.kind();
  DType dtype = x->type().dtype, c = compute_dtype(dtype);
  bool fp = is_float(c);
  if (kind == OpKind::ReduceLogSumExp || kind == OpKind::ArgMax || kind == OpKind::ArgMin)
    return op_error(op, "has no loop lowering; decompose it first (e.g. into reduce_max, sub, exp, reduce_sum, log)");
  if (!fp && (kind == OpKind::ReduceL2 || kind == OpKind::ReduceMean))
    return op_error(op, "on " + x->type().str() + " has no loop lowering (floats only)");
  std::vector<int64_t> axes_attr = op.attr().ints("axes");
  std::vector<bool> reduced(xs.size(), axes_attr.empty());
  for (int64_t a : axes_attr) {
    TESSEL_ASSIGN(int64_t axis, ops::normalize_axis(a, x->type().rank()));
    reduced[static_cast<size_t>(axis)] = true;
  }
  bool keepdims = op.attr().i("keepdims") != 0;
  Anchor anchor;
  for (size_t d = 0; d < out.size(); ++d) anchor.axes.push_back({"d" + std::to_string(d), out[d], false});
  anchor.num_spatial = out.size();
  Dim count = 1;
  for (size_t a = 0; a < xs.size(); ++a)
    if (reduced[a]) {
      anchor.axes.push_back({"r" + std::to_string(a), xs[a], true});
      count = count * xs[a];
    }
  Expr init = kind == OpKind::ReduceMax    ? lowest_of(c)
              : kind == OpKind::ReduceMin  ? highest_of(c)
              : kind == OpKind::ReduceProd ? (fp ? float_imm(1, c) : int_imm(1, c))
                                           : zero_of(c);
  anchor.accs = {{c, init}};
  size_t ns = anchor.num_spatial;
  anchor.update = [=, &inl](const std::vector<Expr>& ax, const std::vector<Expr>& acc) -> Expected<std::vector<Expr>> {
    std::vector<Expr> xi;
    size_t next_out = 0, next_red = ns;
    for (size_t a = 0; a < xs.size(); ++a) {
      if (reduced[a]) {
        xi.push_back(ax[next_red++]);
        if (keepdims) ++next_out;
      } else {
        xi.push_back(ax[next_out++]);
      }
    }
    TESSEL_ASSIGN(Expr v, inl.value_at(x, xi));
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

}  // namespace

bool is_anchor(const Op& op) {
  switch (op_info(op.kind()).family) {
    case OpFamily::MatMul:
    case OpFamily::Conv:
    case OpFamily::Pool:
    case OpFamily::Reduce: return true;
    default: return false;
  }
}

Status check_lowerable(const Op& op) {
  switch (op_info(op.kind()).family) {
    case OpFamily::Const:
    case OpFamily::Unary:
    case OpFamily::Binary:
    case OpFamily::Select:
    case OpFamily::Cast:
    case OpFamily::MatMul:
    case OpFamily::Pool:
    case OpFamily::Reduce: return Status::success();
    case OpFamily::Conv:
      if (op.kind() == OpKind::Conv) return Status::success();
      break;
    case OpFamily::Shape:
      if (op.kind() != OpKind::Range && op.kind() != OpKind::ShapeOf && op.kind() != OpKind::ScatterElements)
        return Status::success();
      break;
    default: break;
  }
  return op_error(op, "has no loop lowering; decompose it first");
}

Expected<Anchor> make_anchor(const Op& op, Inliner& inliner) {
  switch (op_info(op.kind()).family) {
    case OpFamily::MatMul: return op.kind() == OpKind::Gemm ? gemm_anchor(op, inliner) : matmul_anchor(op, inliner);
    case OpFamily::Conv: return conv_anchor(op, inliner);
    case OpFamily::Pool: return pool_anchor(op, inliner);
    case OpFamily::Reduce: return reduce_anchor(op, inliner);
    default: return op_error(op, "is not an anchor (internal lowering error)");
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
