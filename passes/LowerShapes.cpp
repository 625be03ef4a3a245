// Injective tensor ops in the lowering: each maps an index of its result to an index of its input
// (reshape through the flat offset, transpose by permutation, slice by start + i * step, gather through
// a loaded index, concat and pad through selects with clamped, always-in-bounds reads, reflect and wrap
// pads through modular index arithmetic). Out-of-range gather indices are clamped here (the interpreter
// reports them; compiled code must not read outside).
#include <algorithm>

#include "ir/loop/Transforms.h"
#include "ir/ops/OpUtil.h"
#include "passes/LowerImpl.h"

namespace tessel::lower {

using namespace loop;  // NOLINT

namespace {

Expr clamp(const Expr& e, const Expr& lo, const Expr& hi) { return max(min(e, hi), lo); }

}  // namespace

std::vector<Expr> unflatten(Expr flat, const Shape& shape) {
  std::vector<Expr> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    Expr dim = dim_expr(shape[d]);
    index[d] = d == 0 ? flat : flat % dim;
    flat = flat / dim;
  }
  return index;
}

std::vector<Expr> reshape_index(const std::vector<Expr>& index, const Shape& from, const Shape& to) {
  auto whole = [&] { return unflatten(flat_index(index, from), to); };
  std::vector<Expr> out;
  size_t i = 0, j = 0;
  while (i < from.size() && j < to.size()) {
    if (from[i] == to[j]) {
      out.push_back(index[i++]);
      ++j;
      continue;
    }
    // A run of constant dims on each side with the same product.
    size_t i0 = i, j0 = j;
    auto a = from[i++].as_const(), b = to[j++].as_const();
    if (!a || !b) return whole();
    int64_t pa = *a, pb = *b;
    auto grow = [](const Shape& shape, size_t& k, int64_t& product) {
      if (k >= shape.size() || !shape[k].as_const() || product == 0) return false;
      product *= *shape[k++].as_const();
      return true;
    };
    while (pa != pb)
      if (!(pa < pb ? grow(from, i, pa) : grow(to, j, pb))) return whole();
    Shape from_run(from.begin() + static_cast<std::ptrdiff_t>(i0), from.begin() + static_cast<std::ptrdiff_t>(i));
    Shape to_run(to.begin() + static_cast<std::ptrdiff_t>(j0), to.begin() + static_cast<std::ptrdiff_t>(j));
    std::vector<Expr> run(index.begin() + static_cast<std::ptrdiff_t>(i0),
                          index.begin() + static_cast<std::ptrdiff_t>(i));
    for (Expr& e : unflatten(flat_index(run, from_run), to_run)) out.push_back(e);
  }
  // Trailing dims of size 1.
  for (; i < from.size(); ++i)
    if (!(from[i] == Dim(1))) return whole();
  for (; j < to.size(); ++j) {
    if (!(to[j] == Dim(1))) return whole();
    out.push_back(int_imm(0));
  }
  return out;
}

namespace {

/// ONNX Slice start and step on a constant dim (as the interpreter's clamp_window).
std::pair<int64_t, int64_t> slice_start(int64_t start, int64_t step, int64_t dim) {
  if (dim == 0) return {0, step};
  if (start < 0) start += dim;
  start = step > 0 ? std::clamp<int64_t>(start, 0, dim) : std::clamp<int64_t>(start, 0, dim - 1);
  return {start, step};
}

/// Floor modulo (the result has the sign of the positive divisor); 0 for a zero divisor.
Expr floor_mod(const Expr& a, const Expr& b) { return (a % b + b) % b; }

/// The input index read by pad modes reflect and wrap at result index `index` (as the interpreter's
/// pad_axis_sources): negative pads crop first, and the kept part of each axis, [low, low + kept), is
/// then reflected without repeating its edge (period 2*(kept - 1)) or repeated (period kept).
std::vector<Expr> mirrored_index(const Shape& in, const std::vector<int64_t>& pads, bool wrap,
                                 const std::vector<Expr>& index) {
  std::vector<Expr> sub;
  for (size_t d = 0; d < in.size(); ++d) {
    int64_t begin = pads[d], end = pads[d + in.size()];
    int64_t low = std::max<int64_t>(0, -begin);
    if (begin <= 0 && end <= 0) {  // cropping only
      sub.push_back(index[d] + int_imm(low));
      continue;
    }
    Expr kept = simplify(dim_expr(in[d]) - int_imm(low + std::max<int64_t>(0, -end)));
    Expr i = index[d] - int_imm(std::max<int64_t>(0, begin));
    Expr pos;
    if (wrap) {
      pos = floor_mod(i, kept);
    } else {
      Expr period = simplify(int_imm(2) * (kept - int_imm(1)));
      Expr m = floor_mod(i, period);
      pos = select(m < kept, m, period - m);
    }
    sub.push_back(simplify(int_imm(low) + pos));
  }
  return sub;
}

}  // namespace

