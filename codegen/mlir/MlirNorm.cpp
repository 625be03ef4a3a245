// softmax, log_softmax and layer_norm as chains of linalg.generic ops, in the
// interpreter's order (ir/ops/Norm.cpp) and, by default, in f64: softmax takes
// the row maximum, sums exp(x - max), then divides (or subtracts the log);
// layer_norm takes the mean, the mean squared deviation, then
// ((x - mean) * inv_std) * scale + bias. Mean and inv_std results are f32 for
// f16/bf16 inputs (ONNX stash_type).
#include <limits>

#include "codegen/mlir/MlirReduce.h"

namespace tessel::mlir {
namespace {

Status emit_softmax(FunctionEmitter& e, const Op& op) {
  const TValue& x = e.value(op.operand(0));
  const TensorType& result = op.result()->type();
  int64_t axis = op.attr().i("axis");
  if (axis < 0) axis += x.type.rank();
  DType acc = float_acc_dtype(x.type.dtype, e.options());
  std::vector<bool> reduced(static_cast<size_t>(x.type.rank()), false);
  reduced[static_cast<size_t>(axis)] = true;
  Reduction maximum{
      reduced,
      constant(e.block(), acc, -std::numeric_limits<double>::infinity()),
      {},
      [](Block& b, const std::vector<Scalar>& ins, Scalar a) { return max(b, a, convert(b, ins[0], a.t)); }};
  TESSEL_ASSIGN(TValue m, reduce_keepdims(e, x, maximum));
  Reduction sum{reduced, constant(e.block(), acc, 0.0), {m}, [](Block& b, const std::vector<Scalar>& ins, Scalar a) {
                  return add(b, a, unary_op(b, "exp", sub(b, convert(b, ins[0], a.t), ins[1])));
                }};
  TESSEL_ASSIGN(TValue s, reduce_keepdims(e, x, sum));
  bool log = op.kind() == OpKind::LogSoftmax;
  TESSEL_ASSIGN(TValue y, e.elementwise({x, m, s}, result, [&](Block& b, const std::vector<Scalar>& args) {
    Scalar shifted = sub(b, convert(b, args[0], acc), args[1]);
    Scalar value = log ? sub(b, shifted, unary_op(b, "log", args[2])) : fdiv(b, unary_op(b, "exp", shifted), args[2]);
    return narrow_acc(b, value, result.dtype);
  }));
  e.bind(op.result(), y);
  return Status::success();
}

Status emit_layer_norm(FunctionEmitter& e, const Op& op) {
  const TValue& x = e.value(op.operand(0));
  int64_t axis = op.attr().i("axis");
  if (axis < 0) axis += x.type.rank();
  double epsilon = op.attr().f("epsilon");
  DType acc = float_acc_dtype(x.type.dtype, e.options());
  std::vector<bool> reduced(static_cast<size_t>(x.type.rank()), false);
  for (int64_t a = axis; a < x.type.rank(); ++a) reduced[static_cast<size_t>(a)] = true;
  TESSEL_ASSIGN(Scalar count, count_scalar(e, reduced_count(x.type.shape, reduced), acc));

  Reduction sum{reduced, constant(e.block(), acc, 0.0), {}, [](Block& b, const std::vector<Scalar>& ins, Scalar a) {
                  return add(b, a, convert(b, ins[0], a.t));
                }};
  TESSEL_ASSIGN(TValue total, reduce_keepdims(e, x, sum));
  // An empty row has mean 0/0 = NaN.
  TESSEL_ASSIGN(TValue mean, e.elementwise({total}, total.type, [&](Block& b, const std::vector<Scalar>& args) {
    return fdiv(b, args[0], count);
  }));
  Reduction squares{
      reduced, constant(e.block(), acc, 0.0), {mean}, [](Block& b, const std::vector<Scalar>& ins, Scalar a) {
        Scalar d = sub(b, convert(b, ins[0], a.t), ins[1]);
        return add(b, a, mul(b, d, d));
      }};
  TESSEL_ASSIGN(TValue deviation, reduce_keepdims(e, x, squares));
  TESSEL_ASSIGN(TValue inv_std,
                e.elementwise({deviation}, deviation.type, [&](Block& b, const std::vector<Scalar>& args) {
                  Scalar variance = add(b, fdiv(b, args[0], count), constant(b, acc, epsilon));
                  return fdiv(b, constant(b, acc, 1.0), unary_op(b, "sqrt", variance));
                }));

  std::vector<TValue> operands{x, mean, inv_std};
  bool has_scale = op.operand(1) != nullptr, has_bias = op.operand(2) != nullptr;
  if (has_scale) operands.push_back(e.value(op.operand(1)));
  if (has_bias) operands.push_back(e.value(op.operand(2)));
  const TensorType& result = op.result(0)->type();
  TESSEL_ASSIGN(TValue y, e.elementwise(operands, result, [&](Block& b, const std::vector<Scalar>& args) {
    Scalar value = mul(b, sub(b, convert(b, args[0], acc), args[1]), args[2]);
    size_t next = 3;
    if (has_scale) value = mul(b, value, convert(b, args[next++], acc));
    // The interpreter always adds the bias (0 when absent), which also turns -0 into +0.
    Scalar bias = has_bias ? convert(b, args[next], acc) : constant(b, acc, 0.0);
    return narrow_acc(b, add(b, value, bias), result.dtype);
  }));
  e.bind(op.result(0), y);
  const TValue* stats[] = {&mean, &inv_std};
  for (size_t i = 1; i < op.num_results(); ++i) {
    TESSEL_ASSIGN(TValue stat, e.cast(*stats[i - 1], op.result(i)->type().dtype, /*from_acc=*/true));
    e.bind(op.result(i), stat);
  }
  return Status::success();
}

}  // namespace

Status emit_norm(FunctionEmitter& e, const Op& op) {
  return op.kind() == OpKind::LayerNorm ? emit_layer_norm(e, op) : emit_softmax(e, op);
}

}  // namespace tessel::mlir
