// Importers for shape ops. Shape inputs that ONNX passes as tensors (Reshape's shape, Expand's shape,
// ConstantOfShape, Range, Tile's repeats, Pad's pads, axes of Squeeze/Unsqueeze/Split sizes) must be
// known at import time: constants, or shape vectors with symbolic dims (see Folding.cpp), which the IR
// carries as attributes.
#include "frontends/onnx/ImportOps.h"
#include "ir/ops/OpUtil.h"

namespace tessel::onnx {
namespace {

std::optional<int64_t> normalized_axis(NodeContext& ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) {
    ctx.fail(make_error("axis {} is out of range for rank {}", axis, rank));
    return std::nullopt;
  }
  return axis < 0 ? axis + rank : axis;
}

// Axes from the attribute (before `input_since`) or from optional input `index` (from it on).
std::optional<std::vector<int64_t>> axes_operand(NodeContext& ctx, int index, int64_t input_since) {
  if (ctx.opset() < input_since) return ctx.attr_ints("axes");
  if (!ctx.has_input(index)) return std::vector<int64_t>{};
  return ctx.require_ints(index, "axes");
}

Dim product(const Shape& shape, size_t begin, size_t end) {
  Dim p = 1;
  for (size_t i = begin; i < end; ++i) p = p * shape[i];
  return p;
}

}  // namespace

void import_shape(NodeContext& ctx) {
  AttrMap attrs;
  if (ctx.has_attr("start")) attrs.emplace("start", ctx.attr_i("start", 0));
  if (ctx.has_attr("end")) attrs.emplace("end", ctx.attr_i("end", 0));
  ctx.set_output(0, ctx.op(OpKind::ShapeOf, {ctx.input(0)}, attrs));
}

void import_size(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  Value* shape = ctx.op(OpKind::ShapeOf, {x});
  ctx.set_output(0, ctx.op(OpKind::ReduceProd, {shape}, {{"axes", std::vector<int64_t>{}}, {"keepdims", int64_t{0}}}));
}

void import_reshape(NodeContext& ctx) {
  Value* x = ctx.input(0);
  auto dims = ctx.require_dims(1, "shape");
  if (!x || !dims) return;
  const Shape& in = x->type().shape;
  bool allow_zero = ctx.opset() >= 14 && ctx.attr_i("allowzero", 0) != 0;
  Shape out;
  std::optional<size_t> inferred;
  for (size_t i = 0; i < dims->size(); ++i) {
    const Dim& d = (*dims)[i];
    auto value = d.as_const();
    if (value && *value == 0 && !allow_zero) {
      if (i >= in.size())
        return (void)ctx.fail(
            make_error("shape element {} is 0 but the input {} has no dim {}", i, x->type().str(), i));
      out.push_back(in[i]);
    } else if (value && *value == -1) {
      if (inferred) return (void)ctx.fail(make_error("shape {} has more than one -1", shape_str(*dims)));
      inferred = i;
      out.emplace_back(1);
    } else if (value && *value < 0) {
      return (void)ctx.fail(make_error("shape element {} is {}; only -1 may be negative", i, *value));
    } else {
      out.push_back(d);
    }
  }
  if (inferred) {
    Dim known = product(out, 0, out.size());
    if (known == Dim(0))
      return (void)ctx.fail(make_error("cannot infer the -1 in {} next to a zero dim", shape_str(*dims)));
    auto rest = shape_numel(in).divide_exact(known);
    if (!rest)
      return (void)ctx.fail(make_error("cannot infer the -1 in {}: {} elements of {} are not a provable multiple of {}",
                                       shape_str(*dims), shape_numel(in).str(), x->type().str(), known.str()));
    out[*inferred] = *rest;
  }
  ctx.set_output(0, ctx.op(OpKind::Reshape, {x}, {{"shape", out}}));
}

