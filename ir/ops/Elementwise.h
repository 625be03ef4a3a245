// Machinery shared by the elementwise families (unary, binary, select, cast),
// private to ir/ops: per-dtype element access, loops with a no-broadcast fast
// path and a strided broadcast path, two's-complement integer arithmetic
// without C++ undefined behaviour, and correctly rounded dtype conversions.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ir/Half.h"
#include "ir/OpTable.h"
#include "ir/Saturate.h"
#include "ir/ops/OpUtil.h"

namespace tessel::ops {

/// Element access for dtype D: `Storage` is what a tensor holds, `Compute` what kernels compute in
/// (float for f16/bf16, bool for bool); `store` rounds to nearest even where the storage is narrower.
template <DType D>
struct Elem;

template <DType D, typename S>
struct PlainElem {
  static constexpr DType kDType = D;
  using Storage = S;
  using Compute = S;
  static S load(S value) { return value; }
  static S store(S value) { return value; }
};

template <>
struct Elem<DType::F32> : PlainElem<DType::F32, float> {};
template <>
struct Elem<DType::F64> : PlainElem<DType::F64, double> {};
template <>
struct Elem<DType::I8> : PlainElem<DType::I8, int8_t> {};
template <>
struct Elem<DType::I16> : PlainElem<DType::I16, int16_t> {};
template <>
struct Elem<DType::I32> : PlainElem<DType::I32, int32_t> {};
template <>
struct Elem<DType::I64> : PlainElem<DType::I64, int64_t> {};
template <>
struct Elem<DType::U8> : PlainElem<DType::U8, uint8_t> {};
template <>
struct Elem<DType::U16> : PlainElem<DType::U16, uint16_t> {};
template <>
struct Elem<DType::U32> : PlainElem<DType::U32, uint32_t> {};
template <>
struct Elem<DType::U64> : PlainElem<DType::U64, uint64_t> {};

template <>
struct Elem<DType::F16> {
  static constexpr DType kDType = DType::F16;
  using Storage = uint16_t;
  using Compute = float;
  static float load(uint16_t value) { return half_to_float(value); }
  static uint16_t store(float value) { return float_to_half(value); }
};

template <>
struct Elem<DType::BF16> {
  static constexpr DType kDType = DType::BF16;
  using Storage = uint16_t;
  using Compute = float;
  static float load(uint16_t value) { return bf16_to_float(value); }
  static uint16_t store(float value) { return float_to_bf16(value); }
};

template <>
struct Elem<DType::Bool> {
  static constexpr DType kDType = DType::Bool;
  using Storage = uint8_t;
  using Compute = bool;
  static bool load(uint8_t value) { return value != 0; }
  static uint8_t store(bool value) { return value ? 1 : 0; }
};

template <typename E>
inline constexpr bool kIsFloatElem = std::is_floating_point_v<typename E::Compute>;
template <typename E>
inline constexpr bool kIsIntElem = std::is_integral_v<typename E::Compute>&& E::kDType != DType::Bool;

/// Calls `fn(Elem<dtype>{})`; unlike visit_dtype it tells f16, bf16, u16 and bool, u8 apart.
template <typename F>
decltype(auto) visit_elem(DType dtype, F&& fn) {
  switch (dtype) {
    case DType::F32: return fn(Elem<DType::F32>{});
    case DType::F16: return fn(Elem<DType::F16>{});
    case DType::BF16: return fn(Elem<DType::BF16>{});
    case DType::F64: return fn(Elem<DType::F64>{});
    case DType::I8: return fn(Elem<DType::I8>{});
    case DType::I16: return fn(Elem<DType::I16>{});
    case DType::I32: return fn(Elem<DType::I32>{});
    case DType::I64: return fn(Elem<DType::I64>{});
    case DType::U8: return fn(Elem<DType::U8>{});
    case DType::U16: return fn(Elem<DType::U16>{});
    case DType::U32: return fn(Elem<DType::U32>{});
    case DType::U64: return fn(Elem<DType::U64>{});
    case DType::Bool: return fn(Elem<DType::Bool>{});
    default: break;  // storage dtypes: the op table keeps them away from elementwise kernels
  }
  return fn(Elem<DType::F32>{});
}

/// The error a kernel returns for a dtype its (already checked) shape rule should have rejected.
inline Error unsupported_dtype(std::string_view op, DType dtype) {
  return make_error("{} has no kernel for dtype {}", op, dtype_name(dtype));
}

// ---- Loops ----------------------------------------------------------------------------------------

/// out[i] = Out::store(fn(In::load(x[i]))).
template <typename In, typename Out, typename Fn>
Tensor map_unary(const Tensor& x, Fn fn) {
  Tensor out(Out::kDType, x.shape());
  const auto* src = x.data<typename In::Storage>();
  auto* dst = out.data<typename Out::Storage>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) dst[i] = Out::store(fn(In::load(src[i])));
  return out;
}

