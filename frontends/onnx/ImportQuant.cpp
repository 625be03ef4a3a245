// Quantization ops as compositions, following the ONNX reference: QuantizeLinear (x / scale, rounded
// half to even, plus the zero point, saturated to the 16-, 8-, 4- or 2-bit integer target; for float8
// targets x / scale cast with `saturate`, the zero point being 0 by the spec; for float4 x / scale plus
// the zero point, cast), DequantizeLinear ((x - zero point) * scale in f32), DynamicQuantizeLinear, MatMulInteger,
// ConvInteger, QLinearMatMul and QLinearConv. Integer convolutions run as f64 convolutions (exact while sums stay below
// 2^53), since the IR's conv is float-only. Scales and zero points may be scalars, per-axis vectors or blocks.
#include <limits>

#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

struct QuantRange {
  double lo, hi;
};

std::optional<QuantRange> quant_range(DType dtype) {
  switch (dtype) {
    case DType::U8: return QuantRange{0, 255};
    case DType::I8: return QuantRange{-128, 127};
    case DType::U16: return QuantRange{0, 65535};
    case DType::I16: return QuantRange{-32768, 32767};
    case DType::U4: return QuantRange{0, 15};
    case DType::I4: return QuantRange{-8, 7};
    case DType::U2: return QuantRange{0, 3};
    case DType::I2: return QuantRange{-2, 1};
    default: return std::nullopt;
  }
}

// A scale or zero point shaped to broadcast against `x`: a scalar, a vector along `axis`, or blocks of
// `block` elements along `axis` (repeated to x's length there).
Value* shape_param(NodeContext& ctx, Value* param, const Value* x, int64_t axis, int64_t block) {
  if (!param || !x) return param;
  const TensorType& type = param->type();
  int64_t rank = x->type().rank();
  if (shape_numel(type.shape) == Dim(1)) return ctx.op(OpKind::Reshape, {param}, {{"shape", Shape{}}});
  if (axis < -rank || axis >= rank)
    return ctx.fail(make_error("axis {} is out of range for {}", axis, x->type().str()));
  if (axis < 0) axis += rank;
  if (block <= 0) {
    if (type.rank() != 1) return ctx.fail(make_error("a per-axis scale or zero point must be 1-D, got {}", type.str()));
    Shape shape(static_cast<size_t>(rank), Dim(1));
    shape[axis] = type.shape[0];
    return ctx.op(OpKind::Reshape, {param}, {{"shape", shape}});
  }
  // Blocked: repeat each entry `block` times along the axis, then cut to x's length.
  if (type.rank() != rank)
    return ctx.fail(make_error("a blocked scale must have the rank of {}, got {}", x->type().str(), type.str()));
  Shape wide = type.shape;
  wide.insert(wide.begin() + axis + 1, Dim(block));
  Value* repeated =
      ctx.op(OpKind::Expand, {ctx.op(OpKind::Unsqueeze, {param}, {{"axes", std::vector<int64_t>{axis + 1}}})},
             {{"shape", wide}});
  Shape merged = type.shape;
  merged[axis] = merged[axis] * Dim(block);
  repeated = ctx.op(OpKind::Reshape, {repeated}, {{"shape", merged}});
  auto length = x->type().shape[axis].as_const();
  if (!length) return ctx.fail_unsupported(make_error("blocked quantization needs a constant length along the axis"));
  return ctx.op(OpKind::Slice, {repeated},
                {{"starts", std::vector<int64_t>{0}},
                 {"ends", std::vector<int64_t>{*length}},
                 {"axes", std::vector<int64_t>{axis}}});
}

// round half to even, add `zero_point` (as i32 like the reference, then f64), clip to the range, cast.
Value* saturate(NodeContext& ctx, Value* scaled, Value* zero_point, DType dtype, bool round_first) {
  auto range = quant_range(dtype);
  if (!range) return ctx.fail_unsupported(make_error("quantizing to {} is not supported", dtype_name(dtype)));
  Value* y = ctx.cast(round_first ? ctx.op(OpKind::Round, {scaled}) : scaled, DType::F64);
  if (zero_point) y = ctx.op(OpKind::Add, {y, ctx.cast(zero_point, DType::F64)});
  if (!round_first) y = ctx.op(OpKind::Round, {y});
  y = ctx.op(OpKind::Clip, {y}, {{"min", range->lo}, {"max", range->hi}});
  return ctx.cast(y, dtype);
}

// x - zero_point in i32, or x as i32.
Value* centered_i32(NodeContext& ctx, Value* x, Value* zero_point) {
  Value* v = ctx.cast(x, DType::I32);
  return zero_point ? ctx.op(OpKind::Sub, {v, ctx.cast(zero_point, DType::I32)}) : v;
}

// A per-row zero point [M] of a matrix operand becomes [M, 1]; scalars stay.
Value* per_row(NodeContext& ctx, Value* zero_point) {
  if (!zero_point || zero_point->type().rank() != 1 || zero_point->type().shape[0] == Dim(1)) return zero_point;
  return ctx.op(OpKind::Unsqueeze, {zero_point}, {{"axes", std::vector<int64_t>{1}}});
}