void import_flatten(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  int64_t rank = x->type().rank();
  int64_t axis = ctx.attr_i("axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank)
    return (void)ctx.fail(make_error("axis {} is out of range for {}", ctx.attr_i("axis", 1), x->type().str()));
  const Shape& shape = x->type().shape;
  Shape out{product(shape, 0, axis), product(shape, axis, shape.size())};
  ctx.set_output(0, ctx.op(OpKind::Reshape, {x}, {{"shape", out}}));
}

void import_transpose(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  std::vector<int64_t> perm = ctx.attr_ints("perm");
  if (perm.empty())
    for (int64_t i = x->type().rank() - 1; i >= 0; --i) perm.push_back(i);
  ctx.set_output(0, ctx.op(OpKind::Transpose, {x}, {{"perm", perm}}));
}

void import_concat(NodeContext& ctx) {
  std::vector<Value*> operands;
  for (int i = 0; i < ctx.num_inputs(); ++i) operands.push_back(ctx.input(i));
  if (!ctx.has_attr("axis")) return (void)ctx.fail(make_error("Concat needs the 'axis' attribute"));
  ctx.set_output(0, ctx.op(OpKind::Concat, operands, {{"axis", ctx.attr_i("axis", 0)}}));
}

void import_split(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  auto axis = normalized_axis(ctx, ctx.attr_i("axis", 0), x->type().rank());
  if (!axis) return;
  int outputs = ctx.num_outputs();
  std::vector<int64_t> sizes;
  if (ctx.opset() < 13) {
    sizes = ctx.attr_ints("split");
  } else if (ctx.has_input(1)) {
    auto ints = ctx.require_ints(1, "split sizes");
    if (!ints) return;
    sizes = *ints;
  }
  Shape dims;
  if (!sizes.empty()) {
    if (static_cast<int>(sizes.size()) != outputs)
      return (void)ctx.fail(make_error("{} split sizes for {} outputs", sizes.size(), outputs));
    for (int64_t s : sizes) dims.emplace_back(s);
  } else {
    const Dim& total = x->type().shape[*axis];
    int64_t parts = ctx.opset() >= 18 ? ctx.attr_i("num_outputs", outputs) : outputs;
    if (parts != outputs || parts <= 0)
      return (void)ctx.fail(make_error("num_outputs {} does not match the {} outputs", parts, outputs));
    auto length = total.as_const();
    if (length && *length % parts != 0 && ctx.opset() >= 18) {
      // Opset 18: chunks of ceil(length / parts), the last one smaller.
      int64_t chunk = (*length + parts - 1) / parts;
      for (int64_t i = 0; i < parts; ++i) dims.emplace_back(std::max<int64_t>(0, std::min(chunk, *length - i * chunk)));
    } else {
      if (length && *length % parts != 0)
        return (void)ctx.fail(
            make_error("dim {} of {} does not split into {} equal parts", *axis, x->type().str(), parts));
      for (int64_t i = 0; i < parts; ++i) dims.push_back(total.floordiv(parts));
    }
  }
  auto values = ctx.create(OpKind::Split, {x}, {{"axis", *axis}, {"sizes", dims}}, outputs);
  for (int i = 0; i < outputs; ++i) ctx.set_output(i, values[i]);
}

void import_squeeze(NodeContext& ctx) {
  Value* x = ctx.input(0);
  auto axes = axes_operand(ctx, 1, 13);
  if (!x || !axes) return;
  if (axes->empty()) {
    // No axes: every dim known to be 1 (a symbolic dim could be 1 at run time; ONNX needs it known).
    for (int64_t i = 0; i < x->type().rank(); ++i)
      if (x->type().shape[i] == Dim(1)) axes->push_back(i);
  }
  ctx.set_output(0, ctx.op(OpKind::Squeeze, {x}, {{"axes", *axes}}));
}

void import_unsqueeze(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (ctx.opset() >= 13 && !ctx.has_input(1)) return (void)ctx.fail(make_error("Unsqueeze needs its axes input"));
  auto axes = axes_operand(ctx, 1, 13);
  if (!x || !axes) return;
  ctx.set_output(0, ctx.op(OpKind::Unsqueeze, {x}, {{"axes", *axes}}));
}

// Expand broadcasts both ways: the result is broadcast(input shape, requested shape).
void import_expand(NodeContext& ctx) {
  Value* x = ctx.input(0);
  auto dims = ctx.require_dims(1, "shape");
  if (!x || !dims) return;
  auto shape = ops::broadcast_shapes(x->type().shape, *dims);
  if (!shape) return (void)ctx.fail(shape.error());
  ctx.set_output(0, ctx.op(OpKind::Expand, {x}, {{"shape", *shape}}));
}

void import_constant_of_shape(NodeContext& ctx) {
  auto dims = ctx.require_dims(0, "shape");
  if (!dims) return;
  Tensor value = Tensor::of<float>({}, {0.0f});
  if (ctx.has_attr("value")) {
    auto attr = ctx.attr_tensor("value");
    if (!attr) return;
    if (attr->numel() != 1)
      return (void)ctx.fail(make_error("the value attribute must hold one element, got {}", attr->type_str()));
    value = attr->reshaped({});
  }
  ctx.set_output(0, ctx.op(OpKind::Expand, {ctx.constant(value, "fill")}, {{"shape", *dims}}));
}

// Range's length is max(ceil((limit - start) / delta), 0); with symbolic bounds it needs a constant delta.
void import_range(NodeContext& ctx) {
  Value *start = ctx.input(0), *limit = ctx.input(1), *delta = ctx.input(2);
  if (!start || !limit || !delta) return;
  // ONNX wants scalars; the reference (and exporters' function bodies) also pass one-element vectors.
  for (Value** v : {&start, &limit, &delta})
    if ((*v)->type().rank() == 1 && (*v)->type().shape[0] == Dim(1))
      *v = ctx.op(OpKind::Reshape, {*v}, {{"shape", Shape{}}});
  if (!start || !limit || !delta) return;
  Dim size;
  const Tensor *s = constant_of(start), *l = constant_of(limit), *d = constant_of(delta);
  if (s && l && d) {
    double count = std::ceil((l->get_double(0) - s->get_double(0)) / d->get_double(0));
    if (is_integer(s->dtype())) {
      int64_t step = d->get_int(0);
      if (step == 0) return (void)ctx.fail(make_error("Range delta is 0"));
      int64_t diff = l->get_int(0) - s->get_int(0);
      count = static_cast<double>(diff / step + ((diff % step != 0 && (diff > 0) == (step > 0)) ? 1 : 0));
    }
    if (!(count > 0)) count = 0;
    size = Dim(static_cast<int64_t>(count));
  } else {
    // Symbolic bounds (shape values) need a constant delta; anything else must be known at import time.
    auto ds = ctx.dims_of(start), dl = ctx.dims_of(limit), dd = ctx.dims_of(delta);
    const char* names[] = {"start", "limit", "delta"};
    bool known[] = {ds && ds->size() == 1, dl && dl->size() == 1, dd && dd->size() == 1 && (*dd)[0].is_const()};
    Value* operands[] = {start, limit, delta};
    for (int i = 0; i < 3; ++i)
      if (!known[i] && !constant_of(operands[i])) return (void)ctx.require_constant(i, names[i]);
    if (!known[0] || !known[1] || !known[2])
      return (void)ctx.fail_unsupported(make_error("Range with symbolic bounds needs a constant integer delta"));
    int64_t step = *(*dd)[0].as_const();
    if (step == 0) return (void)ctx.fail(make_error("Range delta is 0"));
    Dim span = step > 0 ? (*dl)[0] - (*ds)[0] : (*ds)[0] - (*dl)[0];
    int64_t magnitude = step > 0 ? step : -step;
    size = (span + Dim(magnitude - 1)).floordiv(magnitude);
  }
  ctx.set_output(0, ctx.op(OpKind::Range, {start, limit, delta}, {{"size", Shape{size}}}));
}

void import_tile(NodeContext& ctx) {
  Value* x = ctx.input(0);
  auto repeats = ctx.require_ints(1, "repeats");
  if (!x || !repeats) return;
  ctx.set_output(0, ctx.op(OpKind::Tile, {x}, {{"repeats", *repeats}}));
}

void import_pad(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  int64_t rank = x->type().rank();
  std::string mode = ctx.attr_s("mode", "constant");
  std::vector<int64_t> pads;
  double value = 0;
  if (ctx.opset() < 11) {
    pads = ctx.attr_ints("pads");
    value = ctx.attr_f("value", 0.0);
  } else {
    auto ints = ctx.require_ints(1, "pads");
    if (!ints) return;
    pads = *ints;
    if (ctx.has_input(2)) {
      auto fill = ctx.require_constant(2, "constant_value");
      if (!fill) return;
      if (fill->numel() > 0) value = fill->get_double(0);
    }
    if (ctx.has_input(3)) {
      // Pads for the listed axes only: spread them over every axis.
      auto axes = ctx.require_ints(3, "axes");
      if (!axes) return;
      if (pads.size() != 2 * axes->size())
        return (void)ctx.fail(make_error("{} pads for {} axes", pads.size(), axes->size()));
      std::vector<int64_t> full(2 * rank, 0);
      for (size_t i = 0; i < axes->size(); ++i) {
        auto axis = normalized_axis(ctx, (*axes)[i], rank);
        if (!axis) return;
        full[*axis] = pads[i];
        full[*axis + rank] = pads[i + axes->size()];
      }
      pads = full;
    }
  }
  ctx.set_output(0, ctx.op(OpKind::Pad, {x}, {{"pads", pads}, {"mode", mode}, {"value", value}}));
}

void import_depth_to_space(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  int64_t b = ctx.attr_i("blocksize", 0);
  if (x->type().rank() != 4 || b <= 0)
    return (void)ctx.fail(make_error("DepthToSpace needs a 4-D input and blocksize > 0"));
  const Shape& s = x->type().shape;
  Dim c = s[1].floordiv(b * b);
  bool crd = ctx.attr_s("mode", "DCR") == "CRD";
  Shape split = crd ? Shape{s[0], c, b, b, s[2], s[3]} : Shape{s[0], b, b, c, s[2], s[3]};
  std::vector<int64_t> perm = crd ? std::vector<int64_t>{0, 1, 4, 2, 5, 3} : std::vector<int64_t>{0, 3, 4, 1, 5, 2};
  Value* moved = ctx.op(OpKind::Transpose, {ctx.op(OpKind::Reshape, {x}, {{"shape", split}})}, {{"perm", perm}});
  ctx.set_output(0, ctx.op(OpKind::Reshape, {moved}, {{"shape", Shape{s[0], c, s[2] * b, s[3] * b}}}));
}

void import_space_to_depth(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  int64_t b = ctx.attr_i("blocksize", 0);
  if (x->type().rank() != 4 || b <= 0)
    return (void)ctx.fail(make_error("SpaceToDepth needs a 4-D input and blocksize > 0"));
  const Shape& s = x->type().shape;
  Dim h = s[2].floordiv(b), w = s[3].floordiv(b);
  Value* split = ctx.op(OpKind::Reshape, {x}, {{"shape", Shape{s[0], s[1], h, b, w, b}}});
  Value* moved = ctx.op(OpKind::Transpose, {split}, {{"perm", std::vector<int64_t>{0, 3, 5, 1, 2, 4}}});
  ctx.set_output(0, ctx.op(OpKind::Reshape, {moved}, {{"shape", Shape{s[0], s[1] * b * b, h, w}}}));
}

}  // namespace tessel::onnx

