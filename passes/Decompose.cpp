// decompose: rewrites composite ops as compositions of primitive ops, so that later passes (fusion,
// scheduling, the MLIR export) only meet reductions, elementwise math and matmuls.
//
// Expects: a verified module.
// Guarantees: these ops are replaced when their dtype is f32 or f64 --
//   softmax(x, axis)      = e / reduce_sum(e, [axis])            with e = exp(x - reduce_max(x, [axis]))
//   log_softmax(x, axis)  = (x - m) - log(reduce_sum(exp(x - m), [axis]))   with m = reduce_max(x, [axis])
//   layer_norm(x, s, b)   = (x - mean) * rsqrt(var + eps) * s + b  over the axes [axis, rank), with its
//                           mean and inv_std_dev results being the intermediate mean and rsqrt(var + eps)
//   gelu(x)               = 0.5 * x * (1 + erf(x / sqrt(2)))  (approximate=tanh: the tanh formula)
//   lstm / gru / rnn      = one gemm per step and direction plus the gate math (DecomposeRecurrent.cpp)
// f16/bf16 ops are kept: their kernels compute in float and round once, while a decomposition would
// round after every step, which is a larger change than a pass may make. Results agree with the
// composite kernels within float rounding (kernels compute in double); the exceptions are gelu at -inf
// (the formula gives -inf * 0 = NaN where the kernel gives the limit 0) and softmax rows holding +inf,
// which give NaN both ways. The subtraction of the row maximum is kept, so large inputs do not overflow.
#include <cmath>
#include <numbers>

#include "passes/DecomposeRecurrent.h"
#include "passes/Passes.h"
#include "passes/Rewriter.h"

namespace tessel {
namespace {

bool decomposable_dtype(DType dtype) { return dtype == DType::F32 || dtype == DType::F64; }

AttrMap reduce_attrs(std::vector<int64_t> axes) { return {{"axes", std::move(axes)}, {"keepdims", int64_t{1}}}; }

int64_t normalized_axis(const Op& op) {
  int64_t axis = op.attr().i("axis");
  int64_t rank = op.operand(0)->type().rank();
  return axis < 0 ? axis + rank : axis;
}

std::vector<Value*> softmax(Rewriter& r, const Op& op) {
  Value* x = op.operand(0);
  AttrMap attrs = reduce_attrs({normalized_axis(op)});
  Value* shifted = r.op(OpKind::Sub, {x, r.op(OpKind::ReduceMax, {x}, attrs)});
  Value* e = r.op(OpKind::Exp, {shifted});
  Value* sum = r.op(OpKind::ReduceSum, {e}, attrs);
  if (op.kind() == OpKind::Softmax) return {r.op(OpKind::Div, {e, sum})};
  return {r.op(OpKind::Sub, {shifted, r.op(OpKind::Log, {sum})})};
}

std::vector<Value*> layer_norm(Rewriter& r, const Op& op) {
  Value* x = op.operand(0);
  DType dtype = x->type().dtype;
  std::vector<int64_t> axes;
  for (int64_t a = normalized_axis(op); a < x->type().rank(); ++a) axes.push_back(a);
  Value* mean = r.op(OpKind::ReduceMean, {x}, reduce_attrs(axes));
  Value* centered = r.op(OpKind::Sub, {x, mean});
  Value* var = r.op(OpKind::ReduceMean, {r.op(OpKind::Mul, {centered, centered})}, reduce_attrs(axes));
  Value* inv_std = r.op(OpKind::Rsqrt, {r.op(OpKind::Add, {var, r.scalar(op.attr().f("epsilon"), dtype)})});
  Value* y = r.op(OpKind::Mul, {centered, inv_std});
  if (op.operand(1)) y = r.op(OpKind::Mul, {y, op.operand(1)});
  if (op.operand(2)) y = r.op(OpKind::Add, {y, op.operand(2)});
  std::vector<Value*> results{y, mean, inv_std};
  results.resize(op.num_results());
  return results;
}

std::vector<Value*> gelu(Rewriter& r, const Op& op) {
  Value* x = op.operand(0);
  DType dtype = x->type().dtype;
  Value* inner;
  if (op.attr().s("approximate") == "tanh") {
    // tanh(sqrt(2/pi) * (x + 0.044715 x^3))
    Value* cube = r.op(OpKind::Mul, {r.op(OpKind::Mul, {x, x}), x});
    Value* poly = r.op(OpKind::Add, {x, r.op(OpKind::Mul, {r.scalar(0.044715, dtype), cube})});
    inner = r.op(OpKind::Tanh, {r.op(OpKind::Mul, {r.scalar(std::sqrt(2.0 / std::numbers::pi), dtype), poly})});
  } else {
    inner = r.op(OpKind::Erf, {r.op(OpKind::Div, {x, r.scalar(std::numbers::sqrt2, dtype)})});
  }
  Value* half_x = r.op(OpKind::Mul, {r.scalar(0.5, dtype), x});
  return {r.op(OpKind::Mul, {half_x, r.op(OpKind::Add, {r.scalar(1.0, dtype), inner})})};
}

/// The replacement values of `op`'s results, or an empty list to keep the op.
Expected<std::vector<Value*>> decompose_op(Rewriter& r, const Op& op) {
  if (op.num_operands() == 0 || !op.operand(0) || !decomposable_dtype(op.operand(0)->type().dtype))
    return std::vector<Value*>{};
  switch (op.kind()) {
    case OpKind::Softmax:
    case OpKind::LogSoftmax: return softmax(r, op);
    case OpKind::LayerNorm: return layer_norm(r, op);
    case OpKind::Gelu: return gelu(r, op);
    case OpKind::Lstm:
    case OpKind::Gru:
    case OpKind::Rnn: return decompose_recurrent(r, op);
    default: return std::vector<Value*>{};
  }
}

Expected<bool> decompose_function(Function& function) {
  bool changed = false;
  for (Op* op : function.ops()) {
    Rewriter rewriter(function, op, op->location());
    TESSEL_ASSIGN(std::vector<Value*> values, decompose_op(rewriter, *op));
    TESSEL_TRY(rewriter.status());
    if (values.empty()) continue;
    for (size_t i = 0; i < op->num_results(); ++i) {
      if (!values[i]) return make_error("decompose produced no value for result {} of {}", i, op->name());
      if (values[i]->type() != op->result(i)->type())
        return make_error("decompose of {} produced {} for a result of type {}", op->name(), values[i]->type().str(),
                          op->result(i)->type().str());
      carry_name(op->result(i), values[i]);
      function.replace_all_uses(op->result(i), values[i]);
    }
    function.erase(op);
    changed = true;
  }
  return changed;
}

}  // namespace

Expected<bool> decompose(Module& module, PassContext& context) {
  bool changed = false;
  for (const auto& function : module.functions()) {
    TESSEL_ASSIGN(bool function_changed, decompose_function(*function));
    changed = changed || function_changed;
  }
  return changed;
}

}  // namespace tessel