// The conv attributes of a Conv-like node, for the IR conv (explicit pads only).
std::optional<AttrMap> conv_attrs(NodeContext& ctx) {
  if (ctx.attr_s("auto_pad", "NOTSET") != "NOTSET") {
    ctx.fail_unsupported(make_error("auto_pad on {} is not supported", ctx.op_type()));
    return std::nullopt;
  }
  AttrMap attrs{{"group", ctx.attr_i("group", 1)}};
  for (const char* name : {"strides", "pads", "dilations"})
    if (ctx.has_attr(name)) attrs.emplace(name, ctx.attr_ints(name));
  return attrs;
}

// Per-output-channel weight zero points [M] become [M, 1, ..., 1].
Value* per_channel_weight(NodeContext& ctx, Value* param, const Value* w) {
  if (!param || !w || param->type().rank() != 1 || param->type().shape[0] == Dim(1)) return param;
  Shape shape(static_cast<size_t>(w->type().rank()), Dim(1));
  shape[0] = param->type().shape[0];
  return ctx.op(OpKind::Reshape, {param}, {{"shape", shape}});
}

}  // namespace

void import_quantize_linear(NodeContext& ctx) {
  Value *x = ctx.input(0), *scale = ctx.input(1), *zero_point = ctx.optional_input(2);
  if (!x || !scale) return;
  int64_t axis = ctx.attr_i("axis", 1), block = ctx.attr_i("block_size", 0);
  DType target = DType::U8;
  if (ctx.has_attr("output_dtype")) {
    auto onnx_type = static_cast<int32_t>(ctx.attr_i("output_dtype", kOnnxUint8));
    auto mapped = dtype_from_onnx(onnx_type);
    if (!mapped) return (void)ctx.fail_unsupported(make_error("output_dtype: {}", unsupported_elem_type(onnx_type)));
    target = *mapped;
  }
  if (zero_point) {
    DType zero_type = zero_point->type().dtype;
    if (ctx.has_attr("output_dtype") && zero_type != target)
      return (void)ctx.fail(make_error("output_dtype {} does not match the zero point's type {}", dtype_name(target),
                                       dtype_name(zero_type)));
    target = zero_type;
  }
  DType compute = x->type().dtype;
  if (ctx.has_attr("precision")) {
    auto mapped = dtype_from_onnx(static_cast<int32_t>(ctx.attr_i("precision", kOnnxFloat)));
    if (!mapped) return (void)ctx.fail_unsupported(make_error("unsupported precision"));
    compute = *mapped;
  }
  Value* s = shape_param(ctx, ctx.cast(scale, compute), x, axis, block);
  Value* scaled = ctx.op(OpKind::Div, {ctx.cast(x, compute), s});
  if (target == DType::F4E2M1) {  // no inf or NaN: the cast itself saturates
    if (zero_point)
      scaled = ctx.op(OpKind::Add, {scaled, ctx.cast(shape_param(ctx, zero_point, x, axis, block), compute)});
    ctx.set_output(0, ctx.cast(scaled, target));
    return;
  }
  if (is_low_precision_float(target) && target != DType::F8E8M0) {
    AttrMap attrs{{"to", target}};
    if (ctx.attr_i("saturate", 1) != 1) attrs.emplace("saturate", int64_t{0});
    ctx.set_output(0, ctx.op(OpKind::Cast, {scaled}, attrs));
    return;
  }
  ctx.set_output(0, saturate(ctx, scaled, shape_param(ctx, zero_point, x, axis, block), target, true));
}

void import_dequantize_linear(NodeContext& ctx) {
  Value *x = ctx.input(0), *scale = ctx.input(1), *zero_point = ctx.optional_input(2);
  if (!x || !scale) return;
  int64_t axis = ctx.attr_i("axis", 1), block = ctx.attr_i("block_size", 0);
  DType out = scale->type().dtype;
  if (ctx.has_attr("output_dtype")) {
    auto onnx_type = static_cast<int32_t>(ctx.attr_i("output_dtype", kOnnxFloat));
    auto mapped = dtype_from_onnx(onnx_type);
    if (!mapped) return (void)ctx.fail_unsupported(make_error("output_dtype: {}", unsupported_elem_type(onnx_type)));
    out = *mapped;
  }
  Value* dx = ctx.cast(x, DType::F32);
  if (zero_point) dx = ctx.op(OpKind::Sub, {dx, ctx.cast(shape_param(ctx, zero_point, x, axis, block), DType::F32)});
  Value* y = ctx.op(OpKind::Mul, {dx, ctx.cast(shape_param(ctx, scale, x, axis, block), DType::F32)});
  ctx.set_output(0, ctx.cast(y, out));
}

