// Importers for normalizations and softmax. LayerNormalization, Softmax and LogSoftmax map to IR ops;
// the others are compositions (BatchNormalization at inference folds to x * a + b with a, b computed at
// import time when the statistics are constants).
#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

// A per-channel vector [C] reshaped to [C, 1, ..., 1] so it broadcasts against [N, C, spatial...].
Value* per_channel(NodeContext& ctx, Value* v, int64_t rank) {
  if (!v) return nullptr;
  if (v->type().rank() != 1) return ctx.fail(make_error("expected a per-channel vector, got {}", v->type().str()));
  Shape shape{v->type().shape[0]};
  for (int64_t i = 2; i < rank; ++i) shape.emplace_back(1);
  return ctx.op(OpKind::Reshape, {v}, {{"shape", shape}});
}

Value* scalar_like(NodeContext& ctx, double value, const Value* like) {
  return like ? ctx.scalar(value, like->type().dtype) : nullptr;
}

// (x - mean) / sqrt(var + epsilon), with mean and var over `axes` (kept), var the biased estimate.
struct Moments {
  Value* mean = nullptr;
  Value* var = nullptr;
  Value* centered = nullptr;
};

Moments moments(NodeContext& ctx, Value* x, const std::vector<int64_t>& axes) {
  Moments m;
  AttrMap attrs{{"axes", axes}, {"keepdims", int64_t{1}}};
  m.mean = ctx.op(OpKind::ReduceMean, {x}, attrs);
  m.centered = ctx.op(OpKind::Sub, {x, m.mean});
  m.var = ctx.op(OpKind::ReduceMean, {ctx.op(OpKind::Mul, {m.centered, m.centered})}, attrs);
  return m;
}

Value* normalize(NodeContext& ctx, const Moments& m, double epsilon) {
  Value* denominator = ctx.op(OpKind::Sqrt, {ctx.op(OpKind::Add, {m.var, scalar_like(ctx, epsilon, m.var)})});
  return ctx.op(OpKind::Div, {m.centered, denominator});
}

std::vector<int64_t> axes_from(int64_t first, int64_t rank) {
  std::vector<int64_t> axes;
  for (int64_t i = first; i < rank; ++i) axes.push_back(i);
  return axes;
}

std::optional<int64_t> axis_in(NodeContext& ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) {
    ctx.fail(make_error("axis {} is out of range for rank {}", axis, rank));
    return std::nullopt;
  }
  return axis < 0 ? axis + rank : axis;
}

}  // namespace

void import_batch_norm(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value *scale = ctx.input(1), *bias = ctx.input(2), *mean = ctx.input(3), *var = ctx.input(4);
  if (!x || !scale || !bias || !mean || !var) return;
  double epsilon = ctx.attr_f("epsilon", 1e-5);
  int64_t rank = x->type().rank();
  if (ctx.opset() < 9 && ctx.attr_i("spatial", 1) != 1) {
    ctx.fail_unsupported(make_error("BatchNormalization with spatial=0 (per-activation statistics) is not supported"));
    return;
  }
  bool training = ctx.opset() >= 14 && ctx.attr_i("training_mode", 0) != 0;
  if (!training && ctx.num_outputs() > 1 && (ctx.has_output(1) || ctx.has_output(2))) {
    ctx.fail_unsupported(make_error("BatchNormalization's statistics outputs need training_mode (opset 14+)"));
    return;
  }
  if (!training) {
    // y = x * a + b with a = scale / sqrt(var + eps), b = bias - mean * a (folded when constant).
    Value* a = ctx.op(OpKind::Div,
                      {scale, ctx.op(OpKind::Sqrt, {ctx.op(OpKind::Add, {var, scalar_like(ctx, epsilon, var)})})});
    Value* b = ctx.op(OpKind::Sub, {bias, ctx.op(OpKind::Mul, {mean, a})});
    ctx.set_output(
        0, ctx.op(OpKind::Add, {ctx.op(OpKind::Mul, {x, per_channel(ctx, a, rank)}), per_channel(ctx, b, rank)}));
    return;
  }
  // Training: normalize with the batch statistics; the running statistics move toward them.
  std::vector<int64_t> axes{0};
  for (int64_t i = 2; i < rank; ++i) axes.push_back(i);
  Moments m = moments(ctx, x, axes);
  Value* y = ctx.op(OpKind::Add, {ctx.op(OpKind::Mul, {normalize(ctx, m, epsilon), per_channel(ctx, scale, rank)}),
                                  per_channel(ctx, bias, rank)});
  ctx.set_output(0, y);
  double momentum = ctx.attr_f("momentum", 0.9);
  auto running = [&](Value* old, Value* batch) {
    Value* flat = ctx.op(OpKind::Reshape, {batch}, {{"shape", old->type().shape}});
    return ctx.op(OpKind::Add, {ctx.op(OpKind::Mul, {old, scalar_like(ctx, momentum, old)}),
                                ctx.op(OpKind::Mul, {flat, scalar_like(ctx, 1 - momentum, old)})});
  };
  if (ctx.has_output(1)) ctx.set_output(1, running(mean, m.mean));
  if (ctx.has_output(2)) ctx.set_output(2, running(var, m.var));
}

