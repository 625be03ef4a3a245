// Importers for ONNX activations. LeakyRelu and Gelu map to IR ops; the rest are compositions of IR
// primitives (docs/ir.md keeps the op set small), each written as the formula in the ONNX spec.
#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

// A scalar constant with the dtype of `like`.
Value* scalar_like(NodeContext& ctx, double value, Value* like) {
  return like ? ctx.scalar(value, like->type().dtype) : nullptr;
}

// alpha * (exp(x) - 1), the negative branch of Elu and Selu.
Value* exp_minus_one(NodeContext& ctx, Value* x, double alpha) {
  Value* em1 = ctx.op(OpKind::Sub, {ctx.op(OpKind::Exp, {x}), scalar_like(ctx, 1, x)});
  return ctx.op(OpKind::Mul, {scalar_like(ctx, alpha, x), em1});
}

Value* positive(NodeContext& ctx, Value* x) { return ctx.op(OpKind::Greater, {x, scalar_like(ctx, 0, x)}); }

Value* softplus(NodeContext& ctx, Value* x) {
  return ctx.op(OpKind::Log, {ctx.op(OpKind::Add, {ctx.op(OpKind::Exp, {x}), scalar_like(ctx, 1, x)})});
}

// Binds output 0 to `body(x)` for input 0. A composition over f16/bf16 computes in f32 and rounds once
// at the end, as the ONNX reference (and a fused kernel) does, instead of rounding after every step.
template <typename Body>
void composite(NodeContext& ctx, Body body) {
  Value* x = ctx.input(0);
  if (!x) return;
  DType dtype = x->type().dtype;
  bool narrow = dtype == DType::F16 || dtype == DType::BF16;
  Value* y = body(narrow ? ctx.cast(x, DType::F32) : x);
  ctx.set_output(0, narrow ? ctx.cast(y, dtype) : y);
}

}  // namespace

void import_leaky_relu(NodeContext& ctx) {
  ctx.set_output(0, ctx.op(OpKind::LeakyRelu, {ctx.input(0)}, {{"alpha", ctx.attr_f("alpha", 0.01)}}));
}

// Elu: x if x > 0 else alpha * (exp(x) - 1).
void import_elu(NodeContext& ctx) {
  composite(ctx, [&](Value* x) {
    double alpha = ctx.attr_f("alpha", 1.0);
    return ctx.op(OpKind::Where, {positive(ctx, x), x, exp_minus_one(ctx, x, alpha)});
  });
}

// Selu: gamma * (x if x > 0 else alpha * (exp(x) - 1)).
void import_selu(NodeContext& ctx) {
  composite(ctx, [&](Value* x) {
    double alpha = ctx.attr_f("alpha", 1.67326319217681884765625);
    double gamma = ctx.attr_f("gamma", 1.05070102214813232421875);
    Value* elu = ctx.op(OpKind::Where, {positive(ctx, x), x, exp_minus_one(ctx, x, alpha)});
    return ctx.op(OpKind::Mul, {scalar_like(ctx, gamma, x), elu});
  });
}

// Celu: max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).
void import_celu(NodeContext& ctx) {
  composite(ctx, [&](Value* x) {
    double alpha = ctx.attr_f("alpha", 1.0);
    Value* zero = scalar_like(ctx, 0, x);
    Value* scaled = ctx.op(OpKind::Div, {x, scalar_like(ctx, alpha, x)});
    Value* negative = ctx.op(OpKind::Min, {zero, exp_minus_one(ctx, scaled, alpha)});
    return ctx.op(OpKind::Add, {ctx.op(OpKind::Max, {zero, x}), negative});
  });
}

// HardSigmoid: max(0, min(1, alpha * x + beta)).
void import_hard_sigmoid(NodeContext& ctx) {
  composite(ctx, [&](Value* x) {
    Value* linear = ctx.op(OpKind::Add, {ctx.op(OpKind::Mul, {x, scalar_like(ctx, ctx.attr_f("alpha", 0.2), x)}),
                                         scalar_like(ctx, ctx.attr_f("beta", 0.5), x)});
    return ctx.op(OpKind::Clip, {linear}, {{"min", 0.0}, {"max", 1.0}});
  });
}

// HardSwish: x * max(0, min(1, x / 6 + 0.5)).
void import_hard_swish(NodeContext& ctx) {
  composite(ctx, [&](Value* x) {
    Value* linear =
        ctx.op(OpKind::Add, {ctx.op(OpKind::Mul, {x, scalar_like(ctx, 1.0 / 6.0, x)}), scalar_like(ctx, 0.5, x)});
    return ctx.op(OpKind::Mul, {x, ctx.op(OpKind::Clip, {linear}, {{"min", 0.0}, {"max", 1.0}})});
  });
}