namespace tessel::onnx {

// CenterCropPad: per listed axis, crop the centre (the extra element on the end side) or pad zeros
// around it (the extra one at the end), as the ONNX reference.
void import_center_crop_pad(NodeContext& ctx) {
  Value* x = ctx.input(0);
  auto target = ctx.require_ints(1, "shape");
  if (!x || !target) return;
  int64_t rank = x->type().rank();
  std::vector<int64_t> axes = ctx.attr_ints("axes");
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  if (axes.size() != target->size())
    return (void)ctx.fail(make_error("{} sizes for {} axes", target->size(), axes.size()));
  std::vector<int64_t> starts, ends, crop_axes, pads(static_cast<size_t>(2 * rank), 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    auto axis = normalized_axis(ctx, axes[i], rank);
    if (!axis) return;
    auto dim = x->type().shape[*axis].as_const();
    if (!dim)
      return (void)ctx.fail_unsupported(make_error("CenterCropPad needs constant dims, got {}", x->type().str()));
    int64_t want = (*target)[i];
    if (want < *dim) {
      int64_t begin = (*dim - want) / 2;
      starts.push_back(begin);
      ends.push_back(begin + want);
      crop_axes.push_back(*axis);
    } else if (want > *dim) {
      pads[*axis] = (want - *dim) / 2;
      pads[*axis + rank] = want - *dim - pads[*axis];
    }
  }
  Value* y = x;
  if (!crop_axes.empty()) y = ctx.op(OpKind::Slice, {y}, {{"starts", starts}, {"ends", ends}, {"axes", crop_axes}});
  if (std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; }))
    y = ctx.op(OpKind::Pad, {y}, {{"pads", pads}});
  ctx.set_output(0, y);
}

}  // namespace tessel::onnx
