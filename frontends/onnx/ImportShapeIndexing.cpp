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
  if (axis < -rank || axis >= rank)
    return (void)ctx.fail(make_error("axis {} is out of range for rank {}", axis, rank));
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
    return (void)ctx.fail_unsupported(
        make_error("EyeLike needs a 2-D input of constant shape, got {}", x->type().str()));
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

namespace tessel::onnx {
namespace {

// The row-major position of each index tuple in `indices` [..., k] within `dims` (k leading dims of
// the data), negative indices wrapped: sum_j wrap(indices[..., j]) * stride_j, as i64 [...].
Value* linear_index(NodeContext& ctx, Value* indices, const std::vector<int64_t>& dims) {
  int64_t k = static_cast<int64_t>(dims.size());
  int64_t rank = indices->type().rank();
  Value* idx = ctx.cast(indices, DType::I64);
  std::vector<int64_t> strides(static_cast<size_t>(k), 1);
  for (int64_t j = k - 2; j >= 0; --j) strides[j] = strides[j + 1] * dims[j + 1];
  Value* total = nullptr;
  for (int64_t j = 0; j < k; ++j) {
    Value* part = ctx.op(OpKind::Slice, {idx},
                         {{"starts", std::vector<int64_t>{j}},
                          {"ends", std::vector<int64_t>{j + 1}},
                          {"axes", std::vector<int64_t>{rank - 1}}});
    part = ctx.op(OpKind::Squeeze, {part}, {{"axes", std::vector<int64_t>{rank - 1}}});
    Value* dim = ctx.scalar(double(dims[j]), DType::I64);
    part = ctx.op(OpKind::Where,
                  {ctx.op(OpKind::Less, {part, ctx.scalar(0, DType::I64)}), ctx.op(OpKind::Add, {part, dim}), part});
    part = ctx.op(OpKind::Mul, {part, ctx.scalar(double(strides[j]), DType::I64)});
    total = total ? ctx.op(OpKind::Add, {total, part}) : part;
  }
  return total;
}

std::optional<std::vector<int64_t>> const_dims(NodeContext& ctx, const Value* x, int64_t begin, int64_t end) {
  std::vector<int64_t> dims;
  for (int64_t i = begin; i < end; ++i) {
    auto d = x->type().shape[i].as_const();
    if (!d) {
      ctx.fail_unsupported(make_error("{} needs constant dims, got {}", ctx.op_type(), x->type().str()));
      return std::nullopt;
    }
    dims.push_back(*d);
  }
  return dims;
}

}  // namespace

// GatherND: data flattened over its batch and indexed dims, then one gather with linear indices.
void import_gather_nd(NodeContext& ctx) {
  Value *data = ctx.input(0), *indices = ctx.input(1);
  if (!data || !indices) return;
  int64_t batch = ctx.attr_i("batch_dims", 0), q = indices->type().rank(), r = data->type().rank();
  auto k_dim = q > 0 ? indices->type().shape[q - 1].as_const() : std::nullopt;
  if (!k_dim || batch < 0 || batch >= q || batch + *k_dim > r)
    return (void)ctx.fail(make_error("GatherND indices {} do not fit data {} with batch_dims {}", indices->type().str(),
                                     data->type().str(), batch));
  int64_t k = *k_dim;
  auto lead = const_dims(ctx, data, 0, batch + k);
  auto index_dims = const_dims(ctx, indices, 0, q - 1);
  if (!lead || !index_dims) return;
  Value* linear = linear_index(ctx, indices, std::vector<int64_t>(lead->begin() + batch, lead->end()));
  int64_t inner = 1, outer = 1;
  for (int64_t j = batch; j < batch + k; ++j) inner *= (*lead)[j];
  for (int64_t j = 0; j < batch; ++j) outer *= (*lead)[j];
  if (batch > 0) {
    // Each index tuple also selects its batch: add batch_position * (product of the indexed dims).
    std::vector<int64_t> shape(*index_dims);
    for (int64_t j = batch; j < q - 1; ++j) shape[j] = 1;
    Tensor offsets(DType::I64, shape);
    for (int64_t b = 0; b < outer; ++b) offsets.data<int64_t>()[b] = b * inner;
    linear = ctx.op(OpKind::Add, {linear, ctx.constant(offsets, "batch_offsets")});
  }
  Shape flat{Dim(outer * inner)};
  for (int64_t j = batch + k; j < r; ++j) flat.push_back(data->type().shape[j]);
  Value* table = ctx.op(OpKind::Reshape, {data}, {{"shape", flat}});
  ctx.set_output(0, ctx.op(OpKind::Gather, {table, linear}, {{"axis", int64_t{0}}}));
}

// ScatterND: data flattened over the indexed dims; each update slice lands at its linear index through
// scatter_elements along axis 0 (with the reduction), then the shape is restored.
void import_scatter_nd(NodeContext& ctx) {
  Value *data = ctx.input(0), *indices = ctx.input(1), *updates = ctx.input(2);
  if (!data || !indices || !updates) return;
  int64_t q = indices->type().rank(), r = data->type().rank();
  auto k_dim = q > 0 ? indices->type().shape[q - 1].as_const() : std::nullopt;
  if (!k_dim || *k_dim > r)
    return (void)ctx.fail(
        make_error("ScatterND indices {} do not fit data {}", indices->type().str(), data->type().str()));
  auto lead = const_dims(ctx, data, 0, *k_dim);
  auto index_dims = const_dims(ctx, indices, 0, q - 1);
  if (!lead || !index_dims) return;
  int64_t rows = 1, count = 1;
  for (int64_t d : *lead) rows *= d;
  for (int64_t d : *index_dims) count *= d;
  Shape table_shape{Dim(rows)}, update_shape{Dim(count)};
  for (int64_t j = *k_dim; j < r; ++j) {
    table_shape.push_back(data->type().shape[j]);
    update_shape.push_back(data->type().shape[j]);
  }
  Value* table = ctx.op(OpKind::Reshape, {data}, {{"shape", table_shape}});
  Value* rows_updated = ctx.op(OpKind::Reshape, {updates}, {{"shape", update_shape}});
  Shape column(update_shape.size(), Dim(1));
  column[0] = Dim(count);
  Value* linear = ctx.op(OpKind::Reshape, {linear_index(ctx, indices, *lead)}, {{"shape", column}});
  linear = ctx.op(OpKind::Expand, {linear}, {{"shape", update_shape}});
  Value* scattered = ctx.op(OpKind::ScatterElements, {table, linear, rows_updated},
                            {{"axis", int64_t{0}}, {"reduction", ctx.attr_s("reduction", "none")}});
  ctx.set_output(0, ctx.op(OpKind::Reshape, {scattered}, {{"shape", data->type().shape}}));
}

// ReverseSequence: along time_axis, the first lens[b] steps of batch b reversed, the rest kept:
// gather_elements with index lens[b] - 1 - t where t < lens[b], else t.
void import_reverse_sequence(NodeContext& ctx) {
  Value *x = ctx.input(0), *lens = ctx.input(1);
  if (!x || !lens) return;
  int64_t batch_axis = ctx.attr_i("batch_axis", 1), time_axis = ctx.attr_i("time_axis", 0), rank = x->type().rank();
  if (rank < 2 || (batch_axis != 0 && batch_axis != 1) || time_axis + batch_axis != 1)
    return (void)ctx.fail(
        make_error("ReverseSequence needs batch_axis and time_axis 0 and 1, got {} and {}", batch_axis, time_axis));
  auto steps = x->type().shape[time_axis].as_const();
  if (!steps)
    return (void)ctx.fail_unsupported(make_error("ReverseSequence needs a constant time dim, got {}", x->type().str()));
  std::vector<int64_t> ramp_shape(static_cast<size_t>(rank), 1), lens_shape(static_cast<size_t>(rank), 1);
  ramp_shape[time_axis] = *steps;
  std::vector<int64_t> values(static_cast<size_t>(*steps));
  for (int64_t t = 0; t < *steps; ++t) values[t] = t;
  Value* t = ctx.constant(Tensor::of<int64_t>(ramp_shape, values), "ramp");
  Shape broadcast_lens(static_cast<size_t>(rank), Dim(1));
  broadcast_lens[batch_axis] = x->type().shape[batch_axis];
  Value* n = ctx.op(OpKind::Reshape, {ctx.cast(lens, DType::I64)}, {{"shape", broadcast_lens}});
  Value* reversed = ctx.op(OpKind::Sub, {ctx.op(OpKind::Sub, {n, ctx.scalar(1, DType::I64)}), t});
  Value* index = ctx.op(OpKind::Where, {ctx.op(OpKind::Less, {t, n}), reversed, t});
  index = ctx.op(OpKind::Expand, {index}, {{"shape", x->type().shape}});
  ctx.set_output(0, ctx.op(OpKind::GatherElements, {x, index}, {{"axis", time_axis}}));
}

}  // namespace tessel::onnx

