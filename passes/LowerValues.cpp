// The inliner of the lowering: elementwise tensor ops become loop-IR expressions at an index, with the
// tensor IR's semantics (docs/ir.md) spelled out -- Python-style mod, clip bounds, is_inf flags, gelu's
// exact limits, f16/bf16 rounded after every op -- and broadcasting becomes index arithmetic.
#include <cmath>
#include <numbers>

#include "ir/Saturate.h"
#include "ir/loop/LowPrecisionExpr.h"
#include "ir/loop/Transforms.h"
#include "passes/LowerImpl.h"

namespace tessel::lower {

using namespace loop;  // NOLINT: the expression builders read best unqualified here

DType compute_dtype(DType dtype) { return dtype == DType::F16 || dtype == DType::BF16 ? DType::F32 : dtype; }

Expr round_to(DType dtype, const Expr& value) {
  if (compute_dtype(dtype) == dtype) return value;
  return cast(Type{compute_dtype(dtype), value->type.lanes}, cast(Type{dtype, value->type.lanes}, value));
}

Expr flat_index(const std::vector<Expr>& index, const Shape& shape) {
  Expr flat = int_imm(0);
  for (size_t d = 0; d < index.size(); ++d) flat = flat * dim_expr(shape[d]) + index[d];
  return simplify(flat);
}

Error op_error(const Op& op, const std::string& message) { return make_error("lower: op '{}' {}", op.name(), message); }

namespace {

Expr imm(double value, DType dtype) {
  return is_float(dtype) ? float_imm(value, dtype) : int_imm(static_cast<int64_t>(value), dtype);
}

template <typename T>
int64_t int_bound(double value) {
  return static_cast<int64_t>(saturating_int<T>(value));
}

/// Clip bounds for an integer dtype, rounded toward the interior and saturated (as the interpreter).
std::pair<int64_t, int64_t> int_clip_bounds(DType dtype, double lo, double hi) {
  switch (dtype) {
    case DType::I8: return {int_bound<int8_t>(std::ceil(lo)), int_bound<int8_t>(std::floor(hi))};
    case DType::I16: return {int_bound<int16_t>(std::ceil(lo)), int_bound<int16_t>(std::floor(hi))};
    case DType::I32: return {int_bound<int32_t>(std::ceil(lo)), int_bound<int32_t>(std::floor(hi))};
    case DType::U8: return {int_bound<uint8_t>(std::ceil(lo)), int_bound<uint8_t>(std::floor(hi))};
    case DType::U16: return {int_bound<uint16_t>(std::ceil(lo)), int_bound<uint16_t>(std::floor(hi))};
    case DType::U32: return {int_bound<uint32_t>(std::ceil(lo)), int_bound<uint32_t>(std::floor(hi))};
    case DType::U64:
      return {static_cast<int64_t>(saturating_int<uint64_t>(std::ceil(lo))),
              static_cast<int64_t>(saturating_int<uint64_t>(std::floor(hi)))};
    default: return {int_bound<int64_t>(std::ceil(lo)), int_bound<int64_t>(std::floor(hi))};
  }
}

Expr gelu(const Expr& x, bool tanh_approximation) {
  DType c = x->type.elem;
  Expr half = float_imm(0.5, c), one = float_imm(1, c);
  Expr body;
  if (!tanh_approximation) {
    body = half * x * (one + call(Intrinsic::Erf, {x / float_imm(std::numbers::sqrt2, c)}));
  } else {
    Expr k = float_imm(std::sqrt(2.0 / std::numbers::pi), c);
    body = half * x * (one + call(Intrinsic::Tanh, {k * (x + float_imm(0.044715, c) * x * x * x)}));
  }
  // The formulas give inf * 0 = NaN at -inf; the limits are exact.
  Expr limit = select(x > float_imm(0, c), x, float_imm(0, c));
  return select(call(Intrinsic::IsInf, {x}), limit, body);
}

Expr python_mod(const Expr& a, const Expr& b) {
  DType c = a->type.elem;
  Expr zero = imm(0, c);
  Expr r = a % b;
  Expr fix = select(ne(r < zero, b < zero), r + b, r);
  if (!is_float(c)) return select(ne(r, zero) && ne(r < zero, b < zero), r + b, r);
  // A zero remainder takes the divisor's sign.
  return select(eq(r, zero), select(b < zero, float_imm(-0.0, c), zero), fix);
}

/// `x` (in its compute dtype) cast to compute dtype `to` with the tensor IR's rules; f16/bf16 round.
Expr compute_cast(const Expr& x, DType to) {
  if (x->type.elem == to) return x;
  return round_to(to, cast(Type{compute_dtype(to)}, compute_dtype(to) == to ? x : cast(Type{to}, x)));
}

/// A cast from or to a low-precision dtype, as the interpreter does it: low-precision values widen to
/// f32 (floats) or a small integer holding them exactly; integer targets wrap what the source gives as
/// i64; float targets round from f32 (ir/loop/LowPrecisionExpr.h spells the bits out).
Expected<Expr> low_precision_cast(const Op& op, Expr x, DType to) {
  DType from = x->type.elem;
  if (is_low_precision_float(from)) x = low_precision_float_to_f32(x);
  if (is_low_precision_int(from)) x = low_precision_int_value(x);
  if (!is_low_precision(to)) return compute_cast(x, to);
  if (is_low_precision_int(to)) return i64_to_low_precision_int(to, compute_cast(x, DType::I64));
  AttrReader attrs = op.attr();
  auto rounding = parse_e8m0_rounding(attrs.s("round_mode"));
  if (!rounding) return op_error(op, "has round_mode \"" + attrs.s("round_mode") + "\"; expected up, down or nearest");
  return f32_to_low_precision_float(to, compute_cast(x, DType::F32), attrs.i("saturate") != 0, *rounding);
}

}  // namespace

Expected<Expr> Inliner::value_at(const Value* v, const std::vector<Expr>& index) {
  if (auto it = subst_.find(v); it != subst_.end()) return it->second;
  DType dtype = v->type().dtype;
  if (auto it = packed_.find(v); it != packed_.end()) {
    Expr loaded = load(it->second.first, dtype, it->second.second(index));
    return compute_dtype(dtype) == dtype ? loaded : cast(Type{compute_dtype(dtype)}, loaded);
  }
  if (auto it = buffers_.find(v); it != buffers_.end()) {
    Expr loaded = load(it->second, dtype, flat_index(index, v->type().shape));
    return compute_dtype(dtype) == dtype ? loaded : cast(Type{compute_dtype(dtype)}, loaded);
  }
  if (!v->producer()) return make_error("lower: function input '{}' has no buffer", v->name());
  return op_at(*v->producer(), v, index);
}

Expected<Expr> Inliner::broadcast_operand(const Op& op, size_t i, const std::vector<Expr>& index) {
  const Value* operand = op.operand(i);
  const Shape& shape = operand->type().shape;
  size_t offset = index.size() - shape.size();
  std::vector<Expr> sub;
  for (size_t d = 0; d < shape.size(); ++d) sub.push_back(shape[d] == Dim(1) ? int_imm(0) : index[offset + d]);
  return value_at(operand, sub);
}

Expected<Expr> Inliner::op_at(const Op& op, const Value* v, const std::vector<Expr>& index) {
  if (is_staged(op)) return staged_at(op, v, index);
  switch (op_info(op.kind()).family) {
    case OpFamily::Const: return constant_at(op, index);
    case OpFamily::Unary: return unary_at(op, index);
    case OpFamily::Binary: return binary_at(op, index);
    case OpFamily::Select: {
      TESSEL_ASSIGN(Expr c, broadcast_operand(op, 0, index));
      TESSEL_ASSIGN(Expr a, broadcast_operand(op, 1, index));
      TESSEL_ASSIGN(Expr b, broadcast_operand(op, 2, index));
      return select(c, a, b);
    }
    case OpFamily::Cast: {
      TESSEL_ASSIGN(Expr x, value_at(op.operand(0), index));
      DType to = op.attr().type("to");
      if (x->type.elem == to) return x;
      if (is_low_precision(x->type.elem) || is_low_precision(to)) return low_precision_cast(op, x, to);
      return compute_cast(x, to);
    }
    case OpFamily::Shape: return shape_op_at(op, v, index);
    default: return op_error(op, "is an anchor that was not materialized (internal lowering error)");
  }
}

Expected<Expr> Inliner::constant_at(const Op& op, const std::vector<Expr>& index) {
  const std::string& name = op.attr().s("name");
  const Tensor* tensor = module_ ? module_->constant(name) : nullptr;
  if (!tensor) return op_error(op, "names constant '" + name + "', which the module does not have");
  DType dtype = tensor->dtype();
  DType c = compute_dtype(dtype);
  if (tensor->numel() == 1) {
    if (is_low_precision(dtype)) return int_imm(tensor->data<uint8_t>()[0], dtype);  // the raw byte
    if (is_float(dtype)) return float_imm(tensor->get_double(0), c);
    return int_imm(tensor->get_int(0), c);
  }
  std::string buffer = "c_";
  for (char ch : name) buffer += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  constant_buffers_[buffer] = name;
  Expr loaded = load(buffer, dtype, flat_index(index, op.result()->type().shape));
  return c == dtype ? loaded : cast(Type{c}, loaded);
}

Expected<Expr> Inliner::unary_at(const Op& op, const std::vector<Expr>& index) {
  TESSEL_ASSIGN(Expr x, value_at(op.operand(0), index));
  DType dtype = op.operand(0)->type().dtype;
  DType c = x->type.elem;
  bool fp = is_float(c);
  auto fn = [&](Intrinsic f) { return call(f, {x}); };
  Expr zero = imm(0, c), one = imm(1, c);
  Expr r;
  switch (op.kind()) {
    case OpKind::Neg: r = fn(Intrinsic::Neg); break;
    case OpKind::Abs: r = fn(Intrinsic::Abs); break;
    case OpKind::Sign: r = select(x > zero, one, select(x < zero, imm(-1, c), fp ? x : zero)); break;
    case OpKind::Exp: r = fn(Intrinsic::Exp); break;
    case OpKind::Log: r = fn(Intrinsic::Log); break;
    case OpKind::Sqrt: r = fn(Intrinsic::Sqrt); break;
    case OpKind::Rsqrt: r = one / fn(Intrinsic::Sqrt); break;
    case OpKind::Reciprocal: r = one / x; break;
    case OpKind::Tanh: r = fn(Intrinsic::Tanh); break;
    case OpKind::Sigmoid: r = fn(Intrinsic::Sigmoid); break;
    case OpKind::Erf: r = fn(Intrinsic::Erf); break;
    case OpKind::Gelu: r = gelu(x, op.attr().s("approximate") == "tanh"); break;
    case OpKind::Relu: r = select(x < zero, zero, x); break;
    case OpKind::LeakyRelu: r = select(x < zero, float_imm(op.attr().f("alpha"), c) * x, x); break;
    case OpKind::Clip: {
      double lo_attr = op.attr().f("min"), hi_attr = op.attr().f("max");
      Expr lo, hi;
      if (fp) {
        lo = float_imm(lo_attr, c);
        hi = float_imm(hi_attr, c);
      } else {
        auto [l, h] = int_clip_bounds(c, lo_attr, hi_attr);
        lo = int_imm(l, c);
        hi = int_imm(h, c);
      }
      Expr low = simplify(select(lo > hi, hi, lo));  // lo > hi: every value becomes hi (ONNX Clip)
      r = select(x > hi, hi, select(x < low, low, x));
      break;
    }
    case OpKind::Floor: r = fn(Intrinsic::Floor); break;
    case OpKind::Ceil: r = fn(Intrinsic::Ceil); break;
    case OpKind::Round: r = fn(Intrinsic::Round); break;
    case OpKind::Sin: r = fn(Intrinsic::Sin); break;
    case OpKind::Cos: r = fn(Intrinsic::Cos); break;
    case OpKind::Tan: r = fn(Intrinsic::Tan); break;
    case OpKind::Asin: r = fn(Intrinsic::Asin); break;
    case OpKind::Acos: r = fn(Intrinsic::Acos); break;
    case OpKind::Atan: r = fn(Intrinsic::Atan); break;
    case OpKind::Sinh: r = fn(Intrinsic::Sinh); break;
    case OpKind::Cosh: r = fn(Intrinsic::Cosh); break;
    case OpKind::Asinh: r = fn(Intrinsic::Asinh); break;
    case OpKind::Acosh: r = fn(Intrinsic::Acosh); break;
    case OpKind::Atanh: r = fn(Intrinsic::Atanh); break;
    case OpKind::Not: r = fn(Intrinsic::Not); break;
    case OpKind::Bitcast: {  // the bits of the stored value, not of its compute form
      DType to = op.attr().type("to");
      Expr bits = reinterpret(Type{to}, c == dtype ? x : cast(Type{dtype}, x));
      return compute_dtype(to) == to ? bits : cast(Type{compute_dtype(to)}, bits);
    }
    case OpKind::IsNan: return fn(Intrinsic::IsNan);
    case OpKind::IsInf: {
      bool neg = op.attr().i("detect_negative") != 0, pos = op.attr().i("detect_positive") != 0;
      Expr inf = fn(Intrinsic::IsInf);
      if (neg && pos) return inf;
      if (!neg && !pos) return bool_imm(false);
      return inf && (pos ? x > zero : x < zero);
    }
    default: return op_error(op, "is not a unary op (internal lowering error)");
  }
  return round_to(dtype, r);
}

Expected<Expr> Inliner::binary_at(const Op& op, const std::vector<Expr>& index) {
  TESSEL_ASSIGN(Expr a, broadcast_operand(op, 0, index));
  TESSEL_ASSIGN(Expr b, broadcast_operand(op, 1, index));
  DType dtype = op.operand(0)->type().dtype;
  DType c = a->type.elem;
  Expr r;
  switch (op.kind()) {
    case OpKind::Add: r = a + b; break;
    case OpKind::Sub: r = a - b; break;
    case OpKind::Mul: r = a * b; break;
    case OpKind::Div: r = a / b; break;
    case OpKind::Min: r = min(a, b); break;
    case OpKind::Max: r = max(a, b); break;
    case OpKind::Mod: r = op.attr().i("fmod") ? a % b : python_mod(a, b); break;
    case OpKind::And: return a && b;
    case OpKind::Or: return a || b;
    case OpKind::Xor: return binary(BinOp::Xor, a, b);
    case OpKind::Equal: return eq(a, b);
    case OpKind::Less: return a < b;
    case OpKind::LessEqual: return a <= b;
    case OpKind::Greater: return a > b;
    case OpKind::GreaterEqual: return a >= b;
    case OpKind::Pow: {
      DType xc = b->type.elem;
      if (is_float(c) && (b = simplify(b))->kind == ExprKind::FloatImm &&
          (b->float_value == 2 || b->float_value == 3)) {
        // x^2 and x^3 (polynomial kernels, variance): products, within an ulp of pow, without a libm call.
        r = b->float_value == 2 ? a * a : a * a * a;
        break;
      }
      if (is_float(c)) {
        r = call(Intrinsic::Pow, {a, xc == c ? b : cast(Type{c}, b)});
      } else if (is_float(xc)) {
        r = cast(Type{c}, call(Intrinsic::Pow, {cast(Type{DType::F64}, a), cast(Type{DType::F64}, b)}));
      } else {
        r = call(Intrinsic::Pow, {a, b});
      }
      break;
    }
    default: return op_error(op, "is not a binary op (internal lowering error)");
  }
  return round_to(dtype, r);
}

}  // namespace tessel::lower
