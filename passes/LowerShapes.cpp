// Injective tensor ops in the lowering: each maps an index of its result to an index of its input
// (reshape through the flat offset, transpose by permutation, slice by start + i * step, gather through
// a loaded index, concat and pad through selects with clamped, always-in-bounds reads). Out-of-range
// gather indices are clamped here (the interpreter reports them; compiled code must not read outside).
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

namespace {

/// ONNX Slice start and step on a constant dim (as the interpreter's clamp_window).
std::pair<int64_t, int64_t> slice_start(int64_t start, int64_t step, int64_t dim) {
  if (dim == 0) return {0, step};
  if (start < 0) start += dim;
  start = step > 0 ? std::clamp<int64_t>(start, 0, dim) : std::clamp<int64_t>(start, 0, dim - 1);
  return {start, step};
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
      return value_at(x, unflatten(flat_index(index, out), in));
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
      if (mode != "constant" && mode != "edge")
        return op_error(op, "with mode '" + mode + "' has no loop lowering (constant and edge do)");
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
    default: return op_error(op, "has no loop lowering; decompose it first");
  }
}

}  // namespace tessel::lower
