// Per-lane semantics of the loop IR (see LoopIR.h's preamble): wrapping integers, C division with
// zero divisors giving 0, NaN-propagating float min/max, per-operation rounding of f32/f16/bf16, and
// the tensor IR's saturating casts.
#include "ir/loop/ScalarOps.h"

#include <bit>
#include <cmath>
#include <limits>

#include "ir/Half.h"
#include "ir/Saturate.h"

namespace tessel::loop::detail {
namespace {

bool is_unsigned(DType d) { return d == DType::U8 || d == DType::U16 || d == DType::U32 || d == DType::U64; }

double nan_min(double a, double b) { return std::isnan(a) || std::isnan(b) ? std::nan("") : std::min(a, b); }
double nan_max(double a, double b) { return std::isnan(a) || std::isnan(b) ? std::nan("") : std::max(a, b); }

int64_t int_div(DType d, int64_t a, int64_t b) {
  if (b == 0) return 0;
  if (is_unsigned(d)) return static_cast<int64_t>(static_cast<uint64_t>(a) / static_cast<uint64_t>(b));
  if (b == -1) return static_cast<int64_t>(0 - static_cast<uint64_t>(a));
  return a / b;
}

int64_t int_mod(DType d, int64_t a, int64_t b) {
  if (b == 0) return 0;
  if (is_unsigned(d)) return static_cast<int64_t>(static_cast<uint64_t>(a) % static_cast<uint64_t>(b));
  if (b == -1) return 0;
  return a % b;
}

bool int_less(DType d, int64_t a, int64_t b) {
  return is_unsigned(d) ? static_cast<uint64_t>(a) < static_cast<uint64_t>(b) : a < b;
}

int64_t int_pow(int64_t base, int64_t exponent, bool exponent_signed) {
  if (exponent_signed && exponent < 0) {
    if (base == 1) return 1;
    if (base == -1) return exponent % 2 == 0 ? 1 : -1;
    return 0;
  }
  uint64_t result = 1, b = static_cast<uint64_t>(base);
  for (auto e = static_cast<uint64_t>(exponent); e != 0; e >>= 1) {
    if (e & 1) result *= b;
    b *= b;
  }
  return static_cast<int64_t>(result);
}

double sigmoid(double x) {
  if (x >= 0) return 1 / (1 + std::exp(-x));
  double e = std::exp(x);
  return e / (1 + e);
}

Lane int_lane(int64_t v) { return Lane{v, 0}; }
Lane float_lane(double v) { return Lane{0, v}; }

double float_intrinsic(Intrinsic fn, double x, double y) {
  switch (fn) {
    case Intrinsic::Neg: return -x;
    case Intrinsic::Abs: return std::fabs(x);
    case Intrinsic::Exp: return std::exp(x);
    case Intrinsic::Log: return std::log(x);
    case Intrinsic::Sqrt: return std::sqrt(x);
    case Intrinsic::Tanh: return std::tanh(x);
    case Intrinsic::Sigmoid: return sigmoid(x);
    case Intrinsic::Erf: return std::erf(x);
    case Intrinsic::Sin: return std::sin(x);
    case Intrinsic::Cos: return std::cos(x);
    case Intrinsic::Tan: return std::tan(x);
    case Intrinsic::Asin: return std::asin(x);
    case Intrinsic::Acos: return std::acos(x);
    case Intrinsic::Atan: return std::atan(x);
    case Intrinsic::Sinh: return std::sinh(x);
    case Intrinsic::Cosh: return std::cosh(x);
    case Intrinsic::Asinh: return std::asinh(x);
    case Intrinsic::Acosh: return std::acosh(x);
    case Intrinsic::Atanh: return std::atanh(x);
    case Intrinsic::Floor: return std::floor(x);
    case Intrinsic::Ceil: return std::ceil(x);
    case Intrinsic::Round: return std::nearbyint(x);
    case Intrinsic::Pow: return std::pow(x, y);
    default: return std::nan("");
  }
}

}  // namespace

Lane normalize(Lane v, DType d) {
  switch (d) {
    case DType::F32: return float_lane(static_cast<double>(static_cast<float>(v.f)));
    case DType::F16: return float_lane(half_to_float(float_to_half(static_cast<float>(v.f))));
    case DType::BF16: return float_lane(bf16_to_float(float_to_bf16(static_cast<float>(v.f))));
    case DType::F64: return v;
    case DType::I8: return int_lane(static_cast<int8_t>(v.i));
    case DType::I16: return int_lane(static_cast<int16_t>(v.i));
    case DType::I32: return int_lane(static_cast<int32_t>(v.i));
    case DType::U8: return int_lane(static_cast<uint8_t>(v.i));
    case DType::U16: return int_lane(static_cast<uint16_t>(v.i));
    case DType::U32: return int_lane(static_cast<uint32_t>(v.i));
    case DType::Bool: return int_lane(v.i != 0);
    default: return is_low_precision(d) ? int_lane(static_cast<uint8_t>(v.i)) : int_lane(v.i);  // the raw byte
  }
}

Lane binary_lane(BinOp op, DType d, Lane a, Lane b) {
  if (is_float(d)) {
    double x = a.f, y = b.f;
    switch (op) {
      case BinOp::Add: return normalize(float_lane(x + y), d);
      case BinOp::Sub: return normalize(float_lane(x - y), d);
      case BinOp::Mul: return normalize(float_lane(x * y), d);
      case BinOp::Div: return normalize(float_lane(x / y), d);
      case BinOp::Mod: return normalize(float_lane(std::fmod(x, y)), d);
      case BinOp::Min: return float_lane(nan_min(x, y));
      case BinOp::Max: return float_lane(nan_max(x, y));
      case BinOp::Eq: return int_lane(x == y);
      case BinOp::Ne: return int_lane(x != y);
      case BinOp::Lt: return int_lane(x < y);
      case BinOp::Le: return int_lane(x <= y);
      case BinOp::Gt: return int_lane(x > y);
      case BinOp::Ge: return int_lane(x >= y);
      default: return float_lane(std::nan(""));
    }
  }
  int64_t x = a.i, y = b.i;
  auto ux = static_cast<uint64_t>(x), uy = static_cast<uint64_t>(y);
  switch (op) {
    case BinOp::Add: return normalize(int_lane(static_cast<int64_t>(ux + uy)), d);
    case BinOp::Sub: return normalize(int_lane(static_cast<int64_t>(ux - uy)), d);
    case BinOp::Mul: return normalize(int_lane(static_cast<int64_t>(ux * uy)), d);
    case BinOp::Div: return normalize(int_lane(int_div(d, x, y)), d);
    case BinOp::Mod: return normalize(int_lane(int_mod(d, x, y)), d);
    case BinOp::Min: return int_lane(int_less(d, y, x) ? y : x);
    case BinOp::Max: return int_lane(int_less(d, x, y) ? y : x);
    case BinOp::Eq: return int_lane(x == y);
    case BinOp::Ne: return int_lane(x != y);
    case BinOp::Lt: return int_lane(int_less(d, x, y));
    case BinOp::Le: return int_lane(!int_less(d, y, x));
    case BinOp::Gt: return int_lane(int_less(d, y, x));
    case BinOp::Ge: return int_lane(!int_less(d, x, y));
    // Bitwise on integers (bool lanes hold 0 or 1, so this is also the logical form).
    case BinOp::And: return normalize(int_lane(static_cast<int64_t>(ux & uy)), d);
    case BinOp::Or: return normalize(int_lane(static_cast<int64_t>(ux | uy)), d);
    case BinOp::Xor: return normalize(int_lane(static_cast<int64_t>(ux ^ uy)), d);
  }
  return int_lane(0);
}

Lane intrinsic_lane(Intrinsic fn, DType d, Lane a, Lane b, DType b_dtype) {
  if (fn == Intrinsic::IsNan) return int_lane(is_float(d) && std::isnan(a.f));
  if (fn == Intrinsic::IsInf) return int_lane(is_float(d) && std::isinf(a.f));
  if (is_float(d)) {
    double y = is_float(b_dtype) ? b.f : static_cast<double>(b.i);
    return normalize(float_lane(float_intrinsic(fn, a.f, y)), d);
  }
  switch (fn) {
    case Intrinsic::Not:  // logical on bool, bitwise complement on integers
      if (d == DType::Bool) return int_lane(a.i == 0);
      return normalize(int_lane(static_cast<int64_t>(~static_cast<uint64_t>(a.i))), d);
    case Intrinsic::Neg: return normalize(int_lane(static_cast<int64_t>(0 - static_cast<uint64_t>(a.i))), d);
    case Intrinsic::Abs:
      if (is_unsigned(d) || a.i >= 0) return a;
      return normalize(int_lane(static_cast<int64_t>(0 - static_cast<uint64_t>(a.i))), d);
    case Intrinsic::Floor:
    case Intrinsic::Ceil:
    case Intrinsic::Round: return a;
    case Intrinsic::Pow: return normalize(int_lane(int_pow(a.i, b.i, !is_unsigned(b_dtype))), d);
    default: return int_lane(0);
  }
}

Lane cast_lane(DType from, DType to, Lane v) {
  if (to == DType::Bool) return int_lane(is_float(from) ? v.f != 0 : v.i != 0);
  if (is_float(from)) {
    if (is_float(to)) return normalize(v, to);
    double f = v.f;
    switch (to) {
      case DType::I8: return int_lane(saturating_int<int8_t>(f));
      case DType::I16: return int_lane(saturating_int<int16_t>(f));
      case DType::I32: return int_lane(saturating_int<int32_t>(f));
      case DType::I64: return int_lane(saturating_int<int64_t>(f));
      case DType::U8: return int_lane(saturating_int<uint8_t>(f));
      case DType::U16: return int_lane(saturating_int<uint16_t>(f));
      case DType::U32: return int_lane(saturating_int<uint32_t>(f));
      case DType::U64: return int_lane(static_cast<int64_t>(saturating_int<uint64_t>(f)));
      default: return int_lane(0);
    }
  }
  if (is_float(to)) {
    if (to == DType::F32) {
      float value = from == DType::U64 ? static_cast<float>(static_cast<uint64_t>(v.i)) : static_cast<float>(v.i);
      return float_lane(value);
    }
    double value = from == DType::U64 ? static_cast<double>(static_cast<uint64_t>(v.i)) : static_cast<double>(v.i);
    return normalize(float_lane(value), to);
  }
  return normalize(v, to);
}

namespace {

// The bits of a lane, zero-extended (floats hold values of their dtype, so the 16-bit ones convert exactly).
uint64_t lane_bits(DType d, Lane v) {
  switch (d) {
    case DType::F32: return std::bit_cast<uint32_t>(static_cast<float>(v.f));
    case DType::F64: return std::bit_cast<uint64_t>(v.f);
    case DType::F16: return float_to_half(static_cast<float>(v.f));
    case DType::BF16: return float_to_bf16(static_cast<float>(v.f));
    default: break;
  }
  uint64_t bits = static_cast<uint64_t>(v.i);
  size_t size = dtype_size(d);
  return size >= 8 ? bits : bits & ((uint64_t{1} << (size * 8)) - 1);
}

}  // namespace

Lane reinterpret_lane(DType from, DType to, Lane v) {
  uint64_t bits = lane_bits(from, v);
  switch (to) {
    case DType::F32: return float_lane(std::bit_cast<float>(static_cast<uint32_t>(bits)));
    case DType::F64: return float_lane(std::bit_cast<double>(bits));
    case DType::F16: return float_lane(half_to_float(static_cast<uint16_t>(bits)));
    case DType::BF16: return float_lane(bf16_to_float(static_cast<uint16_t>(bits)));
    default: return normalize(int_lane(static_cast<int64_t>(bits)), to);
  }
}

Lane imm_lane(const ExprNode& e) {
  if (e.kind == ExprKind::FloatImm) return float_lane(e.float_value);
  return int_lane(e.int_value);
}

Expr lane_imm(DType dtype, Lane v) {
  if (is_float(dtype)) return float_imm(v.f, dtype);
  return int_imm(v.i, dtype);
}

}  // namespace tessel::loop::detail
