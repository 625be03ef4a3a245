// conv and conv_transpose. A 2-D ungrouped conv is linalg.conv_2d_nchw_fchw
// on a tensor.pad-ed input; every other conv (1-D, 3-D, grouped) is a
// linalg.generic over [N, G, F/G, out..., C/G, taps...] with the channel axes
// split into groups by expand_shape, so that every indexing map is a plain
// affine map. conv_transpose becomes an ordinary conv: the input is spread
// with stride s into a zero tensor (tensor.insert_slice), padded by
// (K-1)*d - pad, and read against the spatially flipped kernel. The
// accumulator starts from the bias and is f64 by default; it rounds once at
// the end (f16/bf16 through f32), as the interpreter.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "codegen/mlir/MlirWindow.h"

namespace tessel::mlir {

Window read_window(const Op& op, size_t spatial) {
  AttrReader attrs = op.attr();
  auto list = [&](const char* name, int64_t fill) {
    std::vector<int64_t> values = attrs.ints(name);
    if (values.empty()) values.assign(spatial, fill);
    return values;
  };
  Window w{list("strides", 1), list("dilations", 1), {}, {}};
  std::vector<int64_t> pads = attrs.ints("pads");
  if (pads.empty()) pads.assign(2 * spatial, 0);
  w.pad_begin.assign(pads.begin(), pads.begin() + static_cast<long>(spatial));
  w.pad_end.assign(pads.begin() + static_cast<long>(spatial), pads.end());
  return w;
}

std::string i64_dense(const std::vector<int64_t>& values) {
  return fmt::format("dense<[{}]> : tensor<{}xi64>", fmt::join(values, ", "), values.size());
}

std::string window_expr(int out, int tap, int64_t stride, int64_t dilation) {
  return fmt::format("d{} * {} + d{} * {}", out, stride, tap, dilation);
}

Expected<TValue> bias_init(FunctionEmitter& e, const Value* bias, const TensorType& type, const Shape& bias_shape) {
  if (!bias) return e.filled(type, constant(e.block(), type.dtype, 0.0));
  TESSEL_ASSIGN(TValue b, e.reshape(e.value(bias), bias_shape));
  TESSEL_ASSIGN(TValue init, e.empty(type));
  GenericSpec spec;
  spec.loops = static_cast<int>(type.rank());
  std::vector<std::string> map;
  for (size_t i = 0; i < bias_shape.size(); ++i) map.push_back(fmt::format("d{}", i + 1));
  spec.inputs = {{b, map}};
  spec.outputs = {{init, identity_map(type.rank())}};
  spec.body = [](Block& blk, const std::vector<Scalar>& args) -> Expected<std::vector<Scalar>> {
    return std::vector<Scalar>{convert(blk, args[0], args[1].t)};
  };
  TESSEL_ASSIGN(std::vector<TValue> values, e.generic(spec));
  return values[0];
}

namespace {

/// w[..., K-1-k...]: the kernel reversed along its trailing `spatial` axes (whose sizes are constant).
Expected<TValue> flip_taps(FunctionEmitter& e, const TValue& w, size_t spatial) {
  int64_t rank = w.type.rank();
  std::vector<std::string> map = identity_map(rank);
  for (int64_t axis = rank - static_cast<int64_t>(spatial); axis < rank; ++axis)
    map[static_cast<size_t>(axis)] =
        fmt::format("{} - d{}", *w.type.shape[static_cast<size_t>(axis)].as_const() - 1, axis);
  TESSEL_ASSIGN(TValue init, e.empty(w.type));
  GenericSpec spec;
  spec.loops = static_cast<int>(rank);
  spec.inputs = {{w, map}};
  spec.outputs = {{init, identity_map(rank)}};
  spec.body = [](Block&, const std::vector<Scalar>& args) -> Expected<std::vector<Scalar>> {
    return std::vector<Scalar>{args[0]};
  };
  TESSEL_ASSIGN(std::vector<TValue> values, e.generic(spec));
  return values[0];
}

/// The grouped contraction: out[n, g, f, o...] += x[n, g, c, o*s + k*d...] * w[g, f, c, k...] (conv), or
/// with w[g, c, f, K-1-k...] (conv_transpose, whose x is already spread and padded; s = 1). Flipping the
/// kernel is a separate copy: linalg needs every loop to appear plainly in some operand's map.
Expected<TValue> grouped_conv(FunctionEmitter& e, const Op& op, const TValue& x, const TValue& w, int64_t group,
                              const Window& window, const TensorType& result, bool transposed) {
  size_t spatial = static_cast<size_t>(result.rank() - 2);
  const Shape& xs = x.type.shape;
  const Shape& ws = w.type.shape;
  auto per_group = [&](const Dim& d) { return d.divide_exact(Dim(group)).value_or(d); };
  Dim in_per_group = transposed ? per_group(ws[0]) : ws[1];
  Dim out_per_group = transposed ? ws[1] : per_group(ws[0]);
  Shape x_shape{xs[0], Dim(group), in_per_group}, w_shape{Dim(group)},
      acc_shape{result.shape[0], Dim(group), out_per_group};
  if (transposed) {
    w_shape.insert(w_shape.end(), {in_per_group, out_per_group});
  } else {
    w_shape.insert(w_shape.end(), {out_per_group, in_per_group});
  }
  for (size_t i = 0; i < spatial; ++i) {
    x_shape.push_back(xs[2 + i]);
    w_shape.push_back(ws[2 + i]);
    acc_shape.push_back(result.shape[2 + i]);
  }
  TESSEL_ASSIGN(TValue xg, e.reshape(x, x_shape));
  TESSEL_ASSIGN(TValue wg, e.reshape(w, w_shape));
  if (transposed) {
    TESSEL_ASSIGN(wg, flip_taps(e, wg, spatial));
  }
  DType acc = float_acc_dtype(result.dtype, e.options());
  TESSEL_ASSIGN(TValue init, bias_init(e, op.operand(2), {acc, acc_shape}, {Dim(group), out_per_group}));
  // Loops: n, g, f, out..., c, taps...
  int c = 3 + static_cast<int>(spatial);
  GenericSpec spec;
  spec.loops = c + 1 + static_cast<int>(spatial);
  std::vector<std::string> x_map{"d0", "d1", fmt::format("d{}", c)}, w_map{"d1"}, out_map{"d0", "d1", "d2"};
  if (transposed) {
    w_map.insert(w_map.end(), {fmt::format("d{}", c), "d2"});
  } else {
    w_map.insert(w_map.end(), {"d2", fmt::format("d{}", c)});
  }
  spec.reductions.push_back(c);
  for (size_t i = 0; i < spatial; ++i) {
    int out = 3 + static_cast<int>(i), tap = c + 1 + static_cast<int>(i);
    spec.reductions.push_back(tap);
    x_map.push_back(window_expr(out, tap, transposed ? 1 : window.strides[i], window.dilations[i]));
    w_map.push_back(fmt::format("d{}", tap));
    out_map.push_back(fmt::format("d{}", out));
  }
  spec.inputs = {{xg, x_map}, {wg, w_map}};
  spec.outputs = {{init, out_map}};
  spec.body = [](Block& b, const std::vector<Scalar>& args) -> Expected<std::vector<Scalar>> {
    Scalar a = args[2];
    return std::vector<Scalar>{add(b, a, mul(b, convert(b, args[0], a.t), convert(b, args[1], a.t)))};
  };
  TESSEL_ASSIGN(std::vector<TValue> values, e.generic(spec));
  return e.reshape(values[0], result.shape);
}

Status emit_conv_forward(FunctionEmitter& e, const Op& op) {
  const TValue &x = e.value(op.operand(0)), &w = e.value(op.operand(1));
  const TensorType& result = op.result()->type();
  size_t spatial = static_cast<size_t>(result.rank() - 2);
  Window window = read_window(op, spatial);
  int64_t group = op.attr().i("group");
  Shape low{0, 0}, high{0, 0};
  for (size_t i = 0; i < spatial; ++i) {
    low.push_back(Dim(window.pad_begin[i]));
    high.push_back(Dim(window.pad_end[i]));
  }
  TESSEL_ASSIGN(TValue padded, e.pad(x, low, high, constant(e.block(), x.type.dtype, 0.0)));
  TValue acc_result;
  if (spatial == 2 && group == 1) {
    DType acc = float_acc_dtype(result.dtype, e.options());
    TESSEL_ASSIGN(TValue init, bias_init(e, op.operand(2), {acc, result.shape}, {w.type.shape[0]}));
    std::string out = tensor_type(init.type);
    std::string text = fmt::format(
        "linalg.conv_2d_nchw_fchw {{dilations = {}, strides = {}}} ins({}, {} : {}, {}) outs({} : {}) -> {}",
        i64_dense(window.dilations), i64_dense(window.strides), padded.v, w.v, tensor_type(padded.type),
        tensor_type(w.type), init.v, out, out);
    acc_result = {e.block().def(text), init.type};
  } else {
    TESSEL_ASSIGN(acc_result, grouped_conv(e, op, padded, w, group, window,
                                           {float_acc_dtype(result.dtype, e.options()), result.shape}, false));
  }
  TESSEL_ASSIGN(TValue y, e.cast(acc_result, result.dtype, /*from_acc=*/true));
  e.bind(op.result(), y);
  return Status::success();
}

Status emit_conv_transpose(FunctionEmitter& e, const Op& op) {
  const TValue &x = e.value(op.operand(0)), &w = e.value(op.operand(1));
  const TensorType& result = op.result()->type();
  size_t spatial = static_cast<size_t>(result.rank() - 2);
  Window window = read_window(op, spatial);
  std::vector<int64_t> output_padding = op.attr().ints("output_padding");
  if (output_padding.empty()) output_padding.assign(spatial, 0);
  // y[o] = sum_k x'[o + k*d] * w[K-1-k], where x' is x spread with stride s and padded by (K-1)*d - pad_begin
  // in front and (K-1)*d - pad_end + output_padding behind.
  Shape spread_shape{x.type.shape[0], x.type.shape[1]};
  Shape offsets{0, 0};
  std::vector<int64_t> strides{1, 1};
  for (size_t i = 0; i < spatial; ++i) {
    auto kernel = w.type.shape[2 + i].as_const();
    if (!kernel) return e.op_error(op, "conv_transpose needs a constant kernel size");
    int64_t reach = (*kernel - 1) * window.dilations[i];
    int64_t front = reach - window.pad_begin[i], back = reach - window.pad_end[i] + output_padding[i];
    if (front < 0 || back < 0)
      return e.op_error(op, fmt::format("pads [{}] larger than the dilated kernel extent are not supported",
                                        fmt::join(op.attr().ints("pads"), ", ")));
    spread_shape.push_back(result.shape[2 + i] + Dim(reach));
    offsets.push_back(Dim(front));
    strides.push_back(window.strides[i]);
  }
  TESSEL_ASSIGN(TValue zeros, e.filled({x.type.dtype, spread_shape}, constant(e.block(), x.type.dtype, 0.0)));
  TESSEL_ASSIGN(std::string offset_list, e.mixed_list(offsets));
  TESSEL_ASSIGN(std::string size_list, e.mixed_list(x.type.shape));
  std::string text = fmt::format("tensor.insert_slice {} into {}{}{}[{}] : {} into {}", x.v, zeros.v, offset_list,
                                 size_list, fmt::join(strides, ", "), tensor_type(x.type), tensor_type(zeros.type));
  TValue spread{e.block().def(text), zeros.type};
  Window unit = window;
  unit.strides.assign(spatial, 1);
  DType acc = float_acc_dtype(result.dtype, e.options());
  TESSEL_ASSIGN(TValue acc_result,
                grouped_conv(e, op, spread, w, op.attr().i("group"), unit, {acc, result.shape}, true));
  TESSEL_ASSIGN(TValue y, e.cast(acc_result, result.dtype, /*from_acc=*/true));
  e.bind(op.result(), y);
  return Status::success();
}

}  // namespace

Status emit_conv(FunctionEmitter& e, const Op& op) {
  return op.kind() == OpKind::ConvTranspose ? emit_conv_transpose(e, op) : emit_conv_forward(e, op);
}

}  // namespace tessel::mlir
