// layout: stores constant weights in the order the CPU kernels read them.
//
// Expects: a module whose weights are `const` ops (after fold-constants), a target. Runs after the last
// fold-constants, which would fold the transposes it adds back into the old layout, and before `fuse`,
// which inlines them into the consuming kernels.
// Guarantees: every result is unchanged bit for bit (only where weights are stored changes). On CPU
// targets:
// - conv with group 1 and constant weights W [oc, ic, k...]: W is read through views (transpose, reshape)
//   of a new constant W' that holds it blocked, [oc / B, ic, k..., B] with B two vectors of channels, or
//   channel-last [ic, k..., oc] when B does not divide oc. In the conv's kernel the weight loads along the
//   output channels are then contiguous, and the conv's lowering asks the scheduler to vectorize them
//   (DomainAxis::prefer_vector): every output-channel vector costs one load and one FMA per tap, and a
//   strided input is read one broadcast scalar at a time instead of through gathers. A conv with fewer
//   taps per output (ic x k...) than a vector has lanes keeps W: its output rows vectorize better.
// - gemm with a constant B: trans_b becomes 0 and B^T [k, n] is stored blocked [n / B, k, B] (B as for
//   convs) when B divides n, so a block of columns -- one thread's share of a batch-1 product -- reads
//   one contiguous stretch; else as B^T, so the loads along n (the vectorized output axis) are contiguous.
// - conv with padding: the input is padded by an explicit `pad` op and the conv has no padding, so the
//   kernel's innermost loop has no bounds tests (which would also keep LLVM from forming FMAs); `fuse`
//   keeps such a pad in a kernel of its own.
// - max_pool (float, one result, floor mode) with padding: the same, padding with -inf, so its windows
//   are plain strided loads.
// - a value x with a constant pad and other readers: the other readers read slice(pad(x)) (its interior,
//   exactly x), so the pad is x's only reader and `fuse` lets it ride on x's kernel as an epilogue: a
//   ResNet block's output, padded for the next conv1 and read plain by the residual add and the
//   downsampling conv, is stored once, padded.
// The old constants and pads are left for dce. On CUDA targets the pass does nothing (threads map output
// pixels).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "passes/Passes.h"
#include "passes/Rewriter.h"

