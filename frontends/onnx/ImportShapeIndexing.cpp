// Importers for ONNX ops driven by indices or positions: Slice, Gather, GatherElements, ScatterElements
// (and the older Scatter), and the compositions Trilu, OneHot and EyeLike (masks and ramps compared
// with indices, selected with `where`).
#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

// The index ramp 0..n-1 shaped to lie along `axis` of a rank-`rank` tensor ([n, 1, ..., 1] suffix).
Value* ramp_along(NodeContext& ctx, int64_t n, int64_t axis, int64_t rank) {
  std::vector<int64_t> shape(static_cast<size_t>(rank - axis), 1);
  shape[0] = n;
  std::vector<int64_t> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[i] = i;
  return ctx.constant(Tensor::of<int64_t>(shape, values), "ramp");
}

}  // namespace

void import_slice(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    starts = ctx.attr_ints("starts");
    ends = ctx.attr_ints("ends");
    axes = ctx.attr_ints("axes");
  } else {
    auto s = ctx.require_ints(1, "starts");
    auto e = ctx.require_ints(2, "ends");
    if (!s || !e) return;
    starts = *s;
    ends = *e;
    if (ctx.has_input(3)) {
      auto a = ctx.require_ints(3, "axes");
      if (!a) return;
      axes = *a;
    }
    if (ctx.has_input(4)) {
      auto st = ctx.require_ints(4, "steps");
      if (!st) return;
      steps = *st;
    }
  }
  AttrMap attrs{{"starts", starts}, {"ends", ends}, {"axes", axes}, {"steps", steps}};
  ctx.set_output(0, ctx.op(OpKind::Slice, {x}, attrs));
}

void import_gather(NodeContext& ctx) {
  ctx.set_output(0, ctx.op(OpKind::Gather, {ctx.input(0), ctx.input(1)}, {{"axis", ctx.attr_i("axis", 0)}}));
}

void import_gather_elements(NodeContext& ctx) {
  ctx.set_output(0, ctx.op(OpKind::GatherElements, {ctx.input(0), ctx.input(1)}, {{"axis", ctx.attr_i("axis", 0)}}));
}

void import_scatter_elements(NodeContext& ctx) {
  AttrMap attrs{{"axis", ctx.attr_i("axis", 0)}, {"reduction", ctx.attr_s("reduction", "none")}};
  ctx.set_output(0, ctx.op(OpKind::ScatterElements, {ctx.input(0), ctx.input(1), ctx.input(2)}, attrs));
}

// Trilu: keep x where (col - row) >= k (upper) or <= k (lower), over the last two dims; zero elsewhere.
void import_trilu(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  int64_t k = 0;
  if (ctx.has_input(1)) {
    auto ints = ctx.require_ints(1, "k");
    if (!ints) return;
    if (ints->size() != 1) return (void)ctx.fail(make_error("k must hold one integer, got {}", ints->size()));
    k = (*ints)[0];
  }
  int64_t rank = x->type().rank();
  if (rank < 2) return (void)ctx.fail(make_error("Trilu needs rank >= 2, got {}", x->type().str()));
  auto rows = x->type().shape[rank - 2].as_const(), cols = x->type().shape[rank - 1].as_const();
  if (!rows || !cols)
    return (void)ctx.fail_unsupported(make_error("Trilu needs constant last two dims, got {}", x->type().str()));
  bool upper = ctx.attr_i("upper", 1) != 0;
  Tensor mask(DType::Bool, {*rows, *cols});
  for (int64_t i = 0; i < *rows; ++i)
    for (int64_t j = 0; j < *cols; ++j) {
      // (j - i) compared with k, computed without overflow for any k.
      bool keep = upper ? (k <= 0 ? j - i >= k : j >= i + k) : (k >= 0 ? j - i <= k : j <= i + k);
      mask.data<uint8_t>()[i * *cols + j] = keep ? 1 : 0;
    }
  Value* zero = ctx.scalar(0, x->type().dtype);
  ctx.set_output(0, ctx.op(OpKind::Where, {ctx.constant(mask, "trilu_mask"), x, zero}));
}

// OneHot: on_value where the (wrapped) index equals the position along `axis`, off_value elsewhere.
void import_one_hot(NodeContext& ctx) {
  Value* indices = ctx.input(0);
  Value* values = ctx.input(2);
  auto depth_value = ctx.require_constant(1, "depth");
  if (!indices || !values || !depth_value) return;
  if (depth_value->numel() != 1) return (void)ctx.fail(make_error("depth must hold one value"));
  auto depth = static_cast<int64_t>(depth_value->get_double(0));
  if (depth < 0) return (void)ctx.fail(make_error("depth must be non-negative, got {}", depth));
  int64_t rank = indices->type().rank() + 1;
  int64_t axis = ctx.attr_i("axis", -1);
  if (axis < -rank || axis >= rank) return (void)ctx.fail(make_error("axis {} is out of range for rank {}", axis, rank));
  if (axis < 0) axis += rank;
  Value* index = ctx.cast(indices, DType::I64);
  Value* d = ctx.scalar(static_cast<double>(depth), DType::I64);
  Value* negative = ctx.op(OpKind::Less, {index, ctx.scalar(0, DType::I64)});
  index = ctx.op(OpKind::Where, {negative, ctx.op(OpKind::Add, {index, d}), index});
  index = ctx.op(OpKind::Unsqueeze, {index}, {{"axes", std::vector<int64_t>{axis}}});
  Value* hot = ctx.op(OpKind::Equal, {index, ramp_along(ctx, depth, axis, rank)});
  Value* off = ctx.op(OpKind::Gather, {values, ctx.constant(Tensor::of<int64_t>({}, {0}), "off")});
  Value* on = ctx.op(OpKind::Gather, {values, ctx.constant(Tensor::of<int64_t>({}, {1}), "on")});
  ctx.set_output(0, ctx.op(OpKind::Where, {hot, on, off}));
}

// EyeLike: ones on the k-th diagonal of a 2-D tensor shaped like the input.
void import_eye_like(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  auto shape = static_shape(x->type().shape);
  if (!shape || shape->size() != 2)
    return (void)ctx.fail_unsupported(make_error("EyeLike needs a 2-D input of constant shape, got {}", x->type().str()));
  DType dtype = x->type().dtype;
  if (ctx.has_attr("dtype")) {
    auto onnx_type = static_cast<int32_t>(ctx.attr_i("dtype", 0));
    auto mapped = dtype_from_onnx(onnx_type);
    if (!mapped) return (void)ctx.fail_unsupported(make_error("dtype: {}", unsupported_elem_type(onnx_type)));
    dtype = *mapped;
  }
  int64_t k = ctx.attr_i("k", 0);
  Tensor eye(dtype, *shape);
  for (int64_t i = 0; i < (*shape)[0]; ++i) {
    int64_t j = i + k;
    if (j >= 0 && j < (*shape)[1]) eye.set_double(i * (*shape)[1] + j, 1.0);
  }
  ctx.set_output(0, ctx.constant(eye, "eye"));
}

}  // namespace tessel::onnx
