// Scalar arith/math for linalg bodies, with the IR's element semantics: one
// helper per operation picks the float, signed or unsigned arith op from the
// operand dtype, and `convert` spells out the cast rules (saturating
// float->int with NaN->0, wrapping int->int, x != 0 for bool, one rounding to
// float types) with selects, since arith.fptosi is poison out of range.
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "codegen/mlir/MlirEmitter.h"
#include "ir/Tensor.h"

namespace tessel::mlir {
namespace {

Scalar def(Block& block, DType dtype, const std::string& text) { return {block.def(text), dtype}; }

Scalar def_constant(Block& block, DType dtype, const std::string& text) { return {block.def_constant(text), dtype}; }

std::string ty(DType dtype) { return elem_type(dtype); }

/// float <-> float of any widths: extf, truncf, or (f16 <-> bf16) through f32.
Scalar float_to_float(Block& block, Scalar x, DType to) {
  if (x.t == to) return x;
  int from_bits = bit_width(x.t), to_bits = bit_width(to);
  if (from_bits == to_bits) return float_to_float(block, float_to_float(block, x, DType::F32), to);
  const char* op = from_bits < to_bits ? "arith.extf" : "arith.truncf";
  return def(block, to, fmt::format("{} {} : {} to {}", op, x.v, ty(x.t), ty(to)));
}

Scalar int_to_int(Block& block, Scalar x, DType to) {
  int from_bits = bit_width(x.t), to_bits = bit_width(to);
  if (from_bits == to_bits) return {x.v, to};  // signless: the same bits
  const char* op = from_bits > to_bits                        ? "arith.trunci"
                   : (is_unsigned(x.t) || x.t == DType::Bool) ? "arith.extui"
                                                              : "arith.extsi";
  return def(block, to, fmt::format("{} {} : {} to {}", op, x.v, ty(x.t), ty(to)));
}

/// Float to integer: NaN -> 0, values at or beyond the range saturate, the rest truncate toward zero.
Scalar float_to_int(Block& block, Scalar x, DType to) {
  x = widen(block, x);
  int bits = bit_width(to);
  bool is_signed = is_signed_integer(to);
  // 2^(bits-1) and -2^(bits-1) (signed) or 2^bits and 0 (unsigned) are exact in every float type used.
  double hi = std::ldexp(1.0, is_signed ? bits - 1 : bits);
  double lo = is_signed ? -hi : 0.0;
  Scalar zero = constant(block, x.t, 0.0);
  Scalar too_high = compare(block, Cmp::Ge, x, constant(block, x.t, hi));
  // Unordered-or-less-equal: NaN counts as "low", which gives 0 for unsigned targets.
  Scalar too_low = is_signed
                       ? compare(block, Cmp::Le, x, constant(block, x.t, lo))
                       : def(block, DType::Bool,
                             fmt::format("arith.cmpf ule, {}, {} : {}", x.v, constant(block, x.t, 0.0).v, ty(x.t)));
  Scalar nan = def(block, DType::Bool, fmt::format("arith.cmpf uno, {}, {} : {}", x.v, x.v, ty(x.t)));
  // Only in-range values reach fptosi/fptoui, which are poison otherwise.
  Scalar safe = select(block, too_high, zero, x);
  safe = select(block, too_low, zero, safe);
  safe = select(block, nan, zero, safe);
  const char* op = is_signed ? "arith.fptosi" : "arith.fptoui";
  Scalar value = def(block, to, fmt::format("{} {} : {} to {}", op, safe.v, ty(x.t), ty(to)));
  int64_t max_bits = bits == 64 ? (is_signed ? std::numeric_limits<int64_t>::max() : -1)
                                : (is_signed ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1);
  int64_t min_bits = is_signed ? (bits == 64 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (bits - 1))) : 0;
  value = select(block, too_high, int_constant(block, to, max_bits), value);
  return select(block, too_low, int_constant(block, to, min_bits), value);
}

const char* float_predicate(Cmp cmp) {
  switch (cmp) {
    case Cmp::Eq: return "oeq";
    case Cmp::Ne: return "une";
    case Cmp::Lt: return "olt";
    case Cmp::Le: return "ole";
    case Cmp::Gt: return "ogt";
    case Cmp::Ge: return "oge";
  }
  return "oeq";
}

std::string int_predicate(Cmp cmp, bool is_unsigned_type) {
  switch (cmp) {
    case Cmp::Eq: return "eq";
    case Cmp::Ne: return "ne";
    case Cmp::Lt: return is_unsigned_type ? "ult" : "slt";
    case Cmp::Le: return is_unsigned_type ? "ule" : "sle";
    case Cmp::Gt: return is_unsigned_type ? "ugt" : "sgt";
    case Cmp::Ge: return is_unsigned_type ? "uge" : "sge";
  }
  return "eq";
}

Scalar arith(Block& block, std::string_view float_op, std::string_view int_op, Scalar a, Scalar b) {
  std::string_view op = is_float(a.t) ? float_op : int_op;
  return binary_op(block, fmt::format("arith.{}", op), a, b);
}

}  // namespace

