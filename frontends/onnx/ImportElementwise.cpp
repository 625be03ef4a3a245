// Importers for elementwise ONNX ops: unary and binary math (one IR op each), variadic Sum/Mean/Max/Min
// (chains of binary ops), Where, Cast/CastLike, Clip, Identity and Constant.
#include <unordered_map>

#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

const std::unordered_map<std::string_view, OpKind> kUnary = {
    {"Abs", OpKind::Abs},
    {"Neg", OpKind::Neg},
    {"Sign", OpKind::Sign},
    {"Exp", OpKind::Exp},
    {"Log", OpKind::Log},
    {"Sqrt", OpKind::Sqrt},
    {"Reciprocal", OpKind::Reciprocal},
    {"Tanh", OpKind::Tanh},
    {"Sigmoid", OpKind::Sigmoid},
    {"Erf", OpKind::Erf},
    {"Relu", OpKind::Relu},
    {"Floor", OpKind::Floor},
    {"Ceil", OpKind::Ceil},
    {"Round", OpKind::Round},
    {"Sin", OpKind::Sin},
    {"Cos", OpKind::Cos},
    {"Tan", OpKind::Tan},
    {"Asin", OpKind::Asin},
    {"Acos", OpKind::Acos},
    {"Atan", OpKind::Atan},
    {"Sinh", OpKind::Sinh},
    {"Cosh", OpKind::Cosh},
    {"Asinh", OpKind::Asinh},
    {"Acosh", OpKind::Acosh},
    {"Atanh", OpKind::Atanh},
    {"Not", OpKind::Not},
    {"IsNaN", OpKind::IsNan},
};

const std::unordered_map<std::string_view, OpKind> kBinary = {
    {"Add", OpKind::Add},
    {"Sub", OpKind::Sub},
    {"Mul", OpKind::Mul},
    {"Div", OpKind::Div},
    {"Pow", OpKind::Pow},
    {"And", OpKind::And},
    {"Or", OpKind::Or},
    {"Xor", OpKind::Xor},
    {"Equal", OpKind::Equal},
    {"Less", OpKind::Less},
    {"LessOrEqual", OpKind::LessEqual},
    {"Greater", OpKind::Greater},
    {"GreaterOrEqual", OpKind::GreaterEqual},
};

}  // namespace

void import_unary(NodeContext& ctx) { ctx.set_output(0, ctx.op(kUnary.at(ctx.op_type()), {ctx.input(0)})); }

void import_is_inf(NodeContext& ctx) {
  AttrMap attrs{{"detect_negative", ctx.attr_i("detect_negative", 1)},
                {"detect_positive", ctx.attr_i("detect_positive", 1)}};
  ctx.set_output(0, ctx.op(OpKind::IsInf, {ctx.input(0)}, attrs));
}

// Opsets before 7 broadcast only with `broadcast=1`, aligning B with A at `axis` (default: the trailing
// axes); numpy broadcasting after padding B with trailing unit dims gives the same result.
Value* legacy_broadcast_operand(NodeContext& ctx, Value* a, Value* b) {
  if (!a || !b) return b;
  const TensorType &ta = a->type(), &tb = b->type();
  if (ctx.attr_i("broadcast", 0) == 0) {
    if (ta.shape != tb.shape)
      ctx.fail(make_error("{} (opset {}) without broadcast=1 needs equal shapes, got {} and {}", ctx.op_type(),
                          ctx.opset(), ta.str(), tb.str()));
    return b;
  }
  if (!ctx.has_attr("axis")) return b;
  int64_t axis = ctx.attr_i("axis", 0);
  if (axis < 0) axis += ta.rank();
  int64_t trailing = ta.rank() - axis - tb.rank();
  if (axis < 0 || trailing < 0) {
    ctx.fail(make_error("{}: legacy broadcast axis {} does not fit {} onto {}", ctx.op_type(), ctx.attr_i("axis", 0),
                        tb.str(), ta.str()));
    return b;
  }
  Shape padded = tb.shape;
  for (int64_t i = 0; i < trailing; ++i) padded.push_back(Dim(1));
  return trailing == 0 ? b : ctx.op(OpKind::Reshape, {b}, {{"shape", padded}});
}

