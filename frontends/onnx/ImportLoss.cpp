// Training losses as compositions: NegativeLogLikelihoodLoss picks -x[n, target[n, d], d] with
// gather_elements, weights it per class (ignored targets weigh 0), and reduces (mean divides by the total
// weight); SoftmaxCrossEntropyLoss is the same over log_softmax along the class axis.
#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

// The loss of `log_probs` [N, C, d...] against `target` [N, d...] (see the banner).
Value* nll_loss(NodeContext& ctx, Value* log_probs, Value* target, Value* weight) {
  if (!log_probs || !target) return nullptr;
  DType dtype = log_probs->type().dtype;
  if (log_probs->type().rank() < 2)
    return ctx.fail(make_error("the loss input must have rank >= 2 ([N, C, ...]), got {}", log_probs->type().str()));
  std::string reduction = ctx.attr_s("reduction", "mean");
  if (reduction != "mean" && reduction != "sum" && reduction != "none")
    return ctx.fail(make_error("reduction must be 'mean', 'sum' or 'none', got '{}'", reduction));
  Value* t = ctx.cast(target, DType::I64);
  Value* keep = nullptr;  // false where the target is ignore_index
  if (ctx.has_attr("ignore_index")) {
    Value* ignored = ctx.op(OpKind::Equal, {t, ctx.scalar(double(ctx.attr_i("ignore_index", 0)), DType::I64)});
    keep = ctx.op(OpKind::Not, {ignored});
    // Ignored targets may be any number; read class 0 for them and weigh them 0.
    t = ctx.op(OpKind::Where, {keep, t, ctx.scalar(0, DType::I64)});
  }
  std::vector<int64_t> class_axis{1};
  Value* picked = ctx.op(OpKind::GatherElements, {log_probs, ctx.op(OpKind::Unsqueeze, {t}, {{"axes", class_axis}})},
                         {{"axis", int64_t{1}}});
  Value* loss = ctx.op(OpKind::Neg, {ctx.op(OpKind::Squeeze, {picked}, {{"axes", class_axis}})});
  Value* w = nullptr;
  if (weight) w = ctx.op(OpKind::Gather, {weight, t}, {{"axis", int64_t{0}}});
  if (keep) {
    Value* zero = ctx.scalar(0, dtype);
    w = w ? ctx.op(OpKind::Where, {keep, w, zero}) : ctx.cast(keep, dtype);
  }
  if (w) loss = ctx.op(OpKind::Mul, {loss, w});
  if (reduction == "none") return loss;
  AttrMap all{{"axes", std::vector<int64_t>{}}, {"keepdims", int64_t{0}}};
  if (reduction == "sum") return ctx.op(OpKind::ReduceSum, {loss}, all);
  if (!w) return ctx.op(OpKind::ReduceMean, {loss}, all);
  return ctx.op(OpKind::Div, {ctx.op(OpKind::ReduceSum, {loss}, all), ctx.op(OpKind::ReduceSum, {w}, all)});
}

}  // namespace

void import_nll_loss(NodeContext& ctx) {
  ctx.set_output(0, nll_loss(ctx, ctx.input(0), ctx.input(1), ctx.optional_input(2)));
}

void import_softmax_cross_entropy_loss(NodeContext& ctx) {
  Value* log_probs = ctx.op(OpKind::LogSoftmax, {ctx.input(0)}, {{"axis", int64_t{1}}});
  ctx.set_output(0, nll_loss(ctx, log_probs, ctx.input(1), ctx.optional_input(2)));
  ctx.set_output(1, log_probs);
}

}  // namespace tessel::onnx
