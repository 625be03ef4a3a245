// The unary elementwise family: neg, abs, sign, relu, clip (numeric), the
// float-only math (exp ... atanh, gelu, floor/ceil/round), not (logical on bool,
// bitwise on integers), the float tests is_nan / is_inf (-> bool) and bitcast
// (the same bits as another dtype of equal size). Result shape = operand shape.
// f16/bf16 compute in float and round back per op; f32 computes in float.
#include <cmath>
#include <cstring>
#include <numbers>

#include "ir/ops/Elementwise.h"
#include "ir/ops/Families.h"

namespace tessel::ops {
namespace {

/// Which operand dtypes an op takes.
enum class Accepts {
  Float,    ///< f32, f64, f16, bf16
  Signed,   ///< floats and signed integers (neg of an unsigned value is not meaningful)
  Numeric,  ///< floats and all integers
  Bool,
  BoolOrInteger,  ///< logical on bool, bitwise on integers
  Any,            ///< every compute dtype
};

Accepts accepts(OpKind kind) {
  switch (kind) {
    case OpKind::Neg: return Accepts::Signed;
    case OpKind::Abs:
    case OpKind::Sign:
    case OpKind::Relu:
    case OpKind::Clip: return Accepts::Numeric;
    case OpKind::Not: return Accepts::BoolOrInteger;
    case OpKind::Bitcast: return Accepts::Any;
    default: return Accepts::Float;
  }
}

Status check_dtype(OpKind kind, const TensorType& type) {
  std::string_view name = op_info(kind).name;
  DType dtype = type.dtype;
  switch (accepts(kind)) {
    case Accepts::Float:
      if (is_float(dtype)) return Status::success();
      return make_error("{} needs a float operand (f32, f64, f16 or bf16), got {}", name, type.str());
    case Accepts::Signed:
      if (is_float(dtype) || is_signed_integer(dtype)) return Status::success();
      return make_error("{} needs a float or signed integer operand, got {}", name, type.str());
    case Accepts::Numeric:
      if (dtype != DType::Bool) return Status::success();
      return make_error("{} needs a numeric (float or integer) operand, got {}", name, type.str());
    case Accepts::Bool:
      if (dtype == DType::Bool) return Status::success();
      return make_error("{} needs a bool operand, got {}", name, type.str());
    case Accepts::BoolOrInteger:
      if (dtype == DType::Bool || is_integer(dtype)) return Status::success();
      return make_error("{} needs a bool or integer operand, got {}", name, type.str());
    case Accepts::Any: return Status::success();
  }
  return Status::success();
}

bool is_compute_dtype(DType dtype) {
  for (DType d : kComputeDTypes)
    if (d == dtype) return true;
  return false;
}

// bitcast keeps every bit, so both dtypes must have the same element size (bool counts as one byte).
Status check_bitcast(const AttrReader& attrs, const TensorType& type) {
  DType to = attrs.type("to");
  if (!is_compute_dtype(to))
    return make_error("bitcast target must be a numeric or bool dtype, got {}", dtype_name(to));
  if (dtype_size(to) != dtype_size(type.dtype))
    return make_error("bitcast needs element types of the same size, got {} ({} bytes) to {} ({} bytes)", type.str(),
                      dtype_size(type.dtype), dtype_name(to), dtype_size(to));
  return Status::success();
}

Status check_attrs(OpKind kind, const AttrReader& attrs) {
  if (kind == OpKind::Gelu) {
    const std::string& mode = attrs.s("approximate");
    if (mode != "none" && mode != "tanh")
      return make_error("gelu attribute approximate must be \"none\" or \"tanh\", got \"{}\"", mode);
  }
  if (kind == OpKind::Clip) {
    double lo = attrs.f("min"), hi = attrs.f("max");
    if (std::isnan(lo) || std::isnan(hi)) return make_error("clip bounds must not be NaN (min={}, max={})", lo, hi);
  }
  return Status::success();
}

Status check_unary(OpKind kind, const AttrReader& attrs, const TensorType& type) {
  TESSEL_TRY(check_dtype(kind, type));
  if (kind == OpKind::Bitcast) TESSEL_TRY(check_bitcast(attrs, type));
  return check_attrs(kind, attrs);
}

DType result_dtype(OpKind kind, const AttrReader& attrs, DType operand) {
  if (kind == OpKind::Bitcast) return attrs.type("to");
  return kind == OpKind::IsNan || kind == OpKind::IsInf ? DType::Bool : operand;
}

// ---- not and bitcast -------------------------------------------------------------------------------

Expected<Tensor> eval_not(const Tensor& x) {
  return visit_elem(x.dtype(), [&](auto elem) -> Expected<Tensor> {
    using E = decltype(elem);
    using C = typename E::Compute;
    if constexpr (E::kDType == DType::Bool)
      return map_unary<E, E>(x, [](bool v) { return !v; });
    else if constexpr (std::is_integral_v<C>)
      return map_unary<E, E>(x, [](C v) { return static_cast<C>(~v); });
    else
      return unsupported_dtype("not", E::kDType);
  });
}

// Copies the bytes; a bool result is normalized to 0/1 (x != 0), since bool holds only those.
Tensor eval_bitcast(const Tensor& x, DType to) {
  Tensor out(to, x.shape());
  if (x.nbytes() != 0) std::memcpy(out.raw_data(), x.raw_data(), x.nbytes());
  if (to == DType::Bool) {
    auto* bytes = out.data<uint8_t>();
    for (int64_t i = 0, n = out.numel(); i < n; ++i) bytes[i] = bytes[i] != 0 ? 1 : 0;
  }
  return out;
}

// ---- Float kernels ----------------------------------------------------------------------------------

template <typename C>
C sigmoid(C x) {
  // exp of a non-positive argument only, so neither branch overflows for large |x|.
  if (x >= 0) return C(1) / (C(1) + std::exp(-x));
  C e = std::exp(x);
  return e / (C(1) + e);
}

template <typename C>
C gelu(C x, bool tanh_approximation) {
  // The formulas give inf * 0 = NaN at -inf; the limits are exact.
  if (std::isinf(x)) return x > 0 ? x : C(0);
  if (!tanh_approximation) return C(0.5) * x * (C(1) + std::erf(x / C(std::numbers::sqrt2)));
  const C k = C(std::sqrt(2.0 / std::numbers::pi));
  return C(0.5) * x * (C(1) + std::tanh(k * (x + C(0.044715) * x * x * x)));
}

template <typename E>
Expected<Tensor> eval_float(OpKind kind, const AttrReader& attrs, const Tensor& x) {
  using C = typename E::Compute;
  auto map = [&](auto fn) -> Expected<Tensor> { return map_unary<E, E>(x, fn); };
  switch (kind) {
    case OpKind::Neg: return map([](C v) { return -v; });
    case OpKind::Abs: return map([](C v) { return std::fabs(v); });
    // NaN and +-0 map to themselves.
    case OpKind::Sign: return map([](C v) { return v > 0 ? C(1) : v < 0 ? C(-1) : v; });
    case OpKind::Exp: return map([](C v) { return std::exp(v); });
    case OpKind::Log: return map([](C v) { return std::log(v); });
    case OpKind::Sqrt: return map([](C v) { return std::sqrt(v); });
    case OpKind::Rsqrt: return map([](C v) { return C(1) / std::sqrt(v); });
    case OpKind::Reciprocal: return map([](C v) { return C(1) / v; });
    case OpKind::Tanh: return map([](C v) { return std::tanh(v); });
    case OpKind::Sigmoid: return map([](C v) { return sigmoid(v); });
    case OpKind::Erf: return map([](C v) { return std::erf(v); });
    case OpKind::Gelu: {
      bool tanh_approximation = attrs.s("approximate") == "tanh";
      return map([=](C v) { return gelu(v, tanh_approximation); });
    }
    case OpKind::Relu: return map([](C v) { return v < 0 ? C(0) : v; });  // NaN stays NaN
    case OpKind::LeakyRelu: {
      C alpha = static_cast<C>(attrs.f("alpha"));
      return map([=](C v) { return v < 0 ? alpha * v : v; });
    }
    case OpKind::Clip: {
      C lo = static_cast<C>(attrs.f("min")), hi = static_cast<C>(attrs.f("max"));
      C low = lo > hi ? hi : lo;  // when lo > hi every value becomes hi (as ONNX Clip); NaN stays NaN
      return map([=](C v) { return v > hi ? hi : v < low ? low : v; });
    }
    case OpKind::Floor: return map([](C v) { return std::floor(v); });
    case OpKind::Ceil: return map([](C v) { return std::ceil(v); });
    // Half to even: nearbyint under the default rounding mode, which Tessel never changes.
    case OpKind::Round: return map([](C v) { return std::nearbyint(v); });
    case OpKind::Sin: return map([](C v) { return std::sin(v); });
    case OpKind::Cos: return map([](C v) { return std::cos(v); });
    case OpKind::Tan: return map([](C v) { return std::tan(v); });
    case OpKind::Asin: return map([](C v) { return std::asin(v); });
    case OpKind::Acos: return map([](C v) { return std::acos(v); });
    case OpKind::Atan: return map([](C v) { return std::atan(v); });
    case OpKind::Sinh: return map([](C v) { return std::sinh(v); });
    case OpKind::Cosh: return map([](C v) { return std::cosh(v); });
    case OpKind::Asinh: return map([](C v) { return std::asinh(v); });
    case OpKind::Acosh: return map([](C v) { return std::acosh(v); });
    case OpKind::Atanh: return map([](C v) { return std::atanh(v); });
    case OpKind::IsNan: return map_unary<E, Elem<DType::Bool>>(x, [](C v) { return std::isnan(v); });
    case OpKind::IsInf: {
      bool negative = attrs.i("detect_negative") != 0, positive = attrs.i("detect_positive") != 0;
      return map_unary<E, Elem<DType::Bool>>(x, [=](C v) { return std::isinf(v) && (v < 0 ? negative : positive); });
    }
    default: return unsupported_dtype(op_info(kind).name, E::kDType);
  }
}

// ---- Integer kernels --------------------------------------------------------------------------------

/// Clip bounds for an integer type: rounded toward the interior of [min, max] (so that every result
/// lies inside the real interval), saturated to T's range; -inf / inf mean no bound.
template <typename T>
std::pair<T, T> int_clip_bounds(const AttrReader& attrs) {
  return {saturating_int<T>(std::ceil(attrs.f("min"))), saturating_int<T>(std::floor(attrs.f("max")))};
}

template <typename E>
Expected<Tensor> eval_int(OpKind kind, const AttrReader& attrs, const Tensor& x) {
  using T = typename E::Compute;
  auto map = [&](auto fn) -> Expected<Tensor> { return map_unary<E, E>(x, fn); };
  if constexpr (std::is_signed_v<T>) {
    switch (kind) {
      case OpKind::Neg: return map([](T v) { return wrap_neg(v); });  // INT_MIN wraps to INT_MIN
      case OpKind::Abs: return map([](T v) { return v < 0 ? wrap_neg(v) : v; });
      case OpKind::Sign: return map([](T v) { return static_cast<T>(v > 0 ? 1 : v < 0 ? -1 : 0); });
      case OpKind::Relu: return map([](T v) { return v < 0 ? T{0} : v; });
      default: break;
    }
  } else {
    switch (kind) {
      case OpKind::Abs:
      case OpKind::Relu: return map([](T v) { return v; });
      case OpKind::Sign: return map([](T v) { return static_cast<T>(v > 0 ? 1 : 0); });
      default: break;
    }
  }
  if (kind == OpKind::Clip) {
    auto [lo, hi] = int_clip_bounds<T>(attrs);
    T low = lo > hi ? hi : lo;  // when lo > hi every value becomes hi (as ONNX Clip)
    return map([low, hi](T v) { return v > hi ? hi : v < low ? low : v; });
  }
  return unsupported_dtype(op_info(kind).name, E::kDType);
}

}  // namespace

Expected<std::vector<TensorType>> infer_unary(const ShapeContext& ctx) {
  const TensorType& x = ctx.operand(0);
  TESSEL_TRY(check_unary(ctx.kind, ctx.attrs, x));
  return std::vector<TensorType>{{result_dtype(ctx.kind, ctx.attrs, x.dtype), x.shape}};
}

Expected<std::vector<Tensor>> eval_unary(const EvalContext& ctx) {
  const Tensor& x = ctx.input(0);
  TESSEL_TRY(check_unary(ctx.kind, ctx.attrs, TensorType{x.dtype(), to_shape(x.shape())}));
  if (ctx.kind == OpKind::Not) {
    TESSEL_ASSIGN(Tensor result, eval_not(x));
    return std::vector<Tensor>{std::move(result)};
  }
  if (ctx.kind == OpKind::Bitcast) return std::vector<Tensor>{eval_bitcast(x, ctx.attrs.type("to"))};
  TESSEL_ASSIGN(Tensor result, visit_elem(x.dtype(), [&](auto elem) -> Expected<Tensor> {
                  using E = decltype(elem);
                  if constexpr (kIsFloatElem<E>)
                    return eval_float<E>(ctx.kind, ctx.attrs, x);
                  else if constexpr (kIsIntElem<E>)
                    return eval_int<E>(ctx.kind, ctx.attrs, x);
                  else
                    return unsupported_dtype(op_info(ctx.kind).name, E::kDType);
                }));
  return std::vector<Tensor>{std::move(result)};
}

}  // namespace tessel::ops