void import_binary(NodeContext& ctx) {
  Value* b = ctx.input(1);
  if (ctx.opset() < 7) b = legacy_broadcast_operand(ctx, ctx.input(0), b);
  ctx.set_output(0, ctx.op(kBinary.at(ctx.op_type()), {ctx.input(0), b}));
}

void import_mod(NodeContext& ctx) {
  int64_t fmod = ctx.attr_i("fmod", 0);
  if (fmod == 0 && is_float(ctx.type(0).dtype)) {
    ctx.fail(make_error("Mod with fmod=0 is only defined for integers, got {} (use fmod=1)", ctx.type(0).str()));
    return;
  }
  ctx.set_output(0, ctx.op(OpKind::Mod, {ctx.input(0), ctx.input(1)}, {{"fmod", fmod}}));
}

void import_variadic(NodeContext& ctx) {
  if (ctx.num_inputs() == 0) {
    ctx.fail(make_error("{} needs at least one input", ctx.op_type()));
    return;
  }
  const std::string& type = ctx.op_type();
  OpKind kind = type == "Max" ? OpKind::Max : type == "Min" ? OpKind::Min : OpKind::Add;
  Value* result = ctx.input(0);
  for (int i = 1; i < ctx.num_inputs(); ++i) result = ctx.op(kind, {result, ctx.input(i)});
  if (type == "Mean" && result)
    result = ctx.op(OpKind::Div, {result, ctx.scalar(ctx.num_inputs(), result->type().dtype)});
  ctx.set_output(0, result);
}

void import_where(NodeContext& ctx) {
  ctx.set_output(0, ctx.op(OpKind::Where, {ctx.input(0), ctx.input(1), ctx.input(2)}));
}

namespace {

// Cast and CastLike: `saturate` (opset 19+) matters for float8 targets, `round_mode` (opset 24+) for E8M0.
void cast_to(NodeContext& ctx, Value* x, DType dtype) {
  if (!x) return;
  // A cast always makes a new value in ONNX; an IR cast to the same dtype would be an identity.
  if (x->type().dtype == dtype) {
    ctx.set_output(0, x);
    return;
  }
  AttrMap attrs{{"to", dtype}};
  if (ctx.attr_i("saturate", 1) != 1) attrs.emplace("saturate", ctx.attr_i("saturate", 1));
  if (ctx.attr_s("round_mode", "up") != "up") attrs.emplace("round_mode", ctx.attr_s("round_mode", "up"));
  ctx.set_output(0, ctx.op(OpKind::Cast, {x}, attrs));
}

}  // namespace

void import_cast(NodeContext& ctx) {
  int64_t to = ctx.attr_i("to", kOnnxUndefined);
  auto dtype = dtype_from_onnx(static_cast<int32_t>(to));
  if (!dtype) {
    ctx.fail_unsupported(make_error("cast to {}", unsupported_elem_type(static_cast<int32_t>(to))));
    return;
  }
  cast_to(ctx, ctx.input(0), *dtype);
}

void import_cast_like(NodeContext& ctx) {
  Value* target = ctx.input(1);
  if (!target) return;
  cast_to(ctx, ctx.input(0), target->type().dtype);
}

void import_clip(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  if (ctx.opset() < 11) {
    double lo = ctx.attr_f("min", -std::numeric_limits<double>::infinity());
    double hi = ctx.attr_f("max", std::numeric_limits<double>::infinity());
    ctx.set_output(0, ctx.op(OpKind::Clip, {x}, {{"min", lo}, {"max", hi}}));
    return;
  }
  // Bounds known at import time become attributes; others become max/min ops.
  auto lo = ctx.has_input(1) ? ctx.constant_scalar(1) : std::optional<double>(-std::numeric_limits<double>::infinity());
  auto hi = ctx.has_input(2) ? ctx.constant_scalar(2) : std::optional<double>(std::numeric_limits<double>::infinity());
  if (lo && hi && is_float(x->type().dtype)) {
    ctx.set_output(0, ctx.op(OpKind::Clip, {x}, {{"min", *lo}, {"max", *hi}}));
    return;
  }
  Value* result = x;
  if (ctx.has_input(1)) result = ctx.op(OpKind::Max, {result, ctx.input(1)});
  if (ctx.has_input(2)) result = ctx.op(OpKind::Min, {result, ctx.input(2)});
  ctx.set_output(0, result);
}

void import_identity(NodeContext& ctx) { ctx.set_output(0, ctx.input(0)); }

