// canonicalize: local rewrites that put the graph in a canonical, simpler form.
//
// Expects: a verified module.
// Guarantees (to a fixed point, at most kMaxSweeps sweeps per function):
//   - identities are gone: reshape to the operand's own type, transpose by the identity permutation, cast
//     to the operand's dtype, add/sub of a constant zero, mul/div by a constant one (when the constant does
//     not broadcast the other operand to a bigger shape; bool operands are left alone);
//   - no reshape reads a reshape and no transpose reads a transpose (chains become one op);
//   - conv followed by a per-output-channel constant mul and/or add (an imported inference batch-norm is
//     `mul(conv, a) + b` with constant a, b) becomes one conv with scaled weights and bias;
//   - matmul of two 2-D operands followed by the add of a [N], [1, N], [M, 1] or [M, N] operand becomes
//     gemm(A, B, C);
//   - no op is left without uses (dead ops are erased; unused pool constants are left to dce).
// Identity removal and chain merging are exact. x + 0 maps -0.0 to +0.0, which compares equal. The
// batch-norm and gemm rewrites reassociate float math (weights are scaled before the sum instead of
// after), so they agree with the original within float rounding, not bit for bit.
#include <optional>
#include <set>
#include <unordered_map>

#include "ir/ops/OpUtil.h"
#include "passes/Passes.h"
#include "passes/Rewriter.h"

namespace tessel {
namespace {

constexpr int kMaxSweeps = 8;

bool is_arith(DType dtype) { return is_float(dtype) || is_integer(dtype); }

/// True if every element of `value`'s constant equals `x`.
bool is_splat_constant(const Value* value, double x) {
  const Tensor* tensor = constant_of(value);
  if (!tensor || !is_arith(tensor->dtype())) return false;
  for (int64_t i = 0; i < tensor->numel(); ++i)
    if (tensor->get_double(i) != x) return false;
  return true;
}

std::vector<int64_t> normalized_perm(const Op& op) {
  std::vector<int64_t> perm = op.attr().ints("perm");
  int64_t rank = op.operand(0)->type().rank();
  if (perm.empty())
    for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
  return perm;
}

bool is_identity_perm(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i)) return false;
  return true;
}

/// Reads a constant as a per-channel vector of a [N, C, spatial...] result of `rank`: every dim 1 except,
/// possibly, the one aligned with C (numpy broadcasting aligns from the right). Nothing if it is not.
std::optional<std::vector<double>> per_channel(const Tensor& t, int64_t rank, int64_t channels) {
  if (t.rank() > rank) return std::nullopt;
  int64_t channel_axis = t.rank() - (rank - 1);  // the axis of t aligned with axis 1 of the result
  for (int64_t a = 0; a < t.rank(); ++a)
    if (t.dim(a) != 1 && !(a == channel_axis && t.dim(a) == channels)) return std::nullopt;
  bool varies = channel_axis >= 0 && t.dim(channel_axis) == channels;
  std::vector<double> values(channels);
  for (int64_t c = 0; c < channels; ++c) values[c] = t.get_double(varies ? c : 0);
  return values;
}

class Canonicalizer {
 public:
  explicit Canonicalizer(Function& function) : function_(function) {}

