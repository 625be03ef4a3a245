// The binary elementwise family, with numpy broadcasting and no implicit
// promotion: arithmetic (add sub mul div pow mod) and min/max on numeric
// dtypes, and/or/xor (logical on bool, bitwise on integers), comparisons
// (-> bool; equal also on strings). Integers wrap, integer div and mod by zero
// give 0; floats follow IEEE and min/max propagate NaN.
#include <algorithm>
#include <cmath>

#include "ir/ops/Elementwise.h"
#include "ir/ops/Families.h"

namespace tessel::ops {
namespace {

bool is_logical(OpKind kind) { return kind == OpKind::And || kind == OpKind::Or || kind == OpKind::Xor; }

bool is_comparison(OpKind kind) {
  switch (kind) {
    case OpKind::Equal:
    case OpKind::Less:
    case OpKind::LessEqual:
    case OpKind::Greater:
    case OpKind::GreaterEqual: return true;
    default: return false;
  }
}

Status check_operand(OpKind kind, const TensorType& type, std::string_view role) {
  std::string_view name = op_info(kind).name;
  if (is_logical(kind)) {
    if (type.dtype == DType::Bool || is_integer(type.dtype)) return Status::success();
    return make_error("{} needs bool or integer operands, got {} for the {}", name, type.str(), role);
  }
  if (type.dtype == DType::String) return Status::success();  // the op table admits strings to equal only
  if (type.dtype != DType::Bool || kind == OpKind::Equal) return Status::success();
  return make_error("{} needs numeric (float or integer) operands, got {} for the {}", name, type.str(), role);
}

Status check_binary(OpKind kind, const AttrReader& attrs, const TensorType& a, const TensorType& b) {
  std::string_view name = op_info(kind).name;
  bool is_pow = kind == OpKind::Pow;
  TESSEL_TRY(check_operand(kind, a, is_pow ? "base" : "first operand"));
  TESSEL_TRY(check_operand(kind, b, is_pow ? "exponent" : "second operand"));
  // pow alone takes an exponent of another dtype; its result has the base's dtype.
  if (!is_pow && a.dtype != b.dtype)
    return make_error("{} needs operands of the same dtype (no implicit promotion), got {} and {}", name, a.str(),
                      b.str());
  if (kind == OpKind::Mod) {
    int64_t fmod = attrs.i("fmod");
    if (fmod != 0 && fmod != 1) return make_error("mod attribute fmod must be 0 or 1, got {}", fmod);
  }
  return Status::success();
}

// ---- Float kernels -----------------------------------------------------------------------------------

/// Remainder with the sign of the divisor (Python's %), or of the dividend (C fmod) if `c_fmod`.
template <typename C>
C float_mod(C a, C b, bool c_fmod) {
  C r = std::fmod(a, b);
  if (c_fmod) return r;
  if (r == 0) return std::copysign(C(0), b);
  if ((r < 0) != (b < 0)) r += b;
  return r;
}

template <typename C>
C nan_min(C a, C b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<C>::quiet_NaN();
  return std::min(a, b);
}

template <typename C>
C nan_max(C a, C b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<C>::quiet_NaN();
  return std::max(a, b);
}

template <typename E>
Expected<Tensor> eval_float(OpKind kind, const AttrReader& attrs, const Tensor& a, const Tensor& b,
                            const std::vector<int64_t>& shape) {
  using C = typename E::Compute;
  auto map = [&](auto fn) -> Expected<Tensor> { return map_binary<E, E, E>(a, b, shape, fn); };
  switch (kind) {
    case OpKind::Add: return map([](C x, C y) { return x + y; });
    case OpKind::Sub: return map([](C x, C y) { return x - y; });
    case OpKind::Mul: return map([](C x, C y) { return x * y; });
    case OpKind::Div: return map([](C x, C y) { return x / y; });
    case OpKind::Min: return map([](C x, C y) { return nan_min(x, y); });
    case OpKind::Max: return map([](C x, C y) { return nan_max(x, y); });
    case OpKind::Mod: {
      bool c_fmod = attrs.i("fmod") != 0;
      return map([=](C x, C y) { return float_mod(x, y, c_fmod); });
    }
    default: return unsupported_dtype(op_info(kind).name, E::kDType);
  }
}

// ---- Integer kernels ------------------------------------------------------------------------------

template <typename T>
T int_div(T a, T b) {
  if (b == 0) return 0;
  if constexpr (std::is_signed_v<T>) {
    if (b == -1) return wrap_neg(a);  // INT_MIN / -1 wraps to INT_MIN
  }
  return static_cast<T>(a / b);  // truncates toward zero
}

template <typename T>
T int_mod(T a, T b, bool c_fmod) {
  if (b == 0) return 0;
  if constexpr (std::is_signed_v<T>) {
    if (b == -1) return 0;  // avoids INT_MIN % -1, which traps
    T r = static_cast<T>(a % b);
    if (!c_fmod && r != 0 && (r < 0) != (b < 0)) r = wrap_add(r, b);
    return r;
  } else {
    return static_cast<T>(a % b);
  }
}

template <typename E>
Expected<Tensor> eval_int(OpKind kind, const AttrReader& attrs, const Tensor& a, const Tensor& b,
                          const std::vector<int64_t>& shape) {
  using T = typename E::Compute;
  auto map = [&](auto fn) -> Expected<Tensor> { return map_binary<E, E, E>(a, b, shape, fn); };
  switch (kind) {
    case OpKind::Add: return map([](T x, T y) { return wrap_add(x, y); });
    case OpKind::Sub: return map([](T x, T y) { return wrap_sub(x, y); });
    case OpKind::Mul: return map([](T x, T y) { return wrap_mul(x, y); });
    case OpKind::Div: return map([](T x, T y) { return int_div(x, y); });
    case OpKind::Min: return map([](T x, T y) { return std::min(x, y); });
    case OpKind::Max: return map([](T x, T y) { return std::max(x, y); });
    case OpKind::Mod: {
      bool c_fmod = attrs.i("fmod") != 0;
      return map([=](T x, T y) { return int_mod(x, y, c_fmod); });
    }
    default: return unsupported_dtype(op_info(kind).name, E::kDType);
  }
}

// ---- pow ---------------------------------------------------------------------------------------------
// Float base: pow computed in the base's compute type, the exponent converted to it.
// Integer base, integer exponent: exact integer power by repeated squaring, wrapping like mul; a
// negative exponent gives 0 (the truncated value of base^exp) except for bases 1 and -1.
// Integer base, float exponent: computed in double, then converted as cast does (truncation toward
// zero, saturation, NaN -> 0) -- ONNX's reference, np.power(a, b).astype(a.dtype), does the same.

template <typename T, typename X>
T int_pow(T base, X exponent) {
  if constexpr (std::is_signed_v<X>) {
    if (exponent < 0) {
      if (base == 1) return 1;
      if constexpr (std::is_signed_v<T>) {
        if (base == -1) return exponent % 2 == 0 ? 1 : -1;
      }
      return 0;
    }
  }
  T result = 1;
  for (auto e = static_cast<uint64_t>(exponent); e != 0; e >>= 1) {
    if (e & 1) result = wrap_mul(result, base);
    base = wrap_mul(base, base);
  }
  return result;
}

template <typename Base, typename Exp>
Expected<Tensor> eval_pow_typed(const Tensor& a, const Tensor& b, const std::vector<int64_t>& shape) {
  using C = typename Base::Compute;
  using X = typename Exp::Compute;
  if constexpr (kIsFloatElem<Base>) {
    return map_binary<Base, Exp, Base>(a, b, shape, [](C x, X y) { return std::pow(x, static_cast<C>(y)); });
  } else if constexpr (kIsFloatElem<Exp>) {
    return map_binary<Base, Exp, Base>(a, b, shape, [](C x, X y) {
      return saturating_int<C>(std::pow(static_cast<double>(x), static_cast<double>(y)));
    });
  } else {
    return map_binary<Base, Exp, Base>(a, b, shape, [](C x, X y) { return int_pow(x, y); });
  }
}

Expected<Tensor> eval_pow(const Tensor& a, const Tensor& b, const std::vector<int64_t>& shape) {
  return visit_elem(a.dtype(), [&](auto base) -> Expected<Tensor> {
    using Base = decltype(base);
    return visit_elem(b.dtype(), [&](auto exponent) -> Expected<Tensor> {
      using Exp = decltype(exponent);
      if constexpr (Base::kDType == DType::Bool || Exp::kDType == DType::Bool)
        return unsupported_dtype("pow", DType::Bool);
      else
        return eval_pow_typed<Base, Exp>(a, b, shape);
    });
  });
}

// ---- Comparisons and logic ---------------------------------------------------------------------

Expected<Tensor> eval_compare(OpKind kind, const Tensor& a, const Tensor& b, const std::vector<int64_t>& shape) {
  using Out = Elem<DType::Bool>;
  return visit_elem(a.dtype(), [&](auto elem) -> Expected<Tensor> {
    using E = decltype(elem);
    using C = typename E::Compute;
    auto map = [&](auto fn) -> Expected<Tensor> { return map_binary<E, E, Out>(a, b, shape, fn); };
    if (kind == OpKind::Equal) return map([](C x, C y) { return x == y; });
    if constexpr (E::kDType != DType::Bool) {
      switch (kind) {
        case OpKind::Less: return map([](C x, C y) { return x < y; });
        case OpKind::LessEqual: return map([](C x, C y) { return x <= y; });
        case OpKind::Greater: return map([](C x, C y) { return x > y; });
        case OpKind::GreaterEqual: return map([](C x, C y) { return x >= y; });
        default: break;
      }
    }
    return unsupported_dtype(op_info(kind).name, E::kDType);
  });
}

// Strings compare by bytes (no Unicode normalization).
Tensor eval_string_equal(const Tensor& a, const Tensor& b, const std::vector<int64_t>& shape) {
  Tensor out(DType::Bool, shape);
  const auto* pa = a.data<std::string>();
  const auto* pb = b.data<std::string>();
  auto* dst = out.data<uint8_t>();
  for_each_broadcast<2>(shape, {a.shape(), b.shape()},
                        [&](int64_t i, const std::array<int64_t, 2>& at) { dst[i] = pa[at[0]] == pb[at[1]] ? 1 : 0; });
  return out;
}

// Logical on bool; bitwise on integers (the same operation on the bits).
Expected<Tensor> eval_logical(OpKind kind, const Tensor& a, const Tensor& b, const std::vector<int64_t>& shape) {
  return visit_elem(a.dtype(), [&](auto elem) -> Expected<Tensor> {
    using E = decltype(elem);
    using C = typename E::Compute;
    if constexpr (std::is_integral_v<C>) {
      auto map = [&](auto fn) -> Expected<Tensor> { return map_binary<E, E, E>(a, b, shape, fn); };
      if (kind == OpKind::And) return map([](C x, C y) { return static_cast<C>(x & y); });
      if (kind == OpKind::Or) return map([](C x, C y) { return static_cast<C>(x | y); });
      return map([](C x, C y) { return static_cast<C>(x ^ y); });
    } else {
      return unsupported_dtype(op_info(kind).name, E::kDType);
    }
  });
}

Expected<Tensor> eval_arithmetic(OpKind kind, const AttrReader& attrs, const Tensor& a, const Tensor& b,
                                 const std::vector<int64_t>& shape) {
  return visit_elem(a.dtype(), [&](auto elem) -> Expected<Tensor> {
    using E = decltype(elem);
    if constexpr (kIsFloatElem<E>)
      return eval_float<E>(kind, attrs, a, b, shape);
    else if constexpr (kIsIntElem<E>)
      return eval_int<E>(kind, attrs, a, b, shape);
    else
      return unsupported_dtype(op_info(kind).name, E::kDType);
  });
}

}  // namespace

Expected<std::vector<TensorType>> infer_binary(const ShapeContext& ctx) {
  const TensorType& a = ctx.operand(0);
  const TensorType& b = ctx.operand(1);
  TESSEL_TRY(check_binary(ctx.kind, ctx.attrs, a, b));
  auto shape = broadcast_shapes(a.shape, b.shape);
  if (!shape) return make_error("{}: {}", op_info(ctx.kind).name, shape.error().message);
  DType dtype = is_comparison(ctx.kind) ? DType::Bool : a.dtype;
  return std::vector<TensorType>{{dtype, std::move(*shape)}};
}

Expected<std::vector<Tensor>> eval_binary(const EvalContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  TESSEL_TRY(check_binary(ctx.kind, ctx.attrs, {a.dtype(), to_shape(a.shape())}, {b.dtype(), to_shape(b.shape())}));
  auto shape = broadcast_shapes(a.shape(), b.shape());
  if (!shape) return make_error("{}: {}", op_info(ctx.kind).name, shape.error().message);
  if (a.dtype() == DType::String) return std::vector<Tensor>{eval_string_equal(a, b, *shape)};
  Expected<Tensor> result = ctx.kind == OpKind::Pow   ? eval_pow(a, b, *shape)
                            : is_comparison(ctx.kind) ? eval_compare(ctx.kind, a, b, *shape)
                            : is_logical(ctx.kind)    ? eval_logical(ctx.kind, a, b, *shape)
                                                      : eval_arithmetic(ctx.kind, ctx.attrs, a, b, *shape);
  if (!result) return result.error();
  return std::vector<Tensor>{std::move(*result)};
}

}  // namespace tessel::ops