namespace tessel::onnx {

// TensorScatter (opset 24): writes `update` into the cache along `axis` starting at write_indices[b]
// per batch entry (wrapping around in circular mode), as one scatter_elements.
void import_tensor_scatter(NodeContext& ctx) {
  Value *cache = ctx.input(0), *update = ctx.input(1);
  if (!cache || !update) return;
  int64_t rank = cache->type().rank(), axis = ctx.attr_i("axis", -2);
  if (axis < -rank || axis >= rank)
    return (void)ctx.fail(make_error("axis {} is out of range for rank {}", axis, rank));
  if (axis < 0) axis += rank;
  std::string mode = ctx.attr_s("mode", "linear");
  if (mode != "linear" && mode != "circular") return (void)ctx.fail(make_error("unknown mode '{}'", mode));
  auto length = update->type().shape[axis].as_const();
  auto capacity = cache->type().shape[axis].as_const();
  if (axis == 0 || !length || !capacity)
    return (void)ctx.fail_unsupported(make_error("TensorScatter needs a non-batch axis with constant lengths"));
  std::vector<int64_t> ramp_shape(static_cast<size_t>(rank), 1);
  ramp_shape[axis] = *length;
  std::vector<int64_t> ramp(static_cast<size_t>(*length));
  for (int64_t i = 0; i < *length; ++i) ramp[i] = i;
  Value* index = ctx.constant(Tensor::of<int64_t>(ramp_shape, ramp), "ramp");
  if (ctx.has_input(2)) {
    Shape start_shape(static_cast<size_t>(rank), Dim(1));
    start_shape[0] = cache->type().shape[0];
    Value* start = ctx.op(OpKind::Reshape, {ctx.cast(ctx.input(2), DType::I64)}, {{"shape", start_shape}});
    index = ctx.op(OpKind::Add, {index, start});
  }
  if (mode == "circular") index = ctx.op(OpKind::Mod, {index, ctx.scalar(double(*capacity), DType::I64)});
  index = ctx.op(OpKind::Expand, {index}, {{"shape", update->type().shape}});
  ctx.set_output(0, ctx.op(OpKind::ScatterElements, {cache, index, update}, {{"axis", axis}}));
}

}  // namespace tessel::onnx