Scalar constant(Block& block, DType dtype, double value) {
  if (is_float(dtype))
    return def_constant(block, dtype, fmt::format("arith.constant {} : {}", float_literal(value, dtype), ty(dtype)));
  // The conversion Tensor::from_doubles applies (saturating for integers, != 0 for bool).
  Tensor tensor = Tensor::from_doubles(dtype, {}, {value});
  return def_constant(block, dtype, fmt::format("arith.constant {} : {}", element_literal(tensor, 0), ty(dtype)));
}

Scalar int_constant(Block& block, DType dtype, int64_t value) {
  if (dtype == DType::Bool) return bool_constant(block, value != 0);
  int bits = bit_width(dtype);
  // The value's low `bits` bits, printed signed: every width accepts its signed range.
  int64_t wrapped = bits == 64 ? value : (value << (64 - bits)) >> (64 - bits);
  return def_constant(block, dtype, fmt::format("arith.constant {} : {}", wrapped, ty(dtype)));
}

Scalar bool_constant(Block& block, bool value) {
  return def_constant(block, DType::Bool, fmt::format("arith.constant {}", value ? "true" : "false"));
}

Scalar widen(Block& block, Scalar x) { return float_to_float(block, x, compute_dtype(x.t)); }

Scalar narrow(Block& block, Scalar x, DType dtype) { return float_to_float(block, x, dtype); }

Scalar narrow_acc(Block& block, Scalar x, DType dtype) {
  if (x.t == DType::F64 && (dtype == DType::F16 || dtype == DType::BF16))
    return float_to_float(block, float_to_float(block, x, DType::F32), dtype);
  return convert(block, x, dtype);
}

Scalar convert(Block& block, Scalar x, DType to) {
  if (x.t == to) return x;
  if (to == DType::Bool) {
    if (is_float(x.t)) {
      Scalar wide = widen(block, x);
      return compare(block, Cmp::Ne, wide, constant(block, wide.t, 0.0));  // NaN != 0
    }
    return compare(block, Cmp::Ne, x, int_constant(block, x.t, 0));
  }
  if (is_float(to)) {
    if (is_float(x.t)) return float_to_float(block, x, to);
    const char* op = (is_unsigned(x.t) || x.t == DType::Bool) ? "arith.uitofp" : "arith.sitofp";
    return def(block, to, fmt::format("{} {} : {} to {}", op, x.v, ty(x.t), ty(to)));
  }
  if (is_float(x.t)) return float_to_int(block, x, to);
  return int_to_int(block, x, to);
}

Scalar compare(Block& block, Cmp cmp, Scalar a, Scalar b) {
  if (is_float(a.t))
    return def(block, DType::Bool, fmt::format("arith.cmpf {}, {}, {} : {}", float_predicate(cmp), a.v, b.v, ty(a.t)));
  return def(block, DType::Bool,
             fmt::format("arith.cmpi {}, {}, {} : {}", int_predicate(cmp, is_unsigned(a.t)), a.v, b.v, ty(a.t)));
}

Scalar select(Block& block, Scalar cond, Scalar a, Scalar b) {
  return def(block, a.t, fmt::format("arith.select {}, {}, {} : {}", cond.v, a.v, b.v, ty(a.t)));
}

Scalar add(Block& block, Scalar a, Scalar b) { return arith(block, "addf", "addi", a, b); }
Scalar sub(Block& block, Scalar a, Scalar b) { return arith(block, "subf", "subi", a, b); }
Scalar mul(Block& block, Scalar a, Scalar b) { return arith(block, "mulf", "muli", a, b); }
Scalar fdiv(Block& block, Scalar a, Scalar b) { return binary_op(block, "arith.divf", a, b); }

Scalar max(Block& block, Scalar a, Scalar b) {
  return arith(block, "maximumf", is_unsigned(a.t) ? "maxui" : "maxsi", a, b);
}

Scalar min(Block& block, Scalar a, Scalar b) {
  return arith(block, "minimumf", is_unsigned(a.t) ? "minui" : "minsi", a, b);
}

Scalar unary_op(Block& block, std::string_view op, Scalar x) {
  std::string name = op.find('.') == std::string_view::npos ? fmt::format("math.{}", op) : std::string(op);
  return def(block, x.t, fmt::format("{} {} : {}", name, x.v, ty(x.t)));
}

Scalar binary_op(Block& block, std::string_view op, Scalar a, Scalar b) {
  return def(block, a.t, fmt::format("{} {}, {} : {}", op, a.v, b.v, ty(a.t)));
}

Scalar logical_not(Block& block, Scalar x) { return binary_op(block, "arith.xori", x, bool_constant(block, true)); }

Scalar is_finite(Block& block, Scalar x) {
  Scalar magnitude = unary_op(block, "math.absf", x);
  return compare(block, Cmp::Lt, magnitude, constant(block, x.t, std::numeric_limits<double>::infinity()));
}

}  // namespace tessel::mlir