Expected<Expr> Inliner::shape_op_at(const Op& op, const Value* v, const std::vector<Expr>& index) {
  const Value* x = op.operand(0);
  const Shape& in = x->type().shape;
  const Shape& out = v->type().shape;
  const int64_t rank = x->type().rank();
  AttrReader attrs = op.attr();
  switch (op.kind()) {
    case OpKind::Reshape:
    case OpKind::Squeeze:
    case OpKind::Unsqueeze: {
      if (in == out) return value_at(x, index);
      return value_at(x, reshape_index(index, out, in));
    }
    case OpKind::Expand: {
      size_t offset = index.size() - in.size();
      std::vector<Expr> sub;
      for (size_t d = 0; d < in.size(); ++d) sub.push_back(in[d] == Dim(1) ? int_imm(0) : index[offset + d]);
      return value_at(x, sub);
    }
    case OpKind::Transpose: {
      std::vector<int64_t> perm = attrs.ints("perm");
      if (perm.empty())
        for (int64_t d = rank - 1; d >= 0; --d) perm.push_back(d);
      std::vector<Expr> sub(static_cast<size_t>(rank));
      for (size_t d = 0; d < perm.size(); ++d) {
        TESSEL_ASSIGN(int64_t axis, ops::normalize_axis(perm[d], rank));
        sub[static_cast<size_t>(axis)] = index[d];
      }
      return value_at(x, sub);
    }
    case OpKind::Tile: {
      std::vector<Expr> sub;
      for (size_t d = 0; d < in.size(); ++d) sub.push_back(index[d] % dim_expr(in[d]));
      return value_at(x, sub);
    }
    case OpKind::Slice: {
      std::vector<Expr> sub = index;
      const auto& starts = attrs.ints("starts");
      std::vector<int64_t> axes = attrs.ints("axes"), steps = attrs.ints("steps");
      for (size_t i = 0; i < starts.size(); ++i) {
        TESSEL_ASSIGN(int64_t axis, ops::normalize_axis(axes.empty() ? static_cast<int64_t>(i) : axes[i], rank));
        auto dim = in[static_cast<size_t>(axis)].as_const();
        if (!dim)
          return op_error(op, "slices symbolic axis " + std::to_string(axis) + " of " + x->type().str() +
                                  ", which lowering supports only for constant dims");
        auto [start, step] = slice_start(starts[i], steps.empty() ? 1 : steps[i], *dim);
        sub[static_cast<size_t>(axis)] = int_imm(start) + index[static_cast<size_t>(axis)] * int_imm(step);
      }
      return value_at(x, sub);
    }
    case OpKind::Gather:
    case OpKind::GatherElements: {
      TESSEL_ASSIGN(int64_t axis, ops::normalize_axis(attrs.i("axis"), rank));
      const Value* indices = op.operand(1);
      size_t a = static_cast<size_t>(axis), ri = static_cast<size_t>(indices->type().rank());
      bool elements = op.kind() == OpKind::GatherElements;
      std::vector<Expr> idx_index = elements ? index : std::vector<Expr>(index.begin() + a, index.begin() + a + ri);
      TESSEL_ASSIGN(Expr raw, value_at(indices, idx_index));
      Expr i = raw->type.elem == DType::I64 ? raw : cast(i64_type(), raw);
      Expr dim = dim_expr(in[a]);
      i = clamp(select(i < int_imm(0), i + dim, i), int_imm(0), dim - int_imm(1));
      std::vector<Expr> sub;
      if (elements) {
        sub = index;
        sub[a] = i;
      } else {
        sub.assign(index.begin(), index.begin() + a);
        sub.push_back(i);
        sub.insert(sub.end(), index.begin() + a + ri, index.end());
      }
      return value_at(x, sub);
    }
    case OpKind::Concat: {
      TESSEL_ASSIGN(int64_t axis, ops::normalize_axis(attrs.i("axis"), rank));
      size_t a = static_cast<size_t>(axis);
      Expr offset = int_imm(0);
      Expr result;
      std::vector<std::pair<Expr, Expr>> pieces;  // (end offset, value)
      for (size_t k = 0; k < op.num_operands(); ++k) {
        const Value* part = op.operand(k);
        // An empty piece has no element to read, even at a clamped index (a symbolic dim that is 0 at
        // run time is not caught here: its clamped read would be out of bounds).
        if (part->type().shape[a] == Dim(0) && !(k + 1 == op.num_operands() && pieces.empty())) continue;
        Expr size = dim_expr(part->type().shape[a]);
        std::vector<Expr> sub = index;
        sub[a] = clamp(index[a] - offset, int_imm(0), max(size - int_imm(1), int_imm(0)));
        TESSEL_ASSIGN(Expr value, value_at(part, sub));
        offset = simplify(offset + size);
        pieces.emplace_back(offset, value);
      }
      result = pieces.back().second;
      for (size_t k = pieces.size() - 1; k-- > 0;)
        result = select(index[a] < pieces[k].first, pieces[k].second, result);
      return result;
    }
    case OpKind::Pad: {
      const auto& pads = attrs.ints("pads");
      const std::string& mode = attrs.s("mode");
      if (mode == "reflect" || mode == "wrap") return value_at(x, mirrored_index(in, pads, mode == "wrap", index));
      if (mode != "constant" && mode != "edge")
        return op_error(op, "with mode '" + mode + "' has no loop lowering (constant, edge, reflect and wrap do)");
      std::vector<Expr> sub;
      Expr inside = bool_imm(true);
      for (size_t d = 0; d < in.size(); ++d) {
        Expr p = index[d] - int_imm(pads[d]);
        Expr dim = dim_expr(in[d]);
        if (pads[d] > 0) inside = inside && p >= int_imm(0);
        if (pads[d + in.size()] > 0) inside = inside && p < dim;
        sub.push_back(clamp(p, int_imm(0), dim - int_imm(1)));
      }
      TESSEL_ASSIGN(Expr value, value_at(x, sub));
      if (mode == "edge") return value;
      DType c = value->type.elem;
      double fill = attrs.f("value");
      Expr fill_value = is_float(c) ? float_imm(fill, c) : int_imm(static_cast<int64_t>(fill), c);
      return simplify(select(inside, value, fill_value));
    }
    case OpKind::Split: {
      TESSEL_ASSIGN(int64_t axis, ops::normalize_axis(attrs.i("axis"), rank));
      Expr offset = int_imm(0);
      for (size_t k = 0; k < op.num_results() && op.result(k) != v; ++k)
        offset = offset + dim_expr(op.result(k)->type().shape[static_cast<size_t>(axis)]);
      std::vector<Expr> sub = index;
      sub[static_cast<size_t>(axis)] = index[static_cast<size_t>(axis)] + offset;
      return value_at(x, sub);
    }
    case OpKind::Range: return range_at(op, index[0]);
    case OpKind::ShapeOf: {
      // ONNX Shape-15 bounds: negative ones count from the end, then both clamp to [0, rank].
      auto bound = [rank](int64_t b) { return std::min(b < 0 ? std::max<int64_t>(b + rank, 0) : b, rank); };
      int64_t first = bound(attrs.i("start")), last = std::max(first, bound(attrs.i("end")));
      if (last == first) return int_imm(0);  // an empty result: never read
      Expr result = dim_expr(in[static_cast<size_t>(last - 1)]);
      for (int64_t a = last - 1; a-- > first;)
        result = select(eq(index[0], int_imm(a - first)), dim_expr(in[static_cast<size_t>(a)]), result);
      return result;
    }
    default: return op_error(op, "has no loop lowering; decompose it first");
  }
}

Expected<Expr> Inliner::range_at(const Op& op, const Expr& i) {
  // start + i * delta: floats in f64 rounded once to the dtype, integers wrapping in the dtype (as the
  // interpreter). The element count is the result type's; the interpreter checks it against the operands.
  TESSEL_ASSIGN(Expr start, value_at(op.operand(0), {}));
  TESSEL_ASSIGN(Expr delta, value_at(op.operand(2), {}));
  DType dtype = op.result()->type().dtype, c = start->type.elem;
  if (!is_float(c)) return start + cast(Type{c}, i) * delta;
  Type f64{DType::F64};
  Expr wide = cast(f64, start) + cast(f64, i) * cast(f64, delta);
  return cast(Type{c}, compute_dtype(dtype) == dtype ? wide : cast(Type{dtype}, wide));
}

}  // namespace tessel::lower
