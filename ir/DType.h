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
};

inline constexpr DType kAllDTypes[] = {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I8,
                                       DType::I16, DType::I32, DType::I64,  DType::U8,  DType::U16,
                                       DType::U32, DType::U64, DType::Bool};

std::string_view dtype_name(DType dtype);
std::optional<DType> parse_dtype(std::string_view name);
size_t dtype_size(DType dtype);
bool is_float(DType dtype);
bool is_integer(DType dtype);  ///< signed or unsigned, not bool
bool is_signed_integer(DType dtype);

}  // namespace tessel
