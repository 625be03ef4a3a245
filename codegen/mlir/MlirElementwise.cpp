// Elementwise families as linalg.generic with numpy broadcasting in the
// indexing maps: unary, binary, where, cast. Bodies follow the interpreter
// (ir/ops/Unary.cpp, Binary.cpp): f16/bf16 compute in f32 and round back per
// op; integer div/mod by zero give 0 and INT_MIN / -1 wraps (selects guard the
// divisor, since arith.divsi is undefined there); float mod takes the divisor's
// sign; integer pow is exact and wraps (math.ipowi on i64, a negative exponent
// handled by select). Known difference: arith.minimumf/maximumf order -0 below
// +0, where the interpreter returns the first of two equal zeros.
#include <cmath>
#include <limits>
#include <numbers>

#include "codegen/mlir/MlirEmitter.h"

namespace tessel::mlir {
namespace {

const char* math_name(OpKind kind) {
  switch (kind) {
    case OpKind::Exp: return "exp";
    case OpKind::Log: return "log";
    case OpKind::Sqrt: return "sqrt";
    case OpKind::Tanh: return "tanh";
    case OpKind::Erf: return "erf";
    case OpKind::Floor: return "floor";
    case OpKind::Ceil: return "ceil";
    case OpKind::Round: return "roundeven";  // halves to even, as nearbyint
    case OpKind::Sin: return "sin";
    case OpKind::Cos: return "cos";
    case OpKind::Tan: return "tan";
    case OpKind::Asin: return "asin";
    case OpKind::Acos: return "acos";
    case OpKind::Atan: return "atan";
    case OpKind::Sinh: return "sinh";
    case OpKind::Cosh: return "cosh";
    case OpKind::Asinh: return "asinh";
    case OpKind::Acosh: return "acosh";
    case OpKind::Atanh: return "atanh";
    default: return nullptr;
  }
}

Scalar sigmoid(Block& b, Scalar x) {
  // Each branch takes exp of a non-positive argument where it is selected, as the interpreter does.
  Scalar one = constant(b, x.t, 1.0);
  Scalar positive = fdiv(b, one, add(b, one, unary_op(b, "exp", unary_op(b, "arith.negf", x))));
  Scalar e = unary_op(b, "exp", x);
  Scalar negative = fdiv(b, e, add(b, one, e));
  return select(b, compare(b, Cmp::Ge, x, constant(b, x.t, 0.0)), positive, negative);
}

Scalar gelu(Block& b, Scalar x, bool tanh_approximation) {
  auto c = [&](double v) { return constant(b, x.t, v); };
  Scalar half_x = mul(b, c(0.5), x);
  Scalar inner;
  if (tanh_approximation) {
    Scalar cube = mul(b, mul(b, mul(b, c(0.044715), x), x), x);
    inner = unary_op(b, "tanh", mul(b, c(std::sqrt(2.0 / std::numbers::pi)), add(b, x, cube)));
  } else {
    inner = unary_op(b, "erf", fdiv(b, x, c(std::numbers::sqrt2)));
  }
  Scalar value = mul(b, half_x, add(b, c(1.0), inner));
  // The formulas give inf * 0 = NaN at -inf; the limits are exact (NaN still gives NaN).
  Scalar limit = select(b, compare(b, Cmp::Gt, x, c(0.0)), x, c(0.0));
  Scalar infinite = compare(b, Cmp::Eq, unary_op(b, "math.absf", x), c(std::numeric_limits<double>::infinity()));
  return select(b, infinite, limit, value);
}

/// An attribute value as the kernel's compute type C holds it: static_cast<C>(value).
double in_compute_type(double value, DType compute) {
  return compute == DType::F64 ? value : static_cast<double>(static_cast<float>(value));
}

/// A float unary op on x in its compute type.
Scalar float_unary(Block& b, const Op& op, Scalar x) {
  auto c = [&](double v) { return constant(b, x.t, v); };
  AttrReader attrs = op.attr();
  if (const char* name = math_name(op.kind())) return unary_op(b, name, x);
  switch (op.kind()) {
    case OpKind::Neg: return unary_op(b, "arith.negf", x);
    case OpKind::Abs: return unary_op(b, "math.absf", x);
    case OpKind::Sign:  // NaN and +-0 map to themselves
      return select(b, compare(b, Cmp::Gt, x, c(0)), c(1), select(b, compare(b, Cmp::Lt, x, c(0)), c(-1), x));
    case OpKind::Rsqrt: return fdiv(b, c(1), unary_op(b, "sqrt", x));
    case OpKind::Reciprocal: return fdiv(b, c(1), x);
    case OpKind::Sigmoid: return sigmoid(b, x);
    case OpKind::Gelu: return gelu(b, x, attrs.s("approximate") == "tanh");
    case OpKind::Relu: return select(b, compare(b, Cmp::Lt, x, c(0)), c(0), x);  // NaN stays NaN
    case OpKind::LeakyRelu: return select(b, compare(b, Cmp::Lt, x, c(0)), mul(b, c(attrs.f("alpha")), x), x);
    case OpKind::Clip: {
      // v > hi ? hi : v < low ? low : v, with low = min(lo, hi): min > max makes every value max (ONNX).
      double lo = in_compute_type(attrs.f("min"), x.t), hi = in_compute_type(attrs.f("max"), x.t);
      double low = lo > hi ? hi : lo;
      Scalar y = x;
      if (low != -std::numeric_limits<double>::infinity()) y = select(b, compare(b, Cmp::Lt, x, c(low)), c(low), y);
      if (hi != std::numeric_limits<double>::infinity()) y = select(b, compare(b, Cmp::Gt, x, c(hi)), c(hi), y);
      return y;
    }
    default: return x;
  }
}

/// The bit pattern of `value` saturated into integer dtype `dtype` (Tensor::from_doubles' conversion).
int64_t saturated(double value, DType dtype) { return Tensor::from_doubles(dtype, {}, {value}).get_int(0); }

/// Whether a < b for two bit patterns of integer dtype `dtype`.
bool int_less(int64_t a, int64_t b, DType dtype) {
  return is_unsigned(dtype) ? static_cast<uint64_t>(a) < static_cast<uint64_t>(b) : a < b;
}

Expected<Scalar> int_unary(Block& b, const Op& op, Scalar x) {
  auto c = [&](int64_t v) { return int_constant(b, x.t, v); };
  bool is_signed = is_signed_integer(x.t);
  switch (op.kind()) {
    case OpKind::Neg: return sub(b, c(0), x);  // INT_MIN wraps to INT_MIN
    case OpKind::Abs: return is_signed ? unary_op(b, "math.absi", x) : x;
    case OpKind::Relu: return is_signed ? max(b, x, c(0)) : x;
    case OpKind::Sign: {
      Scalar positive = select(b, compare(b, Cmp::Gt, x, c(0)), c(1), c(0));
      return is_signed ? select(b, compare(b, Cmp::Lt, x, c(0)), c(-1), positive) : positive;
    }
    case OpKind::Clip: {
      // Bounds rounded toward the inside of [min, max] and saturated to the dtype.
      AttrReader attrs = op.attr();
      int64_t lo = saturated(std::ceil(attrs.f("min")), x.t), hi = saturated(std::floor(attrs.f("max")), x.t);
      int64_t low = int_less(hi, lo, x.t) ? hi : lo;
      Scalar y = select(b, compare(b, Cmp::Lt, x, c(low)), c(low), x);
      return select(b, compare(b, Cmp::Gt, x, c(hi)), c(hi), y);
    }
    default: return make_error("internal: {} has no integer form", op.name());
  }
}

Expected<Scalar> unary_body(Block& b, const Op& op, Scalar in) {
  // All ones: logical not on bool, bitwise not on integers.
  if (op.kind() == OpKind::Not) return binary_op(b, "arith.xori", in, int_constant(b, in.t, -1));
  if (!is_float(in.t)) return int_unary(b, op, in);
  Scalar x = widen(b, in);
  if (op.kind() == OpKind::IsNan) return compare(b, Cmp::Ne, x, x);  // une: true only for NaN
  if (op.kind() == OpKind::IsInf) {
    AttrReader attrs = op.attr();
    bool negative = attrs.i("detect_negative") != 0, positive = attrs.i("detect_positive") != 0;
    double inf = std::numeric_limits<double>::infinity();
    if (negative && positive) return compare(b, Cmp::Eq, unary_op(b, "math.absf", x), constant(b, x.t, inf));
    if (negative || positive) return compare(b, Cmp::Eq, x, constant(b, x.t, positive ? inf : -inf));
    return bool_constant(b, false);
  }
  return narrow(b, float_unary(b, op, x), in.t);
}

// ---- binary ----------------------------------------------------------------------------------------

Scalar int_div(Block& b, Scalar x, Scalar y) {
  auto c = [&](int64_t v) { return int_constant(b, x.t, v); };
  Scalar by_zero = compare(b, Cmp::Eq, y, c(0));
  Scalar guard = by_zero;
  if (is_signed_integer(x.t)) {
    // INT_MIN / -1 overflows in arith.divsi; dividing by 1 instead gives the wrapped INT_MIN.
    int bits = bit_width(x.t);
    int64_t int_min = bits == 64 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (bits - 1));
    Scalar overflow = binary_op(b, "arith.andi", compare(b, Cmp::Eq, x, c(int_min)), compare(b, Cmp::Eq, y, c(-1)));
    guard = binary_op(b, "arith.ori", by_zero, overflow);
  }
  Scalar divisor = select(b, guard, c(1), y);
  Scalar q = binary_op(b, is_signed_integer(x.t) ? "arith.divsi" : "arith.divui", x, divisor);
  return select(b, by_zero, c(0), q);
}

Scalar int_mod(Block& b, Scalar x, Scalar y, bool c_fmod) {
  auto c = [&](int64_t v) { return int_constant(b, x.t, v); };
  Scalar by_zero = compare(b, Cmp::Eq, y, c(0));
  if (!is_signed_integer(x.t))
    return select(b, by_zero, c(0), binary_op(b, "arith.remui", x, select(b, by_zero, c(1), y)));
  // x % -1 is 0; guarding it also avoids INT_MIN % -1, which overflows.
  Scalar guard = binary_op(b, "arith.ori", by_zero, compare(b, Cmp::Eq, y, c(-1)));
  Scalar r = binary_op(b, "arith.remsi", x, select(b, guard, c(1), y));
  if (!c_fmod) {
    Scalar signs_differ = binary_op(b, "arith.xori", compare(b, Cmp::Lt, r, c(0)), compare(b, Cmp::Lt, y, c(0)));
    Scalar fix = binary_op(b, "arith.andi", compare(b, Cmp::Ne, r, c(0)), signs_differ);
    r = select(b, fix, add(b, r, y), r);
  }
  return select(b, by_zero, c(0), r);
}

Scalar float_mod(Block& b, Scalar x, Scalar y, bool c_fmod) {
  Scalar r = binary_op(b, "arith.remf", x, y);  // C fmod
  if (c_fmod) return r;
  Scalar zero = constant(b, x.t, 0.0);
  Scalar signs_differ = binary_op(b, "arith.xori", compare(b, Cmp::Lt, r, zero), compare(b, Cmp::Lt, y, zero));
  Scalar shifted = select(b, signs_differ, add(b, r, y), r);
  // A zero remainder takes the divisor's sign, as Python's %.
  Scalar signed_zero = binary_op(b, "math.copysign", zero, y);
  return select(b, compare(b, Cmp::Eq, r, zero), signed_zero, shifted);
}

/// Integer base and exponent: exact power modulo 2^64 (math.ipowi on i64), then the base's width.
Scalar int_pow(Block& b, Scalar base, Scalar exponent) {
  auto c = [&](int64_t v) { return int_constant(b, DType::I64, v); };
  Scalar wide_base = convert(b, base, DType::I64);
  Scalar wide_exp = convert(b, exponent, DType::I64);
  if (!is_signed_integer(exponent.t)) return convert(b, binary_op(b, "math.ipowi", wide_base, wide_exp), base.t);
  // A negative exponent gives 0 (the truncated value of base^exp) except for bases 1 and -1.
  Scalar zero = c(0);
  Scalar negative = compare(b, Cmp::Lt, wide_exp, zero);
  Scalar power = binary_op(b, "math.ipowi", wide_base, select(b, negative, zero, wide_exp));
  Scalar odd = compare(b, Cmp::Ne, binary_op(b, "arith.andi", wide_exp, c(1)), zero);
  Scalar minus_one_power = select(b, odd, c(-1), c(1));
  Scalar is_minus_one = is_signed_integer(base.t) ? compare(b, Cmp::Eq, wide_base, c(-1)) : bool_constant(b, false);
  Scalar fraction = select(b, is_minus_one, minus_one_power, zero);
  fraction = select(b, compare(b, Cmp::Eq, wide_base, c(1)), c(1), fraction);
  return convert(b, select(b, negative, fraction, power), base.t);
}

Scalar pow(Block& b, Scalar base, Scalar exponent) {
  if (is_float(base.t)) {
    Scalar x = widen(b, base);
    return narrow(b, binary_op(b, "math.powf", x, convert(b, exponent, x.t)), base.t);
  }
  if (is_float(exponent.t)) {
    // Computed in f64, then converted as cast does (np.power(a, b).astype(a.dtype)).
    Scalar power = binary_op(b, "math.powf", convert(b, base, DType::F64), convert(b, exponent, DType::F64));
    return convert(b, power, base.t);
  }
  return int_pow(b, base, exponent);
}

Cmp comparison(OpKind kind) {
  switch (kind) {
    case OpKind::Less: return Cmp::Lt;
    case OpKind::LessEqual: return Cmp::Le;
    case OpKind::Greater: return Cmp::Gt;
    case OpKind::GreaterEqual: return Cmp::Ge;
    default: return Cmp::Eq;
  }
}

Scalar binary_body(Block& b, const Op& op, Scalar x, Scalar y) {
  OpKind kind = op.kind();
  switch (kind) {
    case OpKind::And: return binary_op(b, "arith.andi", x, y);
    case OpKind::Or: return binary_op(b, "arith.ori", x, y);
    case OpKind::Xor: return binary_op(b, "arith.xori", x, y);
    case OpKind::Pow: return pow(b, x, y);
    case OpKind::Equal:
    case OpKind::Less:
    case OpKind::LessEqual:
    case OpKind::Greater:
    case OpKind::GreaterEqual: return compare(b, comparison(kind), widen(b, x), widen(b, y));
    default: break;
  }
  bool c_fmod = kind == OpKind::Mod && op.attr().i("fmod") != 0;
  if (!is_float(x.t)) {
    switch (kind) {
      case OpKind::Add: return add(b, x, y);
      case OpKind::Sub: return sub(b, x, y);
      case OpKind::Mul: return mul(b, x, y);
      case OpKind::Div: return int_div(b, x, y);
      case OpKind::Min: return min(b, x, y);
      case OpKind::Max: return max(b, x, y);
      default: return int_mod(b, x, y, c_fmod);
    }
  }
  Scalar u = widen(b, x), v = widen(b, y), r;
  switch (kind) {
    case OpKind::Add: r = add(b, u, v); break;
    case OpKind::Sub: r = sub(b, u, v); break;
    case OpKind::Mul: r = mul(b, u, v); break;
    case OpKind::Div: r = fdiv(b, u, v); break;
    case OpKind::Min: r = min(b, u, v); break;
    case OpKind::Max: r = max(b, u, v); break;
    default: r = float_mod(b, u, v, c_fmod); break;
  }
  return narrow(b, r, x.t);
}

}  // namespace