/// Calls `fn(out_index, in_offsets)` for every element of `out_shape` in row-major order, where
/// in_offsets[k] is the flat offset of the element of input k (numpy-broadcast to out_shape).
template <size_t N, typename Fn>
void for_each_broadcast(const std::vector<int64_t>& out_shape, const std::array<std::vector<int64_t>, N>& in_shapes,
                        Fn&& fn) {
  int64_t numel = 1;
  for (int64_t dim : out_shape) numel *= dim;
  if (numel == 0) return;
  std::array<int64_t, N> offsets{};
  if (out_shape.empty()) {
    fn(int64_t{0}, offsets);
    return;
  }
  const int64_t rank = static_cast<int64_t>(out_shape.size());
  std::array<std::vector<int64_t>, N> strides;
  std::array<int64_t, N> inner_strides{};
  for (size_t k = 0; k < N; ++k) {
    strides[k] = broadcast_strides(in_shapes[k], out_shape);
    inner_strides[k] = strides[k][rank - 1];
  }
  const int64_t inner = out_shape[rank - 1];
  std::vector<int64_t> index(rank, 0);  // odometer over the outer dims
  std::array<int64_t, N> base{};
  for (int64_t row_start = 0; row_start < numel; row_start += inner) {
    for (int64_t j = 0; j < inner; ++j) {
      for (size_t k = 0; k < N; ++k) offsets[k] = base[k] + j * inner_strides[k];
      fn(row_start + j, offsets);
    }
    for (int64_t axis = rank - 2; axis >= 0; --axis) {
      ++index[axis];
      for (size_t k = 0; k < N; ++k) base[k] += strides[k][axis];
      if (index[axis] < out_shape[axis]) break;
      for (size_t k = 0; k < N; ++k) base[k] -= strides[k][axis] * out_shape[axis];
      index[axis] = 0;
    }
  }
}

/// out[i] = Out::store(fn(A::load(a[ia]), B::load(b[ib]))) over the broadcast `shape`.
template <typename A, typename B, typename Out, typename Fn>
Tensor map_binary(const Tensor& a, const Tensor& b, const std::vector<int64_t>& shape, Fn fn) {
  Tensor out(Out::kDType, shape);
  const auto* pa = a.data<typename A::Storage>();
  const auto* pb = b.data<typename B::Storage>();
  auto* dst = out.data<typename Out::Storage>();
  if (a.shape() == shape && b.shape() == shape) {
    for (int64_t i = 0, n = out.numel(); i < n; ++i) dst[i] = Out::store(fn(A::load(pa[i]), B::load(pb[i])));
    return out;
  }
  for_each_broadcast<2>(shape, {a.shape(), b.shape()}, [&](int64_t i, const std::array<int64_t, 2>& at) {
    dst[i] = Out::store(fn(A::load(pa[at[0]]), B::load(pb[at[1]])));
  });
  return out;
}

// ---- Integer arithmetic ------------------------------------------------------------------------------
// Computed in an unsigned type at least as wide as unsigned int, so that neither signed overflow nor
// integer promotion (uint16 * uint16 -> int) can overflow; converting back wraps (C++20).

template <typename T>
using WideUnsigned = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;

template <typename T>
T wrap_add(T a, T b) {
  return static_cast<T>(static_cast<WideUnsigned<T>>(a) + static_cast<WideUnsigned<T>>(b));
}
template <typename T>
T wrap_sub(T a, T b) {
  return static_cast<T>(static_cast<WideUnsigned<T>>(a) - static_cast<WideUnsigned<T>>(b));
}
template <typename T>
T wrap_mul(T a, T b) {
  return static_cast<T>(static_cast<WideUnsigned<T>>(a) * static_cast<WideUnsigned<T>>(b));
}
template <typename T>
T wrap_neg(T a) {
  return wrap_sub(T{0}, a);
}

// ---- Conversions --------------------------------------------------------------------------------

/// `value` rounded to float "to odd" (truncate, then set the last bit if inexact). Rounding that
/// float to f16/bf16 afterwards is then correctly rounded: plain double->float->half rounding twice
/// can turn a value just above a half-way point into an exact tie and round it the wrong way.
float round_to_odd_float(double value);
/// The same for an integer (its magnitude can exceed the 53 bits a double holds exactly).
float round_to_odd_float(int64_t value);
float round_to_odd_float(uint64_t value);

/// Any compute value as a float from which f16/bf16 rounding is correct.
template <typename C>
float narrowable_float(C value) {
  if constexpr (std::is_same_v<C, float> || std::is_same_v<C, bool>)
    return static_cast<float>(value);
  else if constexpr (std::is_same_v<C, double>)
    return round_to_odd_float(value);
  else if constexpr (std::is_signed_v<C>)
    return round_to_odd_float(static_cast<int64_t>(value));
  else
    return round_to_odd_float(static_cast<uint64_t>(value));
}

/// Converts one element from dtype Src to dtype Dst with the IR's cast semantics: float->int
/// truncates and saturates (NaN->0), int->int wraps, anything->bool is (x != 0), every rounding
/// to a float type is a single round-to-nearest-even.
template <typename Src, typename Dst>
typename Dst::Storage convert_element(typename Src::Storage raw) {
  using SC = typename Src::Compute;
  using DC = typename Dst::Compute;
  SC value = Src::load(raw);
  if constexpr (Dst::kDType == DType::Bool) {
    return Dst::store(value != SC{0});
  } else if constexpr (Dst::kDType == DType::F16 || Dst::kDType == DType::BF16) {
    return Dst::store(narrowable_float(value));
  } else if constexpr (std::is_floating_point_v<SC> && std::is_integral_v<DC>) {
    return Dst::store(saturating_int<DC>(static_cast<double>(value)));
  } else {
    return Dst::store(static_cast<DC>(value));
  }
}

}  // namespace tessel::ops
