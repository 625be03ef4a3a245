// Op classes and the pairwise fusion rules (see FusionRules.h).
#include "passes/FusionRules.h"

#include <algorithm>

#include "ir/DType.h"
#include "ir/OpTable.h"

namespace tessel::fusion {
namespace {

// Low-precision values enter kernels only through the ops that accept them (ir/OpTable.h
// admits_storage_dtype), which move their bytes or cast them (the loop IR spells the conversions out,
// ir/loop/LowPrecisionExpr.h); strings never do.
bool touches_storage_dtype(const Op& op) {
  auto storage = [&](const Value* value) {
    if (!value) return false;
    DType dtype = value->type().dtype;
    return dtype == DType::String || (is_low_precision(dtype) && !admits_storage_dtype(op.kind(), dtype));
  };
  return std::any_of(op.operands().begin(), op.operands().end(), storage) ||
         std::any_of(op.results().begin(), op.results().end(), storage);
}

OpClass shape_class(OpKind kind) {
  switch (kind) {
    case OpKind::ScatterElements:
    case OpKind::Range:
    case OpKind::ShapeOf: return OpClass::Opaque;
    default: return OpClass::Injective;
  }
}

int64_t normalize_axis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

bool all_equal(const std::vector<int64_t>& values, int64_t expected) {
  return std::all_of(values.begin(), values.end(), [&](int64_t v) { return v == expected; });
}

}  // namespace

OpClass op_class(const Op& op) {
  if (op.kind() == OpKind::Const) return OpClass::Const;
  if (op.kind() == OpKind::Kernel || touches_storage_dtype(op)) return OpClass::Sealed;
  switch (op.info().family) {
    case OpFamily::Const: return OpClass::Const;
    case OpFamily::Unary:
    case OpFamily::Binary:
    case OpFamily::Select:
    case OpFamily::Cast: return OpClass::Elementwise;
    case OpFamily::Shape: return shape_class(op.kind());
    case OpFamily::Reduce:
    case OpFamily::Norm: return OpClass::Reduction;
    case OpFamily::MatMul: return OpClass::Contraction;
    case OpFamily::Conv: return OpClass::Conv;
    case OpFamily::Pool: return OpClass::Pool;
    case OpFamily::Recurrent:
    case OpFamily::Ml: return OpClass::Opaque;
    case OpFamily::Kernel:
    case OpFamily::String: return OpClass::Sealed;
  }
  return OpClass::Opaque;
}

std::string_view op_class_name(OpClass op_class) {
  switch (op_class) {
    case OpClass::Const: return "const";
    case OpClass::Elementwise: return "elementwise";
    case OpClass::Injective: return "injective";
    case OpClass::Reduction: return "reduction";
    case OpClass::Contraction: return "contraction";
    case OpClass::Conv: return "conv";
    case OpClass::Pool: return "pool";
    case OpClass::Opaque: return "opaque";
    case OpClass::Sealed: return "sealed";
  }
  return "?";
}

bool is_anchor(OpClass op_class) {
  switch (op_class) {
    case OpClass::Reduction:
    case OpClass::Contraction:
    case OpClass::Conv:
    case OpClass::Pool:
    case OpClass::Opaque: return true;
    default: return false;
  }
}

bool allows_prologue(OpClass anchor, const Op& op) {
  OpClass cls = op_class(op);
  switch (anchor) {
    case OpClass::Reduction: return cls == OpClass::Elementwise || cls == OpClass::Injective;
    case OpClass::Contraction:
    case OpClass::Conv:
    case OpClass::Pool: return cls == OpClass::Injective || op.kind() == OpKind::Cast;
    default: return false;
  }
}

std::vector<int64_t> reduction_axes(const Op& op) {
  int64_t rank = op.operand(0) ? op.operand(0)->type().rank() : 0;
  std::vector<int64_t> axes;
  switch (op.kind()) {
    case OpKind::ArgMax:
    case OpKind::ArgMin:
    case OpKind::Softmax:
    case OpKind::LogSoftmax: axes = {normalize_axis(op.attr().i("axis"), rank)}; break;
    case OpKind::LayerNorm:
      for (int64_t axis = normalize_axis(op.attr().i("axis"), rank); axis < rank; ++axis) axes.push_back(axis);
      break;
    default:
      for (int64_t axis : op.attr().ints("axes")) axes.push_back(normalize_axis(axis, rank));
      if (axes.empty())  // axes=[] reduces every axis
        for (int64_t axis = 0; axis < rank; ++axis) axes.push_back(axis);
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

bool same_reduction_domain(const Op& a, const Op& b) {
  if (op_class(a) != OpClass::Reduction || op_class(b) != OpClass::Reduction) return false;
  if (!a.operand(0) || !b.operand(0) || a.operand(0)->type().shape != b.operand(0)->type().shape) return false;
  return reduction_axes(a) == reduction_axes(b);
}

bool pool_fusable_after_conv(const Op& pool) {
  if (op_class(pool) != OpClass::Pool || pool.num_results() != 1) return false;
  AttrReader attrs = pool.attr();
  const auto& kernel = attrs.ints("kernel");
  return !kernel.empty() && attrs.ints("strides") == kernel && all_equal(attrs.ints("pads"), 0) &&
         all_equal(attrs.ints("dilations"), 1) && attrs.i("ceil_mode") == 0;
}

}  // namespace tessel::fusion