  Expected<bool> run() {
    bool changed = false;
    for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
      bool sweep_changed = false;
      erased_.clear();  // addresses of erased ops may be reused by ops created later
      count_uses();
      for (Op* op : function_.ops()) {
        if (erased_.count(op)) continue;
        TESSEL_ASSIGN(bool rewritten, rewrite(op));
        sweep_changed = sweep_changed || rewritten;
      }
      sweep_changed = erase_dead_ops() || sweep_changed;
      changed = changed || sweep_changed;
      if (!sweep_changed) break;
    }
    return changed;
  }

 private:
  void count_uses() {
    uses_.clear();
    for (const Op* op : function_.ops())
      for (const Value* operand : op->operands()) ++uses_[operand];
    for (const Value* output : function_.outputs()) ++uses_[output];
  }
  int uses(const Value* value) const {
    auto it = uses_.find(value);
    return it == uses_.end() ? 0 : it->second;
  }

  /// Replaces `op`'s single result by `value` (keeping the result's name) and erases `op`.
  bool replace(Op* op, Value* value) {
    if (value->producer() && uses(value) == 0) carry_name(op->result(), value);
    function_.replace_all_uses(op->result(), value);
    uses_[value] += uses(op->result());
    for (Value* operand : op->operands())
      if (operand) --uses_[operand];
    erased_.insert(op);
    function_.erase(op);
    return true;
  }

  /// New ops may reuse the addresses of erased ones.
  void forget_erased(const Rewriter& rewriter) {
    for (const Op* op : rewriter.created()) erased_.erase(op);
  }

  /// Erases every op whose results are unused, in reverse order so that chains go at once (as MLIR's
  /// canonicalizer does; pool constants are left to dce). Returns whether any op went.
  bool erase_dead_ops() {
    count_uses();
    std::vector<Op*> ops = function_.ops();
    bool changed = false;
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
      Op* op = *it;
      bool used = false;
      for (const Value* result : op->results()) used = used || uses(result) > 0;
      if (used) continue;
      for (const Value* operand : op->operands())
        if (operand) --uses_[operand];
      function_.erase(op);
      changed = true;
    }
    return changed;
  }

  Expected<bool> rewrite(Op* op) {
    switch (op->kind()) {
      case OpKind::Reshape: return rewrite_reshape(op);
      case OpKind::Transpose: return rewrite_transpose(op);
      case OpKind::Cast:
        if (op->operand(0)->type() == op->result()->type()) return replace(op, op->operand(0));
        return false;
      case OpKind::Add: {
        TESSEL_ASSIGN(bool folded, fold_into_conv(op));
        if (folded) return true;
        if (rewrite_identity(op, 0.0, true)) return true;
        return form_gemm(op);
      }
      case OpKind::Sub: return rewrite_identity(op, 0.0, false);
      case OpKind::Mul: {
        TESSEL_ASSIGN(bool folded, fold_into_conv(op));
        if (folded) return true;
        return rewrite_identity(op, 1.0, true);
      }
      case OpKind::Div: return rewrite_identity(op, 1.0, false);
      default: return false;
    }
  }

  // x op c -> x when c is all `neutral` and does not broadcast x; also c op x when `commutative`.
  bool rewrite_identity(Op* op, double neutral, bool commutative) {
    if (!is_arith(op->result()->type().dtype)) return false;
    for (int side = 0; side < (commutative ? 2 : 1); ++side) {
      Value* x = op->operand(side);
      Value* c = op->operand(1 - side);
      if (x->type() == op->result()->type() && is_splat_constant(c, neutral)) return replace(op, x);
    }
    return false;
  }

  bool rewrite_reshape(Op* op) {
    Value* x = op->operand(0);
    if (x->type() == op->result()->type()) return replace(op, x);
    Op* inner = x->producer();
    if (!inner || inner->kind() != OpKind::Reshape) return false;
    op->set_operand(0, inner->operand(0));
    ++uses_[inner->operand(0)];
    --uses_[x];
    if (op->operand(0)->type() == op->result()->type()) return replace(op, op->operand(0));
    return true;
  }

  bool rewrite_transpose(Op* op) {
    std::vector<int64_t> perm = normalized_perm(*op);
    for (int64_t p : perm)
      if (p < 0) return false;
    if (is_identity_perm(perm)) return replace(op, op->operand(0));
    Value* x = op->operand(0);
    Op* inner = x->producer();
    if (!inner || inner->kind() != OpKind::Transpose) return false;
    std::vector<int64_t> inner_perm = normalized_perm(*inner);
    std::vector<int64_t> composed;
    for (int64_t p : perm) {
      if (p >= static_cast<int64_t>(inner_perm.size()) || inner_perm[p] < 0) return false;
      composed.push_back(inner_perm[p]);  // y[i] = t[perm[i]] = x[inner[perm[i]]]
    }
    op->set_operand(0, inner->operand(0));
    op->set_attr("perm", composed);
    ++uses_[inner->operand(0)];
    --uses_[x];
    if (is_identity_perm(composed)) return replace(op, op->operand(0));
    return true;
  }

  // add(conv(x, W, b), B) or mul(conv(x, W, b), A) with per-output-channel constants -> one conv.
  Expected<bool> fold_into_conv(Op* op) {
    DType dtype = op->result()->type().dtype;
    if (!is_float(dtype)) return false;
    for (int side = 0; side < 2; ++side) {
      Value* y = op->operand(side);
      const Tensor* k = constant_of(op->operand(1 - side));
      Op* conv = y->producer();
      if (!k || !conv || conv->kind() != OpKind::Conv || uses(y) != 1 || y->type() != op->result()->type()) continue;
      const Tensor* w = constant_of(conv->operand(1));
      const Tensor* b = conv->operand(2) ? constant_of(conv->operand(2)) : nullptr;
      if (!w || (conv->operand(2) && !b)) continue;
      int64_t channels = w->dim(0);
      auto factors = per_channel(*k, y->type().rank(), channels);
      if (!factors) continue;
      bool scale = op->kind() == OpKind::Mul;
      Tensor new_w = *w;
      if (scale) {
        new_w = w->clone();
        int64_t per = channels ? w->numel() / channels : 0;
        for (int64_t i = 0; i < w->numel(); ++i) new_w.set_double(i, w->get_double(i) * (*factors)[i / per]);
      }
      Tensor new_b(dtype, {channels});
      for (int64_t c = 0; c < channels; ++c) {
        double bias = b ? b->get_double(c) : 0.0;
        new_b.set_double(c, scale ? bias * (*factors)[c] : bias + (*factors)[c]);
      }
      if (scale && !b) {
        // No bias before, none after: a zero bias would be an identity, so leave it out.
        bool all_zero = true;
        for (int64_t c = 0; c < channels; ++c) all_zero = all_zero && new_b.get_double(c) == 0.0;
        if (all_zero) new_b = Tensor();
      }
      Rewriter rewriter(function_, op, op->location());
      Value* weight = scale ? rewriter.constant(new_w, "conv_weight") : conv->operand(1);
      std::vector<Value*> operands{conv->operand(0), weight};
      if (new_b.rank() == 1) operands.push_back(rewriter.constant(new_b, "conv_bias"));
      Value* folded = rewriter.op(OpKind::Conv, operands, conv->attrs());
      TESSEL_TRY(rewriter.status());
      forget_erased(rewriter);
      for (Value* operand : operands) ++uses_[operand];
      return replace(op, folded);
    }
    return false;
  }

  // add(matmul(A, B), C) with 2-D A, B and C broadcasting to [M, N] -> gemm(A, B, C).
  bool form_gemm(Op* op) {
    if (!is_float(op->result()->type().dtype)) return false;
    for (int side = 0; side < 2; ++side) {
      Value* y = op->operand(side);
      Value* c = op->operand(1 - side);
      Op* matmul = y->producer();
      if (!matmul || matmul->kind() != OpKind::MatMul || uses(y) != 1 || y->type() != op->result()->type()) continue;
      if (matmul->operand(0)->type().rank() != 2 || matmul->operand(1)->type().rank() != 2) continue;
      const Shape& mn = y->type().shape;
      if (c->type().rank() > 2) continue;
      auto shape = ops::broadcast_shapes(c->type().shape, mn);
      if (!shape || *shape != mn) continue;
      Rewriter rewriter(function_, op, op->location());
      Value* gemm = rewriter.op(OpKind::Gemm, {matmul->operand(0), matmul->operand(1), c});
      if (!rewriter.status().ok()) continue;  // the shape rule refused this C: keep the two ops
      forget_erased(rewriter);
      ++uses_[matmul->operand(0)], ++uses_[matmul->operand(1)], ++uses_[c];
      return replace(op, gemm);
    }
    return false;
  }

  Function& function_;
  std::unordered_map<const Value*, int> uses_;
  std::set<const Op*> erased_;
};

}  // namespace

Expected<bool> canonicalize(Module& module, PassContext& context) {
  bool changed = false;
  for (const auto& function : module.functions()) {
    TESSEL_ASSIGN(bool function_changed, Canonicalizer(*function).run());
    changed = changed || function_changed;
  }
  return changed;
}

}  // namespace tessel