// InstanceNormalization: per sample and channel over the spatial axes, then scale and bias per channel.
void import_instance_norm(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  int64_t rank = x->type().rank();
  Moments m = moments(ctx, x, axes_from(2, rank));
  Value* y =
      ctx.op(OpKind::Mul, {normalize(ctx, m, ctx.attr_f("epsilon", 1e-5)), per_channel(ctx, ctx.input(1), rank)});
  ctx.set_output(0, ctx.op(OpKind::Add, {y, per_channel(ctx, ctx.input(2), rank)}));
}

void import_layer_norm(NodeContext& ctx) {
  std::vector<Value*> operands{ctx.input(0), ctx.input(1)};
  if (ctx.has_input(2)) operands.push_back(ctx.input(2));
  int results = ctx.has_output(2) ? 3 : ctx.has_output(1) ? 2 : 1;
  AttrMap attrs{{"axis", ctx.attr_i("axis", -1)}, {"epsilon", ctx.attr_f("epsilon", 1e-5)}};
  auto values = ctx.create(OpKind::LayerNorm, operands, attrs, results);
  for (int i = 0; i < results; ++i) ctx.set_output(i, values[i]);
}

// GroupNormalization (opset 21: scale and bias per channel): statistics over each group of channels.
void import_group_norm(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  const Shape& shape = x->type().shape;
  int64_t rank = x->type().rank();
  int64_t groups = ctx.attr_i("num_groups", 0);
  auto channels = rank >= 2 ? shape[1].as_const() : std::nullopt;
  if (!channels || groups <= 0 || *channels % groups != 0) {
    ctx.fail(make_error("GroupNormalization needs constant channels divisible by num_groups {}, got {}", groups,
                        x->type().str()));
    return;
  }
  Dim per_group = Dim(*channels / groups);
  for (int64_t i = 2; i < rank; ++i) per_group = per_group * shape[i];
  Value* grouped = ctx.op(OpKind::Reshape, {x}, {{"shape", Shape{shape[0], groups, per_group}}});
  Value* normalized = normalize(ctx, moments(ctx, grouped, {2}), ctx.attr_f("epsilon", 1e-5));
  Value* y = ctx.op(OpKind::Reshape, {normalized}, {{"shape", shape}});
  y = ctx.op(OpKind::Mul, {y, per_channel(ctx, ctx.input(1), rank)});
  ctx.set_output(0, ctx.op(OpKind::Add, {y, per_channel(ctx, ctx.input(2), rank)}));
}

// RMSNormalization: x / sqrt(mean(x^2 over axes [axis, rank)) + epsilon) * scale.
void import_rms_norm(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  int64_t rank = x->type().rank();
  auto axis = axis_in(ctx, ctx.attr_i("axis", -1), rank);
  if (!axis) return;
  Value* mean_square = ctx.op(OpKind::ReduceMean, {ctx.op(OpKind::Mul, {x, x})},
                              {{"axes", axes_from(*axis, rank)}, {"keepdims", int64_t{1}}});
  Value* rms =
      ctx.op(OpKind::Sqrt, {ctx.op(OpKind::Add, {mean_square, scalar_like(ctx, ctx.attr_f("epsilon", 1e-5), x)})});
  ctx.set_output(0, ctx.op(OpKind::Mul, {ctx.op(OpKind::Div, {x, rms}), ctx.input(1)}));
}

// LpNormalization: x divided by its L1 or L2 norm along `axis` (0 where the norm is 0).
void import_lp_norm(NodeContext& ctx) {
  Value* x = ctx.input(0);
  int64_t p = ctx.attr_i("p", 2);
  if (p != 1 && p != 2) {
    ctx.fail(make_error("LpNormalization p must be 1 or 2, got {}", p));
    return;
  }
  AttrMap attrs{{"axes", std::vector<int64_t>{ctx.attr_i("axis", -1)}}, {"keepdims", int64_t{1}}};
  Value* norm = ctx.op(p == 1 ? OpKind::ReduceL1 : OpKind::ReduceL2, {x}, attrs);
  // Where the norm is 0, x is all zeros there: the result is 0 (as the ONNX reference), not 0/0.
  Value* zero = scalar_like(ctx, 0, x);
  Value* is_zero = ctx.op(OpKind::Equal, {norm, zero});
  ctx.set_output(0, ctx.op(OpKind::Where, {is_zero, zero, ctx.op(OpKind::Div, {x, norm})}));
}

