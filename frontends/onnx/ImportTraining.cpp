// The optimizers of the ai.onnx.preview.training domain (Adagrad, Momentum, Adam) as compositions,
// formula for formula as in the ONNX spec: one update per (X, G, state...) group, all sharing the learning
// rate R and the step count T. Conditions on T (Momentum's and Adam's first step) are `where`s, so T may
// be a run-time input.
#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

struct Common {
  Value* rate = nullptr;      ///< R in the parameters' dtype
  Value* steps = nullptr;     ///< T in the parameters' dtype
  Value* positive = nullptr;  ///< T > 0
  int groups = 0;
};

// Reads R and T and checks that the remaining inputs form `per_group` equal groups.
std::optional<Common> common(NodeContext& ctx, int per_group) {
  int rest = ctx.num_inputs() - 2;
  Value* first = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
  if (rest <= 0 || rest % per_group != 0 || !first) {
    ctx.fail(make_error("{} takes R, T and {} equal groups of tensors, got {} inputs", ctx.op_type(), per_group,
                        ctx.num_inputs()));
    return std::nullopt;
  }
  DType dtype = first->type().dtype;
  Value* t = ctx.input(1);
  Common c{ctx.cast(ctx.input(0), dtype), ctx.cast(t, dtype), nullptr, rest / per_group};
  c.positive = t ? ctx.op(OpKind::Greater, {t, ctx.scalar(0, t->type().dtype)}) : nullptr;
  return c;
}

Value* s(NodeContext& ctx, double value, const Value* like) {
  return like ? ctx.scalar(value, like->type().dtype) : nullptr;
}

// norm_coefficient * x + g.
Value* regularized(NodeContext& ctx, Value* x, Value* g) {
  return ctx.op(OpKind::Add, {ctx.op(OpKind::Mul, {s(ctx, ctx.attr_f("norm_coefficient", 0.0), x), x}), g});
}

}  // namespace

// Adagrad: r = R / (1 + T * decay); g' = reg(g); H' = H + g'^2; X' = X - r * g' / (sqrt(H') + epsilon).
void import_adagrad(NodeContext& ctx) {
  auto c = common(ctx, 3);
  if (!c) return;
  Value* one = s(ctx, 1, c->rate);
  Value* r = ctx.op(
      OpKind::Div,
      {c->rate,
       ctx.op(OpKind::Add, {one, ctx.op(OpKind::Mul, {c->steps, s(ctx, ctx.attr_f("decay_factor", 0.0), c->rate)})})});
  for (int i = 0; i < c->groups; ++i) {
    Value *x = ctx.input(2 + i), *g = ctx.input(2 + c->groups + i), *h = ctx.input(2 + 2 * c->groups + i);
    Value* gr = regularized(ctx, x, g);
    Value* h_new = ctx.op(OpKind::Add, {h, ctx.op(OpKind::Mul, {gr, gr})});
    Value* denominator = ctx.op(OpKind::Add, {ctx.op(OpKind::Sqrt, {h_new}), s(ctx, ctx.attr_f("epsilon", 0.0), x)});
    ctx.set_output(i, ctx.op(OpKind::Sub, {x, ctx.op(OpKind::Div, {ctx.op(OpKind::Mul, {r, gr}), denominator})}));
    ctx.set_output(c->groups + i, h_new);
  }
}

// Momentum: g' = reg(g); V' = alpha * V + (T > 0 ? beta : 1) * g'; X' = X - R * V' (standard) or
// X - R * (g' + alpha * V') (nesterov).
void import_momentum(NodeContext& ctx) {
  auto c = common(ctx, 3);
  if (!c) return;
  double alpha = ctx.attr_f("alpha", 0.0), beta = ctx.attr_f("beta", 0.0);
  std::string mode = ctx.attr_s("mode", "standard");
  if (mode != "standard" && mode != "nesterov") return (void)ctx.fail(make_error("unknown Momentum mode '{}'", mode));
  Value* beta_t = ctx.op(OpKind::Where, {c->positive, s(ctx, beta, c->rate), s(ctx, 1, c->rate)});
  for (int i = 0; i < c->groups; ++i) {
    Value *x = ctx.input(2 + i), *g = ctx.input(2 + c->groups + i), *v = ctx.input(2 + 2 * c->groups + i);
    Value* gr = regularized(ctx, x, g);
    Value* v_new = ctx.op(OpKind::Add, {ctx.op(OpKind::Mul, {s(ctx, alpha, v), v}), ctx.op(OpKind::Mul, {beta_t, gr})});
    Value* step =
        mode == "standard" ? v_new : ctx.op(OpKind::Add, {gr, ctx.op(OpKind::Mul, {s(ctx, alpha, v_new), v_new})});
    ctx.set_output(i, ctx.op(OpKind::Sub, {x, ctx.op(OpKind::Mul, {c->rate, step})}));
    ctx.set_output(c->groups + i, v_new);
  }
}

// Adam: g' = reg(g); V' = alpha V + (1 - alpha) g'; H' = beta H + (1 - beta) g'^2;
// r = T > 0 ? R sqrt(1 - beta^T) / (1 - alpha^T) : R; X' = (1 - norm_coefficient_post) (X - r V' / (sqrt(H') + eps)).
void import_adam(NodeContext& ctx) {
  auto c = common(ctx, 4);
  if (!c) return;
  double alpha = ctx.attr_f("alpha", 0.9), beta = ctx.attr_f("beta", 0.999), epsilon = ctx.attr_f("epsilon", 1e-6);
  double post = ctx.attr_f("norm_coefficient_post", 0.0);
  Value* one = s(ctx, 1, c->rate);
  Value* beta_pow = ctx.op(OpKind::Pow, {s(ctx, beta, c->rate), c->steps});
  Value* alpha_pow = ctx.op(OpKind::Pow, {s(ctx, alpha, c->rate), c->steps});
  Value* adjusted =
      ctx.op(OpKind::Div, {ctx.op(OpKind::Mul, {c->rate, ctx.op(OpKind::Sqrt, {ctx.op(OpKind::Sub, {one, beta_pow})})}),
                           ctx.op(OpKind::Sub, {one, alpha_pow})});
  Value* r = ctx.op(OpKind::Where, {c->positive, adjusted, c->rate});
  for (int i = 0; i < c->groups; ++i) {
    int n = c->groups;
    Value *x = ctx.input(2 + i), *g = ctx.input(2 + n + i), *v = ctx.input(2 + 2 * n + i),
          *h = ctx.input(2 + 3 * n + i);
    Value* gr = regularized(ctx, x, g);
    Value* v_new = ctx.op(
        OpKind::Add, {ctx.op(OpKind::Mul, {s(ctx, alpha, v), v}), ctx.op(OpKind::Mul, {s(ctx, 1 - alpha, v), gr})});
    Value* h_new = ctx.op(OpKind::Add, {ctx.op(OpKind::Mul, {s(ctx, beta, h), h}),
                                        ctx.op(OpKind::Mul, {s(ctx, 1 - beta, h), ctx.op(OpKind::Mul, {gr, gr})})});
    Value* root = ctx.op(OpKind::Add, {ctx.op(OpKind::Sqrt, {h_new}), s(ctx, epsilon, h)});
    Value* x_new = ctx.op(OpKind::Sub, {x, ctx.op(OpKind::Mul, {r, ctx.op(OpKind::Div, {v_new, root})})});
    ctx.set_output(i, ctx.op(OpKind::Mul, {s(ctx, 1 - post, x), x_new}));
    ctx.set_output(n + i, v_new);
    ctx.set_output(2 * n + i, h_new);
  }
}

}  // namespace tessel::onnx