namespace tessel {
namespace {

/// `tensor` transposed by `perm`, computed by the interpreter's transpose kernel.
Expected<Tensor> permuted(const Module& module, const Tensor& tensor, const std::vector<int64_t>& perm) {
  std::vector<int64_t> shape;
  for (int64_t p : perm) shape.push_back(tensor.shape()[static_cast<size_t>(p)]);
  AttrMap attrs{{"perm", perm}};
  EvalContext ctx{OpKind::Transpose, {&tensor}, AttrReader(OpKind::Transpose, attrs),
                  {tensor.dtype()},  {shape},   &module};
  TESSEL_ASSIGN(std::vector<Tensor> results, op_info(OpKind::Transpose).eval(ctx));
  return std::move(results.at(0));
}

std::string hint(const Value* weights, std::string_view suffix) {
  return fmt::format("{}_{}", weights->name().empty() ? "w" : weights->name(), suffix);
}

/// conv(x, W) -> conv(x, read(W')) where W' holds W [oc, ic, k...] in the order the conv's kernel walks it:
/// - blocked [oc / B, ic, k..., B] when B (two vectors of channels, the scheduler's register block)
///   divides oc: read back as reshape(transpose(W', [0, r, 1, .., r-1]), W's shape). Each block of B
///   output channels then reads one contiguous stretch of weights; channel-last with many channels
///   would stride every tap by oc elements, which maps a block's weights onto a few cache sets;
/// - else channel-last [ic, k..., oc]: read back as transpose(W', [r-1, 0, .., r-2]).
Expected<bool> relayout_conv(Function& function, Op* conv, int64_t block) {
  Value* w = conv->operand(1);
  const Tensor* weights = constant_of(w);
  if (!weights || conv->attr().i("group") != 1 || weights->shape().size() < 3) return false;
  const std::vector<int64_t>& shape = weights->shape();
  int64_t rank = static_cast<int64_t>(shape.size()), oc = shape[0];
  // Vectorized output channels store each vector as `lanes` scalars (the output is NCHW); with fewer taps
  // than that per output (a first layer on one input channel: 9) the stores cost more than the FMAs, and
  // the output row (contiguous loads and stores) is the better vector axis: keep W as it is.
  if (oc == 0 || weights->numel() / oc < block / 2) return false;
  Rewriter rewriter(function, conv, conv->location());
  Value* read = nullptr;
  if (block > 1 && oc > block && oc % block == 0) {
    std::vector<int64_t> split = {oc / block, block}, to_blocked = {0}, back = {0, rank};
    split.insert(split.end(), shape.begin() + 1, shape.end());
    for (int64_t d = 2; d <= rank; ++d) to_blocked.push_back(d);
    to_blocked.push_back(1);
    for (int64_t d = 1; d < rank; ++d) back.push_back(d);
    TESSEL_ASSIGN(Tensor stored, permuted(*function.module(), weights->reshaped(split), to_blocked));
    Value* blocked = rewriter.constant(std::move(stored), hint(w, "blocked"));
    Value* unblocked = rewriter.op(OpKind::Transpose, {blocked}, {{"perm", back}});
    read = rewriter.op(OpKind::Reshape, {unblocked}, {{"shape", w->type().shape}});
  } else {
    std::vector<int64_t> to_channel_last, back = {rank - 1};
    for (int64_t d = 1; d < rank; ++d) to_channel_last.push_back(d);
    to_channel_last.push_back(0);
    for (int64_t d = 0; d < rank - 1; ++d) back.push_back(d);
    TESSEL_ASSIGN(Tensor stored, permuted(*function.module(), *weights, to_channel_last));
    Value* channel_last = rewriter.constant(std::move(stored), hint(w, "channel_last"));
    read = rewriter.op(OpKind::Transpose, {channel_last}, {{"perm", back}});
  }
  TESSEL_TRY(rewriter.status());
  conv->set_operand(1, read);
  return true;
}

/// window_op(x) {pads = P} -> window_op(pad(x, P, fill)) {pads = 0}: the op's kernel then reads every tap
/// without a bounds test (fuse keeps such a pad in a kernel of its own). False when there is no padding.
Expected<bool> pad_window_input(Function& function, Op* op, double fill) {
  const auto& pads = op->attr().ints("pads");
  Value* x = op->operand(0);
  size_t spatial = pads.size() / 2;
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; }) ||
      x->type().rank() != static_cast<int64_t>(spatial) + 2)
    return false;
  std::vector<int64_t> full(2 * (spatial + 2), 0);
  for (size_t a = 0; a < spatial; ++a) {
    full[2 + a] = pads[a];
    full[spatial + 4 + a] = pads[spatial + a];
  }
  Rewriter rewriter(function, op, op->location());
  Value* padded = rewriter.op(OpKind::Pad, {x}, {{"pads", full}, {"mode", "constant"}, {"value", fill}});
  TESSEL_TRY(rewriter.status());
  op->set_operand(0, padded);
  op->set_attr("pads", std::vector<int64_t>(pads.size(), 0));
  return true;
}

/// max_pool pads with -inf when it has float inputs, one result and floor mode (its windows then are plain
/// strided loads); with indices or ceil mode the padding stays the op's.
Expected<bool> pad_max_pool_input(Function& function, Op* pool) {
  if (pool->num_results() != 1 || pool->attr().i("ceil_mode") != 0 || !is_float(pool->operand(0)->type().dtype))
    return false;
  return pad_window_input(function, pool, -INFINITY);
}

/// gemm(a, B, c) with a constant B -> gemm(a, read(B'), c) {trans_b = 0}, where B' holds B^T [k, n]:
/// - blocked [n / B, k, B] when B (two vectors of columns, the scheduler's register block) divides n and
///   n > B: read back as reshape(transpose(B', [1, 0, 2]), [k, n]). Each block of columns (one thread's
///   share at batch 1) then streams one contiguous stretch of weights rather than B of every n columns
///   per row;
/// - else B^T itself, when trans_b = 1 (so the loads along n are contiguous); else nothing.
Expected<bool> relayout_gemm(Function& function, Op* gemm, int64_t block) {
  Value* b = gemm->operand(1);
  const Tensor* weights = constant_of(b);
  if (!weights || weights->shape().size() != 2) return false;
  bool trans_b = gemm->attr().i("trans_b") != 0;
  int64_t k = weights->shape()[trans_b ? 1 : 0], n = weights->shape()[trans_b ? 0 : 1];
  bool blocked = block > 1 && n > block && n % block == 0;
  if (!trans_b && !blocked) return false;
  Rewriter rewriter(function, gemm, gemm->location());
  Value* read = nullptr;
  if (blocked) {
    // B^T [k, n] as [k, n / B, B], then the column blocks outermost.
    Tensor source = trans_b ? weights->reshaped({n / block, block, k}) : weights->reshaped({k, n / block, block});
    std::vector<int64_t> to_blocked = trans_b ? std::vector<int64_t>{0, 2, 1} : std::vector<int64_t>{1, 0, 2};
    TESSEL_ASSIGN(Tensor stored, permuted(*function.module(), source, to_blocked));
    Value* held = rewriter.constant(std::move(stored), hint(b, "blocked"));
    Value* unblocked = rewriter.op(OpKind::Transpose, {held}, {{"perm", std::vector<int64_t>{1, 0, 2}}});
    read = rewriter.op(OpKind::Reshape, {unblocked}, {{"shape", Shape{k, n}}});
  } else {
    TESSEL_ASSIGN(Tensor stored, permuted(*function.module(), *weights, {1, 0}));
    read = rewriter.constant(std::move(stored), hint(b, "t"));
  }
  TESSEL_TRY(rewriter.status());
  gemm->set_operand(1, read);
  gemm->set_attr("trans_b", int64_t{0});
  return true;
}