// MeanVarianceNormalization: (x - mean) / sqrt(var + 1e-9) over `axes` (the ONNX function body's epsilon).
void import_mean_variance_norm(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  Moments m = moments(ctx, x, ctx.attr_ints("axes", {0, 2, 3}));
  ctx.set_output(0, normalize(ctx, m, 1e-9));
}

// Softmax and LogSoftmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1).
void import_softmax(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  OpKind kind = ctx.op_type() == "Softmax" ? OpKind::Softmax : OpKind::LogSoftmax;
  if (ctx.opset() >= 13) return ctx.set_output(0, ctx.op(kind, {x}, {{"axis", ctx.attr_i("axis", -1)}}));
  auto axis = axis_in(ctx, ctx.attr_i("axis", 1), std::max<int64_t>(x->type().rank(), 1));
  if (!axis) return;
  Value* flat = ctx.b().flatten(x, *axis);
  Value* y = ctx.op(kind, {flat}, {{"axis", int64_t{-1}}});
  ctx.set_output(0, ctx.op(OpKind::Reshape, {y}, {{"shape", x->type().shape}}));
}

// Hardmax: 1 where the first maximum along `axis` is, else 0 (argmax compared with an index ramp).
void import_hardmax(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  Value* input = x;
  int64_t axis = 0;
  if (ctx.opset() >= 13) {
    auto a = axis_in(ctx, ctx.attr_i("axis", -1), x->type().rank());
    if (!a) return;
    axis = *a;
  } else {
    auto a = axis_in(ctx, ctx.attr_i("axis", 1), std::max<int64_t>(x->type().rank(), 1));
    if (!a) return;
    input = ctx.b().flatten(x, *a);
    axis = 1;
  }
  if (!input) return;
  const Shape& shape = input->type().shape;
  auto length = shape[axis].as_const();
  if (!length) {
    ctx.fail_unsupported(make_error("Hardmax needs a constant dim along its axis, got {}", input->type().str()));
    return;
  }
  std::vector<int64_t> ramp_shape(static_cast<size_t>(input->type().rank() - axis), 1);
  ramp_shape[0] = *length;
  std::vector<int64_t> ramp(*length);
  for (int64_t i = 0; i < *length; ++i) ramp[i] = i;
  Value* index = ctx.op(OpKind::ArgMax, {input}, {{"axis", axis}, {"keepdims", int64_t{1}}});
  Value* hot = ctx.op(OpKind::Equal, {index, ctx.constant(Tensor::of<int64_t>(ramp_shape, ramp), "ramp")});
  Value* y = ctx.cast(hot, x->type().dtype);
  ctx.set_output(0, ctx.opset() >= 13 ? y : ctx.op(OpKind::Reshape, {y}, {{"shape", x->type().shape}}));
}

// LRN: x / (bias + alpha / size * sum of x^2 over a window of `size` channels)^beta. The channel window
// sum is an average pool (counting pads) over [N, 1, C, rest] times the window size.
void import_lrn(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  int64_t size = ctx.attr_i("size", 0);
  if (size <= 0 || x->type().rank() < 3) {
    ctx.fail(make_error("LRN needs size > 0 and an input of rank >= 3, got size {} and {}", size, x->type().str()));
    return;
  }
  const Shape& shape = x->type().shape;
  Dim rest = 1;
  for (int64_t i = 2; i < x->type().rank(); ++i) rest = rest * shape[i];
  Value* squares =
      ctx.op(OpKind::Reshape, {ctx.op(OpKind::Mul, {x, x})}, {{"shape", Shape{shape[0], 1, shape[1], rest}}});
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  AttrMap pool{{"kernel", std::vector<int64_t>{size, 1}},
               {"pads", std::vector<int64_t>{before, 0, after, 0}},
               {"count_include_pad", int64_t{1}}};
  Value* average = ctx.op(OpKind::Reshape, {ctx.op(OpKind::AvgPool, {squares}, pool)}, {{"shape", shape}});
  // alpha / size * (average * size) = alpha * average.
  Value* base = ctx.op(OpKind::Add, {scalar_like(ctx, ctx.attr_f("bias", 1.0), x),
                                     ctx.op(OpKind::Mul, {average, scalar_like(ctx, ctx.attr_f("alpha", 1e-4), x)})});
  Value* denominator = ctx.op(OpKind::Pow, {base, scalar_like(ctx, ctx.attr_f("beta", 0.75), x)});
  ctx.set_output(0, ctx.op(OpKind::Div, {x, denominator}));
}

}  // namespace tessel::onnx