void import_constant(NodeContext& ctx) {
  const auto& node = ctx.node();
  if (node.attribute_size() != 1) {
    ctx.fail(make_error("Constant needs exactly one value attribute, got {}", node.attribute_size()));
    return;
  }
  const std::string& name = node.attribute(0).name();
  std::optional<Tensor> value;
  if (name == "value") {
    value = ctx.attr_tensor("value");
  } else if (name == "value_float") {
    value = Tensor::of<float>({}, {static_cast<float>(ctx.attr_f(name, 0))});
  } else if (name == "value_floats") {
    auto floats = ctx.attr_floats(name);
    value = Tensor::from_doubles(DType::F32, {static_cast<int64_t>(floats.size())}, floats);
  } else if (name == "value_int") {
    value = Tensor::of<int64_t>({}, {ctx.attr_i(name, 0)});
  } else if (name == "value_ints") {
    auto ints = ctx.attr_ints(name);
    value = Tensor::of<int64_t>({static_cast<int64_t>(ints.size())}, ints);
  } else {
    ctx.fail_unsupported(
        make_error("Constant with attribute '{}' is not supported (Tessel has no string or sparse "
                   "tensors)",
                   name));
    return;
  }
  if (!value) return;
  ctx.set_output(0, ctx.constant(std::move(*value), ctx.has_output(0) ? node.output(0) : "constant"));
}

}  // namespace tessel::onnx

namespace tessel::onnx {

// BitShift on unsigned integers: x * 2^y (LEFT, wrapping) or x / 2^y (RIGHT, truncating), with 2^y read
// from a table of the type's powers of two; shifts of the full width or more give 0 (the table holds 0
// there, and the IR's integer division by 0 is 0).
void import_bit_shift(NodeContext& ctx) {
  Value *x = ctx.input(0), *y = ctx.input(1);
  if (!x || !y) return;
  DType dtype = x->type().dtype;
  if (dtype != DType::U8 && dtype != DType::U16 && dtype != DType::U32 && dtype != DType::U64)
    return (void)ctx.fail(make_error("BitShift needs an unsigned integer type, got {}", x->type().str()));
  std::string direction = ctx.attr_s("direction");
  if (direction != "LEFT" && direction != "RIGHT")
    return (void)ctx.fail(make_error("BitShift direction must be LEFT or RIGHT, got '{}'", direction));
  int64_t bits = static_cast<int64_t>(dtype_size(dtype)) * 8;
  Tensor powers(dtype, {65});
  for (int64_t i = 0; i < bits; ++i) powers.set_int(i, int64_t(uint64_t{1} << i));
  Value* shift = ctx.op(OpKind::Clip, {ctx.cast(y, DType::I64)}, {{"min", 0.0}, {"max", 64.0}});
  Value* factor = ctx.op(OpKind::Gather, {ctx.constant(powers, "powers_of_two"), shift}, {{"axis", int64_t{0}}});
  ctx.set_output(0, ctx.op(direction == "LEFT" ? OpKind::Mul : OpKind::Div, {x, factor}));
}

// BitwiseAnd/Or/Xor/Not: the IR's and/or/xor/not, which are bitwise on integers.
void import_bitwise(NodeContext& ctx) {
  const std::string& type = ctx.op_type();
  Value* x = ctx.input(0);
  if (!x) return;
  if (!is_integer(x->type().dtype))
    return (void)ctx.fail(make_error("{} needs an integer type, got {}", type, x->type().str()));
  if (type == "BitwiseNot") return ctx.set_output(0, ctx.op(OpKind::Not, {x}));
  OpKind kind = type == "BitwiseAnd" ? OpKind::And : type == "BitwiseOr" ? OpKind::Or : OpKind::Xor;
  ctx.set_output(0, ctx.op(kind, {x, ctx.input(1)}));
}

void import_bitcast(NodeContext& ctx) {
  int64_t to = ctx.attr_i("to", kOnnxUndefined);
  auto dtype = dtype_from_onnx(static_cast<int32_t>(to));
  if (!dtype)
    return (void)ctx.fail_unsupported(make_error("BitCast to {}", unsupported_elem_type(static_cast<int32_t>(to))));
  ctx.set_output(0, ctx.op(OpKind::Bitcast, {ctx.input(0)}, {{"to", *dtype}}));
}

}  // namespace tessel::onnx