// Softplus: log(exp(x) + 1).
void import_softplus(NodeContext& ctx) {
  composite(ctx, [&](Value* x) { return softplus(ctx, x); });
}

// Softsign: x / (1 + |x|).
void import_softsign(NodeContext& ctx) {
  composite(ctx, [&](Value* x) {
    Value* denominator = ctx.op(OpKind::Add, {ctx.op(OpKind::Abs, {x}), scalar_like(ctx, 1, x)});
    return ctx.op(OpKind::Div, {x, denominator});
  });
}

// ThresholdedRelu: x if x > alpha else 0.
void import_thresholded_relu(NodeContext& ctx) {
  composite(ctx, [&](Value* x) {
    Value* above = ctx.op(OpKind::Greater, {x, scalar_like(ctx, ctx.attr_f("alpha", 1.0), x)});
    return ctx.op(OpKind::Where, {above, x, scalar_like(ctx, 0, x)});
  });
}

// Before opset 7, a 1-D slope holds one value per channel (axis 1) rather than broadcasting numpy-style.
Value* legacy_channel_slope(NodeContext& ctx, Value* x, Value* slope) {
  if (!x || !slope || ctx.opset() >= 7 || slope->type().rank() != 1 || x->type().rank() < 3) return slope;
  Shape per_channel{slope->type().shape[0]};
  for (int64_t i = 2; i < x->type().rank(); ++i) per_channel.push_back(Dim(1));
  return ctx.op(OpKind::Reshape, {slope}, {{"shape", per_channel}});
}

// PRelu: slope * x if x < 0 else x (slope broadcasts to x).
void import_prelu(NodeContext& ctx) {
  composite(ctx, [&](Value* x) {
    Value* slope = ctx.cast(legacy_channel_slope(ctx, x, ctx.input(1)), x->type().dtype);
    Value* negative = ctx.op(OpKind::Less, {x, scalar_like(ctx, 0, x)});
    return ctx.op(OpKind::Where, {negative, ctx.op(OpKind::Mul, {x, slope}), x});
  });
}

// Shrink: x + bias if x < -lambd, x - bias if x > lambd, else 0.
void import_shrink(NodeContext& ctx) {
  composite(ctx, [&](Value* x) {
    double bias = ctx.attr_f("bias", 0.0), lambd = ctx.attr_f("lambd", 0.5);
    Value* below = ctx.op(OpKind::Less, {x, scalar_like(ctx, -lambd, x)});
    Value* above = ctx.op(OpKind::Greater, {x, scalar_like(ctx, lambd, x)});
    Value* upper =
        ctx.op(OpKind::Where, {above, ctx.op(OpKind::Sub, {x, scalar_like(ctx, bias, x)}), scalar_like(ctx, 0, x)});
    return ctx.op(OpKind::Where, {below, ctx.op(OpKind::Add, {x, scalar_like(ctx, bias, x)}), upper});
  });
}

// Mish: x * tanh(softplus(x)).
void import_mish(NodeContext& ctx) {
  composite(ctx, [&](Value* x) { return ctx.op(OpKind::Mul, {x, ctx.op(OpKind::Tanh, {softplus(ctx, x)})}); });
}

void import_gelu(NodeContext& ctx) {
  std::string approximate = ctx.attr_s("approximate", "none");
  if (approximate != "none" && approximate != "tanh") {
    ctx.fail(make_error("Gelu approximate must be 'none' or 'tanh', got '{}'", approximate));
    return;
  }
  ctx.set_output(0, ctx.op(OpKind::Gelu, {ctx.input(0)}, {{"approximate", approximate}}));
}

// SwiGLU: a * sigmoid(alpha * a) * b (a and b of one shape).
void import_swiglu(NodeContext& ctx) {
  Value* b = ctx.input(1);
  composite(ctx, [&](Value* a) {
    Value* gate = ctx.op(OpKind::Sigmoid, {ctx.op(OpKind::Mul, {a, scalar_like(ctx, ctx.attr_f("alpha", 1.0), a)})});
    return ctx.op(OpKind::Mul, {ctx.op(OpKind::Mul, {a, gate}), ctx.cast(b, a ? a->type().dtype : DType::F32)});
  });
}

// Swish: x * sigmoid(alpha * x).
void import_swish(NodeContext& ctx) {
  composite(ctx, [&](Value* x) {
    Value* scaled = ctx.op(OpKind::Mul, {x, scalar_like(ctx, ctx.attr_f("alpha", 1.0), x)});
    return ctx.op(OpKind::Mul, {x, ctx.op(OpKind::Sigmoid, {scaled})});
  });
}

}  // namespace tessel::onnx
