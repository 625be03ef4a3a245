// Element types of tensors. Every dtype has a short textual name used by the
// text IR ("f32", "i64", "bool"), a byte size, and a category.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tessel {

enum class DType : uint8_t {
  F32,
  F16,
  BF16,
  F64,
  I8,
  I16,
  I32,
  I64,
  U8,
  U16,
  U32,
  U64,
  Bool,
  // Low-precision storage types: held one element per byte in host tensors (packed only in ONNX files).
  // Only moves, casts and (de)quantization accept them; arithmetic goes through a cast.
  F8E4M3FN,
  F8E4M3FNUZ,
  F8E5M2,
  F8E5M2FNUZ,
  F8E8M0,
  F4E2M1,
  I4,
  U4,
  I2,
  U2,
  /// Variable-length UTF-8 strings; host tensors hold std::string objects.
  String,
};

/// `case` labels for every low-precision dtype (the switch statements that treat them alike).
#define TESSEL_LOW_PRECISION_CASES \
  case DType::F8E4M3FN:            \
  case DType::F8E4M3FNUZ:          \
  case DType::F8E5M2:              \
  case DType::F8E5M2FNUZ:          \
  case DType::F8E8M0:              \
  case DType::F4E2M1:              \
  case DType::I4:                  \
  case DType::U4:                  \
  case DType::I2:                  \
  case DType::U2

/// The dtypes arithmetic kernels compute in.
inline constexpr DType kComputeDTypes[] = {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I8,
                                           DType::I16, DType::I32, DType::I64,  DType::U8,  DType::U16,
                                           DType::U32, DType::U64, DType::Bool};

/// Float8/float4 and 4-/2-bit integer types (see `is_low_precision`).
inline constexpr DType kLowPrecisionDTypes[] = {DType::F8E4M3FN, DType::F8E4M3FNUZ, DType::F8E5M2, DType::F8E5M2FNUZ,
                                                DType::F8E8M0,   DType::F4E2M1,     DType::I4,     DType::U4,
                                                DType::I2,       DType::U2};

inline constexpr DType kAllDTypes[] = {
    DType::F32,    DType::F16,      DType::BF16,       DType::F64,    DType::I8,         DType::I16,
    DType::I32,    DType::I64,      DType::U8,         DType::U16,    DType::U32,        DType::U64,
    DType::Bool,   DType::F8E4M3FN, DType::F8E4M3FNUZ, DType::F8E5M2, DType::F8E5M2FNUZ, DType::F8E8M0,
    DType::F4E2M1, DType::I4,       DType::U4,         DType::I2,     DType::U2,         DType::String};

std::string_view dtype_name(DType dtype);
std::optional<DType> parse_dtype(std::string_view name);
size_t dtype_size(DType dtype);
/// f16, bf16, f32, f64 (the float types arithmetic computes in).
bool is_float(DType dtype);
/// i8..i64, u8..u64 (not bool, not the 4-/2-bit types).
bool is_integer(DType dtype);
bool is_signed_integer(DType dtype);
/// One of kLowPrecisionDTypes.
bool is_low_precision(DType dtype);
/// Float8 or float4.
bool is_low_precision_float(DType dtype);

}  // namespace tessel
