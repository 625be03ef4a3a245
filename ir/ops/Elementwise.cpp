// The select family (where) and the cast family, plus the round-to-odd
// conversions that Elementwise.h declares. Unary and binary ops live in
// Unary.cpp and Binary.cpp.
#include "ir/ops/Elementwise.h"

#include <bit>

#include "ir/ops/Families.h"

namespace tessel::ops {

// ---- Round-to-odd conversions ----------------------------------------------------------------------

float round_to_odd_float(double value) {
  if (std::isnan(value)) return static_cast<float>(value);
  // Beyond the float range the odd truncation is FLT_MAX (its last bit is already 1); narrowing it
  // gives inf in f16 and bf16, as rounding the exact value would.
  if (std::fabs(value) > std::numeric_limits<float>::max())
    return std::isinf(value) ? static_cast<float>(value) : std::copysign(std::numeric_limits<float>::max(), value);
  float nearest = static_cast<float>(value);
  if (static_cast<double>(nearest) == value) return nearest;
  float truncated =
      std::fabs(static_cast<double>(nearest)) > std::fabs(value) ? std::nextafter(nearest, 0.0f) : nearest;
  return bits_float(float_bits(truncated) | 1u);
}

float round_to_odd_float(uint64_t value) {
  int bits = std::bit_width(value);
  if (bits <= 24) return static_cast<float>(value);  // exact
  // Keep the top 24 bits and fold the dropped ones into the last kept bit.
  int shift = bits - 24;
  uint64_t kept = value >> shift;
  if (value & ((uint64_t{1} << shift) - 1)) kept |= 1;
  return std::ldexp(static_cast<float>(kept), shift);
}

float round_to_odd_float(int64_t value) {
  // The magnitude of INT64_MIN (2^63) is exact as a uint64.
  uint64_t magnitude = value < 0 ? uint64_t{0} - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  float result = round_to_odd_float(magnitude);
  return value < 0 ? -result : result;
}

// ---- where --------------------------------------------------------------------------------------

namespace {

Status check_select(const TensorType& cond, const TensorType& a, const TensorType& b) {
  if (cond.dtype != DType::Bool) return make_error("where needs a bool condition, got {}", cond.str());
  if (a.dtype != b.dtype)
    return make_error("where needs both branches of the same dtype (no implicit promotion), got {} and {}", a.str(),
                      b.str());
  return Status::success();
}

Expected<Shape> broadcast3(const Shape& cond, const Shape& a, const Shape& b) {
  auto cond_a = broadcast_shapes(cond, a);
  if (cond_a) {
    auto all = broadcast_shapes(*cond_a, b);
    if (all) return std::move(*all);
  }
  return make_error("where: condition {}, first branch {} and second branch {} do not broadcast together",
                    shape_str(cond), shape_str(a), shape_str(b));
}

template <typename S>
Tensor select_typed(const Tensor& cond, const Tensor& a, const Tensor& b, const std::vector<int64_t>& shape) {
  Tensor out(a.dtype(), shape);
  const auto* pc = cond.data<uint8_t>();
  const auto* pa = a.data<S>();
  const auto* pb = b.data<S>();
  auto* dst = out.data<S>();
  if (cond.shape() == shape && a.shape() == shape && b.shape() == shape) {
    for (int64_t i = 0, n = out.numel(); i < n; ++i) dst[i] = pc[i] ? pa[i] : pb[i];
    return out;
  }
  for_each_broadcast<3>(shape, {cond.shape(), a.shape(), b.shape()}, [&](int64_t i, const std::array<int64_t, 3>& at) {
    dst[i] = pc[at[0]] ? pa[at[1]] : pb[at[2]];
  });
  return out;
}

}  // namespace

Expected<std::vector<TensorType>> infer_select(const ShapeContext& ctx) {
  const TensorType& cond = ctx.operand(0);
  const TensorType& a = ctx.operand(1);
  const TensorType& b = ctx.operand(2);
  TESSEL_TRY(check_select(cond, a, b));
  TESSEL_ASSIGN(Shape shape, broadcast3(cond.shape, a.shape, b.shape));
  return std::vector<TensorType>{{a.dtype, std::move(shape)}};
}

Expected<std::vector<Tensor>> eval_select(const EvalContext& ctx) {
  const Tensor& cond = ctx.input(0);
  const Tensor& a = ctx.input(1);
  const Tensor& b = ctx.input(2);
  TensorType cond_type{cond.dtype(), to_shape(cond.shape())};
  TensorType a_type{a.dtype(), to_shape(a.shape())};
  TensorType b_type{b.dtype(), to_shape(b.shape())};
  TESSEL_TRY(check_select(cond_type, a_type, b_type));
  TESSEL_ASSIGN(Shape shape, broadcast3(cond_type.shape, a_type.shape, b_type.shape));
  std::vector<int64_t> dims = *static_shape(shape);
  // Selection copies elements without interpreting them, so the storage type is enough.
  Tensor result = visit_dtype(a.dtype(), [&](auto zero) { return select_typed<decltype(zero)>(cond, a, b, dims); });
  return std::vector<Tensor>{std::move(result)};
}

// ---- cast ---------------------------------------------------------------------------------------

namespace {

template <typename Src, typename Dst>
Tensor cast_typed(const Tensor& x) {
  Tensor out(Dst::kDType, x.shape());
  const auto* src = x.data<typename Src::Storage>();
  auto* dst = out.data<typename Dst::Storage>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) dst[i] = convert_element<Src, Dst>(src[i]);
  return out;
}

}  // namespace

Expected<std::vector<TensorType>> infer_cast(const ShapeContext& ctx) {
  if (!ctx.attrs.has("to")) return make_error("cast requires attribute 'to' (the target dtype)");
  const TensorType& x = ctx.operand(0);
  return std::vector<TensorType>{{ctx.attrs.type("to"), x.shape}};
}

Expected<std::vector<Tensor>> eval_cast(const EvalContext& ctx) {
  if (!ctx.attrs.has("to")) return make_error("cast requires attribute 'to' (the target dtype)");
  const Tensor& x = ctx.input(0);
  DType to = ctx.attrs.type("to");
  if (x.dtype() == to) return std::vector<Tensor>{x};  // shares the buffer; tensors are immutable values
  Tensor result = visit_elem(x.dtype(), [&](auto src) {
    return visit_elem(to, [&](auto dst) {
      using Src = decltype(src);
      using Dst = decltype(dst);
      return cast_typed<Src, Dst>(x);
    });
  });
  return std::vector<Tensor>{std::move(result)};
}

}  // namespace tessel::ops