// DynamicQuantizeLinear: u8 quantization over [min(0, min x), max(0, max x)].
void import_dynamic_quantize_linear(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  DType dtype = x->type().dtype;
  AttrMap all{{"axes", std::vector<int64_t>{}}, {"keepdims", int64_t{0}}};
  Value* zero = ctx.scalar(0, dtype);
  Value* hi = ctx.op(OpKind::Max, {zero, ctx.op(OpKind::ReduceMax, {x}, all)});
  Value* lo = ctx.op(OpKind::Min, {zero, ctx.op(OpKind::ReduceMin, {x}, all)});
  Value* span = ctx.op(OpKind::Sub, {hi, lo});
  Value* flat = ctx.op(OpKind::Equal, {hi, lo});
  Value* scale =
      ctx.op(OpKind::Div, {ctx.op(OpKind::Where, {flat, ctx.scalar(1, dtype), span}), ctx.scalar(255, dtype)});
  Value* zp = ctx.op(OpKind::Sub, {zero, ctx.op(OpKind::Div, {lo, scale})});
  zp = ctx.op(OpKind::Round, {ctx.op(OpKind::Clip, {zp}, {{"min", 0.0}, {"max", 255.0}})});
  Value* y = ctx.op(OpKind::Add, {ctx.op(OpKind::Round, {ctx.op(OpKind::Div, {x, scale})}), zp});
  y = ctx.op(OpKind::Clip, {y}, {{"min", 0.0}, {"max", 255.0}});
  ctx.set_output(0, ctx.cast(y, DType::U8));
  ctx.set_output(1, scale);
  ctx.set_output(2, ctx.cast(zp, DType::U8));
}

void import_matmul_integer(NodeContext& ctx) {
  Value* a = centered_i32(ctx, ctx.input(0), per_row(ctx, ctx.optional_input(2)));
  Value* b = centered_i32(ctx, ctx.input(1), ctx.optional_input(3));
  ctx.set_output(0, ctx.op(OpKind::MatMul, {a, b}));
}

void import_conv_integer(NodeContext& ctx) {
  auto attrs = conv_attrs(ctx);
  Value* w_raw = ctx.input(1);
  if (!attrs || !w_raw) return;
  Value* x = centered_i32(ctx, ctx.input(0), ctx.optional_input(2));
  Value* w = centered_i32(ctx, w_raw, per_channel_weight(ctx, ctx.optional_input(3), w_raw));
  Value* y = ctx.op(OpKind::Conv, {ctx.cast(x, DType::F64), ctx.cast(w, DType::F64)}, *attrs);
  ctx.set_output(0, ctx.cast(y, DType::I32));
}

// QLinearMatMul: the i32 product of the centered operands, times a_scale * b_scale / y_scale (computed in
// the scales' type), plus y's zero point, rounded and saturated (in f64, as the reference promotes).
void import_qlinear_matmul(NodeContext& ctx) {
  Value *a = ctx.input(0), *b = ctx.input(3), *y_zero_point = ctx.optional_input(7);
  if (!a || !b) return;
  Value* product = ctx.op(OpKind::MatMul, {centered_i32(ctx, a, per_row(ctx, ctx.optional_input(2))),
                                           centered_i32(ctx, b, ctx.optional_input(5))});
  Value* factor = ctx.op(OpKind::Div, {ctx.op(OpKind::Mul, {ctx.input(1), ctx.input(4)}), ctx.input(6)});
  Value* scaled = ctx.op(OpKind::Mul, {ctx.cast(product, DType::F64), ctx.cast(factor, DType::F64)});
  DType out = y_zero_point ? y_zero_point->type().dtype : a->type().dtype;
  ctx.set_output(0, saturate(ctx, scaled, y_zero_point, out, false));
}

void import_qlinear_conv(NodeContext& ctx) {
  auto attrs = conv_attrs(ctx);
  Value *x = ctx.input(0), *w = ctx.input(3), *y_zero_point = ctx.optional_input(7);
  if (!attrs || !x || !w) return;
  Value* xc = ctx.cast(centered_i32(ctx, x, ctx.optional_input(2)), DType::F64);
  Value* wc = ctx.cast(centered_i32(ctx, w, per_channel_weight(ctx, ctx.optional_input(5), w)), DType::F64);
  std::vector<Value*> operands{xc, wc};
  if (ctx.has_input(8)) operands.push_back(ctx.cast(ctx.input(8), DType::F64));
  Value* acc = ctx.op(OpKind::Conv, operands, *attrs);
  Value* w_scale = ctx.input(4);
  if (w_scale && w_scale->type().rank() == 1 && w_scale->type().shape[0] != Dim(1)) {
    Shape shape(static_cast<size_t>(x->type().rank()), Dim(1));
    shape[1] = w_scale->type().shape[0];
    w_scale = ctx.op(OpKind::Reshape, {w_scale}, {{"shape", shape}});
  }
  Value* factor = ctx.op(OpKind::Div, {ctx.op(OpKind::Mul, {ctx.input(1), w_scale}), ctx.input(6)});
  Value* scaled = ctx.op(OpKind::Mul, {acc, ctx.cast(factor, DType::F64)});
  DType out = y_zero_point ? y_zero_point->type().dtype : x->type().dtype;
  ctx.set_output(0, saturate(ctx, scaled, y_zero_point, out, false));
}

}  // namespace tessel::onnx