namespace tessel::onnx {

// Col2Im (opset 18): sums each column entry into its image position (strides, pads, dilations as in a
// convolution) with one scatter_elements(add) over a flattened image whose extra last slot catches the
// entries that fall into the padding. The position map is computed here.
void import_col2im(NodeContext& ctx) {
  Value* x = ctx.input(0);
  auto image = ctx.require_ints(1, "image_shape");
  auto block = ctx.require_ints(2, "block_shape");
  if (!x || !image || !block) return;
  size_t n = image->size();
  std::vector<int64_t> strides = ctx.attr_ints("strides", std::vector<int64_t>(n, 1));
  std::vector<int64_t> dilations = ctx.attr_ints("dilations", std::vector<int64_t>(n, 1));
  std::vector<int64_t> pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * n, 0));
  if (block->size() != n || strides.size() != n || dilations.size() != n || pads.size() != 2 * n ||
      x->type().rank() != 3 || !x->type().shape[1].is_const() || !x->type().shape[2].is_const())
    return (void)ctx.fail(make_error("Col2Im input {} and attributes do not fit image_shape [{}] and block_shape [{}]",
                                     x->type().str(), fmt::join(*image, ", "), fmt::join(*block, ", ")));
  int64_t rows = *x->type().shape[1].as_const(), cols = *x->type().shape[2].as_const();
  int64_t kernel = 1, pixels = 1, count = 1;
  std::vector<int64_t> blocks(n);
  for (size_t d = 0; d < n; ++d) {
    kernel *= (*block)[d];
    pixels *= (*image)[d];
    blocks[d] = ((*image)[d] + pads[d] + pads[d + n] - dilations[d] * ((*block)[d] - 1) - 1) / strides[d] + 1;
    count *= blocks[d];
  }
  if (kernel <= 0 || rows % kernel != 0 || cols != count)
    return (void)ctx.fail(make_error("Col2Im input {} does not fit image_shape [{}] and block_shape [{}]",
                                     x->type().str(), fmt::join(*image, ", "), fmt::join(*block, ", ")));
  int64_t channels = rows / kernel, trash = channels * pixels;
  if (rows * count > (int64_t{1} << 26)) return (void)ctx.fail_unsupported(make_error("Col2Im input is too large"));
  std::vector<int64_t> where(static_cast<size_t>(rows * count));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t l = 0; l < count; ++l) {
      // Row r = (channel, kernel offset), column l = block position; both row-major over the spatial dims.
      int64_t k = r % kernel, c = r / kernel, bl = l, flat = 0;
      bool inside = true;
      std::vector<int64_t> koff(n), boff(n);
      for (size_t d = n; d-- > 0;) {
        koff[d] = k % (*block)[d];
        k /= (*block)[d];
        boff[d] = bl % blocks[d];
        bl /= blocks[d];
      }
      for (size_t d = 0; d < n; ++d) {
        int64_t pos = boff[d] * strides[d] - pads[d] + koff[d] * dilations[d];
        inside = inside && pos >= 0 && pos < (*image)[d];
        flat = flat * (*image)[d] + pos;
      }
      where[r * count + l] = inside ? c * pixels + flat : trash;
    }
  const Dim& batch = x->type().shape[0];
  Value* index = ctx.op(OpKind::Expand, {ctx.constant(Tensor::of<int64_t>({1, rows * count}, where), "col2im")},
                        {{"shape", Shape{batch, rows * count}}});
  Value* canvas = ctx.op(OpKind::Expand, {ctx.scalar(0, x->type().dtype)}, {{"shape", Shape{batch, trash + 1}}});
  Value* values = ctx.op(OpKind::Reshape, {x}, {{"shape", Shape{batch, rows * count}}});
  Value* sums = ctx.op(OpKind::ScatterElements, {canvas, index, values}, {{"axis", int64_t{1}}, {"reduction", "add"}});
  sums = ctx.op(
      OpKind::Slice, {sums},
      {{"starts", std::vector<int64_t>{0}}, {"ends", std::vector<int64_t>{trash}}, {"axes", std::vector<int64_t>{1}}});
  Shape out{batch, Dim(channels)};
  for (int64_t d : *image) out.emplace_back(d);
  ctx.set_output(0, ctx.op(OpKind::Reshape, {sums}, {{"shape", out}}));
}

}  // namespace tessel::onnx
