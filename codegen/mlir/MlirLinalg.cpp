// matmul and gemm. Plain 2-D and same-batch 3-D products use linalg.matmul and
// linalg.batch_matmul; numpy's 1-D promotion, broadcast batch dims and gemm's
// transposes become a linalg.generic contraction whose indexing maps say it
// directly. Floats accumulate in f64 (MlirExportOptions) into an output of
// the accumulator type -- the named ops extend their operands to it -- and
// round once at the end, f16/bf16 through f32 as the interpreter does; integers
// accumulate in their own type, which wraps exactly like the interpreter's
// 64-bit accumulator truncated to the dtype.
#include <fmt/format.h>

#include "codegen/mlir/MlirEmitter.h"

namespace tessel::mlir {
namespace {

DType acc_dtype(const FunctionEmitter& e, DType dtype) {
  return is_float(dtype) ? float_acc_dtype(dtype, e.options()) : dtype;
}

Expected<TValue> zeros(FunctionEmitter& e, const TensorType& type) {
  return e.filled(type, constant(e.block(), type.dtype, 0.0));
}

/// out += a * b in the accumulator's type.
BodyFn multiply_accumulate() {
  return [](Block& b, const std::vector<Scalar>& args) -> Expected<std::vector<Scalar>> {
    Scalar acc = args[2];
    Scalar product = mul(b, convert(b, args[0], acc.t), convert(b, args[1], acc.t));
    return std::vector<Scalar>{add(b, acc, product)};
  };
}

Expected<TValue> named(FunctionEmitter& e, std::string_view op, const TValue& a, const TValue& b, const TValue& init) {
  std::string out = tensor_type(init.type);
  std::string text = fmt::format("linalg.{} ins({}, {} : {}, {}) outs({} : {}) -> {}", op, a.v, b.v,
                                 tensor_type(a.type), tensor_type(b.type), init.v, out, out);
  return TValue{e.block().def(text), init.type};
}

/// Map results for the batch dims of an operand with `batch_dims` leading dims, broadcast to `result`.
std::vector<std::string> batch_map(const Shape& shape, size_t batch_dims, const Shape& result, size_t batch) {
  Shape own(shape.begin(), shape.begin() + static_cast<long>(batch_dims));
  Shape target(result.begin(), result.begin() + static_cast<long>(batch));
  return broadcast_map(own, target);
}

Status emit_matmul_op(FunctionEmitter& e, const Op& op) {
  TValue a = e.value(op.operand(0)), b = e.value(op.operand(1));
  const TensorType& result = op.result()->type();
  DType dtype = result.dtype;
  bool a_vector = a.type.rank() == 1, b_vector = b.type.rank() == 1;
  size_t batch = static_cast<size_t>(result.rank()) - (a_vector ? 0 : 1) - (b_vector ? 0 : 1);
  TESSEL_ASSIGN(TValue init, zeros(e, {acc_dtype(e, dtype), result.shape}));
  TValue product;
  if (!a_vector && !b_vector && batch == 0) {
    TESSEL_ASSIGN(product, named(e, "matmul", a, b, init));
  } else if (batch == 1 && a.type.rank() == 3 && b.type.rank() == 3 && a.type.shape[0] == b.type.shape[0]) {
    TESSEL_ASSIGN(product, named(e, "batch_matmul", a, b, init));
  } else {
    // Loops: batch dims, then m (unless A is a vector), n (unless B is), and the reduction k last.
    int loops = static_cast<int>(batch) + (a_vector ? 0 : 1) + (b_vector ? 0 : 1) + 1;
    std::string m = fmt::format("d{}", batch), n = fmt::format("d{}", batch + (a_vector ? 0 : 1));
    std::string k = fmt::format("d{}", loops - 1);
    GenericSpec spec;
    spec.loops = loops;
    spec.reductions = {loops - 1};
    std::vector<std::string> a_map = batch_map(a.type.shape, a_vector ? 0 : a.type.rank() - 2, result.shape, batch);
    if (!a_vector) a_map.push_back(m);
    a_map.push_back(k);
    std::vector<std::string> b_map = batch_map(b.type.shape, b_vector ? 0 : b.type.rank() - 2, result.shape, batch);
    b_map.push_back(k);
    if (!b_vector) b_map.push_back(n);
    spec.inputs = {{a, a_map}, {b, b_map}};
    spec.outputs = {{init, identity_map(result.rank())}};
    spec.body = multiply_accumulate();
    TESSEL_ASSIGN(auto values, e.generic(spec));
    product = values[0];
  }
  TESSEL_ASSIGN(TValue y, e.cast(product, dtype, /*from_acc=*/true));
  e.bind(op.result(), y);
  return Status::success();
}

Status emit_gemm(FunctionEmitter& e, const Op& op) {
  TValue a = e.value(op.operand(0)), b = e.value(op.operand(1));
  AttrReader attrs = op.attr();
  bool trans_a = attrs.i("trans_a") != 0, trans_b = attrs.i("trans_b") != 0;
  double alpha = attrs.f("alpha"), beta = attrs.f("beta");
  const TensorType& result = op.result()->type();
  DType dtype = result.dtype;
  TESSEL_ASSIGN(TValue init, zeros(e, {acc_dtype(e, dtype), result.shape}));
  TValue product;
  if (!trans_a && !trans_b) {
    TESSEL_ASSIGN(product, named(e, "matmul", a, b, init));
  } else {
    GenericSpec spec;
    spec.loops = 3;  // m, n, k
    spec.reductions = {2};
    spec.inputs = {{a, trans_a ? std::vector<std::string>{"d2", "d0"} : std::vector<std::string>{"d0", "d2"}},
                   {b, trans_b ? std::vector<std::string>{"d1", "d2"} : std::vector<std::string>{"d2", "d1"}}};
    spec.outputs = {{init, {"d0", "d1"}}};
    spec.body = multiply_accumulate();
    TESSEL_ASSIGN(auto values, e.generic(spec));
    product = values[0];
  }
  // With beta = 0, C is ignored (ONNX reference).
  bool use_c = op.operand(2) && beta != 0;
  if (alpha == 1 && !use_c) {
    TESSEL_ASSIGN(TValue y, e.cast(product, dtype, /*from_acc=*/true));
    e.bind(op.result(), y);
    return Status::success();
  }
  std::vector<TValue> operands{product};
  if (use_c) operands.push_back(e.value(op.operand(2)));
  // Y = alpha * acc + beta * C in the accumulator type; integer alpha and beta wrap like the products.
  TESSEL_ASSIGN(TValue y, e.elementwise(operands, result, [&](Block& blk, const std::vector<Scalar>& args) {
    Scalar acc = args[0];
    auto scale = [&](double factor) {
      return is_float(acc.t) ? constant(blk, acc.t, factor) : int_constant(blk, acc.t, static_cast<int64_t>(factor));
    };
    Scalar value = alpha == 1 ? acc : mul(blk, scale(alpha), acc);
    if (use_c) value = add(blk, value, mul(blk, scale(beta), convert(blk, args[1], acc.t)));
    return narrow_acc(blk, value, dtype);
  }));
  e.bind(op.result(), y);
  return Status::success();
}

}  // namespace

Status emit_matmul(FunctionEmitter& e, const Op& op) {
  return op.kind() == OpKind::Gemm ? emit_gemm(e, op) : emit_matmul_op(e, op);
}

}  // namespace tessel::mlir
