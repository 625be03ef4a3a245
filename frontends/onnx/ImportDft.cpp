// DFT (opsets 17 and 20) as contractions with constant cosine / sine matrices along the signal axis,
// in f64 like the reference's numpy FFT: forward (full or onesided), inverse (divided by the length), and
// onesided inverse (irfft, which doubles the conjugate-symmetric half). The input's last dim holds 1 (real)
// or 2 (real, imaginary) components; the output's holds 2, or 1 for irfft.
#include <cmath>
#include <numbers>

#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

// x [..., T] (f64) contracted with a constant [T, K] matrix along its last axis.
Value* contract(NodeContext& ctx, Value* x, const std::vector<double>& matrix, int64_t rows, int64_t cols) {
  return ctx.op(OpKind::MatMul, {x, ctx.constant(Tensor::from_doubles(DType::F64, {rows, cols}, matrix), "dft")});
}

}  // namespace

void import_dft(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  int64_t rank = x->type().rank();
  int64_t axis = ctx.opset() >= 20 ? -2 : ctx.attr_i("axis", 1);
  if (ctx.opset() >= 20 && ctx.has_input(2)) {
    auto a = ctx.require_ints(2, "axis");
    if (!a) return;
    axis = a->at(0);
  }
  if (rank < 2 || axis < -rank || axis >= rank)
    return (void)ctx.fail(make_error("axis {} does not fit {}", axis, x->type().str()));
  if (axis < 0) axis += rank;
  if (axis == rank - 1) return (void)ctx.fail(make_error("the DFT axis cannot be the last (component) axis"));
  auto components = x->type().shape[rank - 1].as_const();
  auto length = x->type().shape[axis].as_const();
  if (!components || (*components != 1 && *components != 2) || !length)
    return (void)ctx.fail_unsupported(
        make_error("DFT needs a constant signal length and 1 or 2 components, got {}", x->type().str()));
  bool inverse = ctx.attr_i("inverse", 0) != 0, onesided = ctx.attr_i("onesided", 0) != 0;
  int64_t n = inverse && onesided ? 2 * (*length - 1) : *length;
  if (ctx.has_input(1)) {
    auto given = ctx.require_ints(1, "dft_length");
    if (!given) return;
    n = given->at(0);
  }
  if (n <= 0 || n > 65536) return (void)ctx.fail(make_error("dft_length {} is out of range", n));

  // Real and imaginary parts, f64, with the signal axis last: [..., L].
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < rank - 1; ++i)
    if (i != axis) perm.push_back(i);
  perm.push_back(axis);
  auto component = [&](int64_t c) {
    Value* part = ctx.op(OpKind::Slice, {ctx.cast(x, DType::F64)},
                         {{"starts", std::vector<int64_t>{c}},
                          {"ends", std::vector<int64_t>{c + 1}},
                          {"axes", std::vector<int64_t>{rank - 1}}});
    part = ctx.op(OpKind::Squeeze, {part}, {{"axes", std::vector<int64_t>{rank - 1}}});
    return ctx.op(OpKind::Transpose, {part}, {{"perm", perm}});
  };
  Value* re = component(0);
  Value* im = *components == 2 ? component(1) : nullptr;

  // Rows: input positions used (the input is cut or zero-padded to the transform's input length).
  int64_t used = inverse && onesided ? std::min(*length, n / 2 + 1) : std::min(*length, n);
  int64_t outputs = inverse ? n : (onesided ? n / 2 + 1 : n);
  if (used < *length) {
    AttrMap first{
        {"starts", std::vector<int64_t>{0}}, {"ends", std::vector<int64_t>{used}}, {"axes", std::vector<int64_t>{-1}}};
    re = ctx.op(OpKind::Slice, {re}, first);
    if (im) im = ctx.op(OpKind::Slice, {im}, first);
  }
  std::vector<double> cos_m(static_cast<size_t>(used * outputs)), sin_m(cos_m.size());
  for (int64_t t = 0; t < used; ++t)
    for (int64_t k = 0; k < outputs; ++k) {
      double theta = 2 * std::numbers::pi * double((t * k) % n) / double(n);
      // irfft counts each interior frequency twice (its conjugate mirror); all inverses divide by n.
      double weight = 1.0;
      if (inverse && onesided) weight = (t == 0 || 2 * t == n) ? 1.0 : 2.0;
      if (inverse) weight /= double(n);
      cos_m[t * outputs + k] = weight * std::cos(theta);
      sin_m[t * outputs + k] = weight * std::sin(theta);
    }
  // Forward: re' = re C + im S, im' = im C - re S. Inverse: re' = re C - im S, im' = re S + im C.
  Value* out_re = contract(ctx, re, cos_m, used, outputs);
  Value* out_im = nullptr;
  if (!(inverse && onesided)) {
    Value* re_s = contract(ctx, re, sin_m, used, outputs);
    out_im = inverse ? re_s : ctx.op(OpKind::Neg, {re_s});
  }
  if (im) {
    Value* im_s = contract(ctx, im, sin_m, used, outputs);
    out_re = ctx.op(inverse ? OpKind::Sub : OpKind::Add, {out_re, im_s});
    if (out_im) out_im = ctx.op(OpKind::Add, {out_im, contract(ctx, im, cos_m, used, outputs)});
  }
  // Back to the input's axis order, with the component axis last.
  std::vector<int64_t> inverse_perm(static_cast<size_t>(rank - 1));
  for (int64_t i = 0; i < rank - 1; ++i) inverse_perm[perm[i]] = i;
  auto restore = [&](Value* v) {
    v = ctx.op(OpKind::Transpose, {v}, {{"perm", inverse_perm}});
    return ctx.op(OpKind::Unsqueeze, {v}, {{"axes", std::vector<int64_t>{rank - 1}}});
  };
  Value* y =
      out_im ? ctx.op(OpKind::Concat, {restore(out_re), restore(out_im)}, {{"axis", rank - 1}}) : restore(out_re);
  ctx.set_output(0, ctx.cast(y, x->type().dtype));
}

}  // namespace tessel::onnx
