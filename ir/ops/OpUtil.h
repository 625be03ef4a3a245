// Helpers shared by the op families' shape rules and interpreter kernels:
// axis normalization, numpy broadcasting (symbolic and concrete), index
// arithmetic and dtype dispatch.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "ir/Error.h"
#include "ir/Half.h"
#include "ir/Tensor.h"
#include "ir/Type.h"

namespace tessel::ops {

/// Maps a possibly negative axis into [0, rank); error if out of range.
Expected<int64_t> normalize_axis(int64_t axis, int64_t rank);
/// Normalizes every axis and rejects duplicates.
Expected<std::vector<int64_t>> normalize_axes(const std::vector<int64_t>& axes, int64_t rank);

/// Numpy broadcasting of two symbolic shapes; a dim broadcasts if it is the constant 1.
Expected<Shape> broadcast_shapes(const Shape& a, const Shape& b);
/// Numpy broadcasting of concrete shapes.
Expected<std::vector<int64_t>> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

/// Row-major strides for `shape`.
std::vector<int64_t> row_major_strides(const std::vector<int64_t>& shape);
/// Strides for reading `input` as if broadcast to `output` (0 on broadcast axes, left-padded).
std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& input, const std::vector<int64_t>& output);
/// Multi-index of flat offset `flat` in `shape`.
std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t>& shape);
/// Flat offset of `index` using `strides`.
int64_t offset_of(const std::vector<int64_t>& index, const std::vector<int64_t>& strides);

/// Calls `fn(T{})` with T the C++ storage type of `dtype` (uint16_t for f16/bf16, uint8_t for bool and the
/// low-precision types). Never called for strings: the op table admits them only to ops that handle them.
template <typename F>
decltype(auto) visit_dtype(DType dtype, F&& fn) {
  switch (dtype) {
    case DType::F32: return fn(float{});
    case DType::F64: return fn(double{});
    case DType::I8: return fn(int8_t{});
    case DType::I16: return fn(int16_t{});
    case DType::I32: return fn(int32_t{});
    case DType::I64: return fn(int64_t{});
    case DType::U8:
    case DType::Bool: return fn(uint8_t{});
    case DType::F16:
    case DType::BF16:
    case DType::U16: return fn(uint16_t{});
    case DType::U32: return fn(uint32_t{});
    case DType::U64:
      return fn(uint64_t{});
    TESSEL_LOW_PRECISION_CASES:
      return fn(uint8_t{});     // one byte per element; only moves reach here
    case DType::String: break;  // shape rules keep strings away from byte-wise kernels
  }
  return fn(float{});
}

/// Error helper for kernels and shape rules: "'op' expects ..., got TYPE".
Error type_error(std::string_view what, const TensorType& got);

}  // namespace tessel::ops