Status emit_unary(FunctionEmitter& e, const Op& op) {
  Status status;
  TESSEL_ASSIGN(TValue result, e.elementwise({e.value(op.operand(0))}, op.result()->type(),
                                             [&](Block& b, const std::vector<Scalar>& args) {
                                               auto value = unary_body(b, op, args[0]);
                                               if (value) return *value;
                                               status = value.error();
                                               return args[0];
                                             }));
  TESSEL_TRY(status);
  e.bind(op.result(), result);
  return Status::success();
}

Status emit_binary(FunctionEmitter& e, const Op& op) {
  TESSEL_ASSIGN(TValue result, e.elementwise({e.value(op.operand(0)), e.value(op.operand(1))}, op.result()->type(),
                                             [&](Block& b, const std::vector<Scalar>& args) {
                                               return binary_body(b, op, args[0], args[1]);
                                             }));
  e.bind(op.result(), result);
  return Status::success();
}

Status emit_select(FunctionEmitter& e, const Op& op) {
  std::vector<TValue> operands{e.value(op.operand(0)), e.value(op.operand(1)), e.value(op.operand(2))};
  TESSEL_ASSIGN(TValue result,
                e.elementwise(operands, op.result()->type(), [](Block& b, const std::vector<Scalar>& args) {
                  return select(b, args[0], args[1], args[2]);
                }));
  e.bind(op.result(), result);
  return Status::success();
}

Status emit_cast(FunctionEmitter& e, const Op& op) {
  TESSEL_ASSIGN(TValue result, e.cast(e.value(op.operand(0)), op.result()->type().dtype));
  e.bind(op.result(), result);
  return Status::success();
}

}  // namespace tessel::mlir