Expected<bool> relayout(Function& function, Op* op, const Target& target) {
  int64_t block = 2 * target.vector_bits / (8 * static_cast<int64_t>(dtype_size(op->result()->type().dtype)));
  if (op->kind() == OpKind::Gemm) return relayout_gemm(function, op, block);
  if (op->kind() == OpKind::MaxPool) return pad_max_pool_input(function, op);
  if (op->kind() != OpKind::Conv) return false;
  TESSEL_ASSIGN(bool padded, pad_window_input(function, op, 0.0));
  TESSEL_ASSIGN(bool weights, relayout_conv(function, op, block));
  return padded || weights;
}

/// x's other readers read slice(pad(x)) when a constant pad of x exists: pad(x) is then x's only reader,
/// so `fuse` lets it ride on x's kernel as an epilogue (the block output of a ResNet, padded for the next
/// conv and read plain by the residual add, is stored once, padded). Exact: the slice is x.
Expected<bool> share_pad(Function& function, Op* pad) {
  if (pad->kind() != OpKind::Pad || pad->attr().s("mode") != "constant" || pad->num_operands() != 1 ||
      count_uses(function, pad->result()) == 0)
    return false;
  Value* x = pad->operand(0);
  const auto& pads = pad->attr().ints("pads");
  const auto& outs = function.outputs();
  if (!x->producer() || x->producer()->kind() == OpKind::Const || std::find(outs.begin(), outs.end(), x) != outs.end())
    return false;
  if (std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0; })) return false;
  std::vector<Op*> others;
  for (Op* op : function.ops())
    if (op != pad && std::find(op->operands().begin(), op->operands().end(), x) != op->operands().end())
      others.push_back(op);
  if (others.empty()) return false;
  size_t rank = x->type().shape.size();
  std::vector<int64_t> starts, ends, axes;
  for (size_t a = 0; a < rank; ++a) {
    if (pads[a] == 0 && pads[a + rank] == 0) continue;
    auto extent = x->type().shape[a].as_const();
    if (!extent) return false;
    starts.push_back(pads[a]);
    ends.push_back(pads[a] + *extent);
    axes.push_back(static_cast<int64_t>(a));
  }
  if (axes.empty()) return false;
  // A new pad and the slice go right after x's producer, before every reader; the old pad is left for dce.
  const auto ops = function.ops();
  Op* after_x = *(std::find(ops.begin(), ops.end(), x->producer()) + 1);
  Rewriter rewriter(function, after_x, pad->location());
  Value* padded = rewriter.op(OpKind::Pad, {x}, pad->attrs());
  Value* plain = rewriter.op(OpKind::Slice, {padded}, {{"starts", starts}, {"ends", ends}, {"axes", axes}});
  TESSEL_TRY(rewriter.status());
  function.replace_all_uses(pad->result(), padded);
  for (Op* op : others)
    for (size_t i = 0; i < op->num_operands(); ++i)
      if (op->operand(i) == x) op->set_operand(i, plain);
  return true;
}

}  // namespace

Expected<bool> layout(Module& module, PassContext& context) {
  if (context.target.arch == TargetArch::Cuda) return false;
  bool changed = false;
  for (const auto& function : module.functions()) {
    for (Op* op : function->ops()) {
      auto done = relayout(*function, op, context.target);
      if (!done) return done.error().at(fmt::format("@{}: op '{}'", function->name(), op->name()));
      if (*done && context.log && context.options.verbose)
        *context.log << "layout: @" << function->name() << ": " << op->name() << " (" << op->location() << ")\n";
      changed = changed || *done;
    }
    // After the pads above exist: readers of a padded value share its pad.
    for (Op* op : function->ops()) {
      auto shared = share_pad(*function, op);
      if (!shared) return shared.error().at(fmt::format("@{}: op '{}'", function->name(), op->name()));
      changed = changed || *shared;
    }
  }
  return changed;
}

}  // namespace tessel
