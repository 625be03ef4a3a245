// Host tensors: an element type, a static shape and a reference-counted,
// 64-byte-aligned row-major buffer. Copies share the buffer (weights are never
// copied per use); `clone()` copies the data. Used for module constants and as
// the interpreter's values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "ir/DType.h"

namespace tessel {

class Tensor {
 public:
  Tensor() = default;
  /// A zero-filled tensor.
  Tensor(DType dtype, std::vector<int64_t> shape);
  /// A tensor that views `storage` (kept alive by the shared pointer), e.g. mmapped weights.
  Tensor(DType dtype, std::vector<int64_t> shape, std::shared_ptr<void> storage);

  /// Builds a tensor of any dtype from doubles, converting (and rounding) each value.
  static Tensor from_doubles(DType dtype, std::vector<int64_t> shape, const std::vector<double>& values);
  /// Builds a tensor from typed values; T picks the dtype (float->f32, int64_t->i64, ...).
  template <typename T>
  static Tensor of(std::vector<int64_t> shape, const std::vector<T>& values);

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t axis) const { return shape_[axis]; }
  int64_t numel() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  /// Row-major strides in elements.
  std::vector<int64_t> strides() const;

  void* raw_data() { return storage_.get(); }
  const void* raw_data() const { return storage_.get(); }
  template <typename T>
  T* data() {
    return static_cast<T*>(storage_.get());
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(storage_.get());
  }

  /// Element `flat` converted to double (slow; for tests, printing and generic code). NaN for strings.
  double get_double(int64_t flat) const;
  void set_double(int64_t flat, double value);
  /// Element `flat` converted to int64 (integers and bool exactly; floats truncated).
  int64_t get_int(int64_t flat) const;
  void set_int(int64_t flat, int64_t value);
  std::vector<double> to_doubles() const;

  Tensor clone() const;
  /// Same data, new shape with equal element count (shares the buffer).
  Tensor reshaped(std::vector<int64_t> shape) const;
  /// 64-bit FNV-1a hash of dtype, shape and bytes.
  uint64_t content_hash() const;
  /// True if dtype, shape and bytes are equal.
  bool bitwise_equal(const Tensor& other) const;
  /// "f32[2, 3]".
  std::string type_str() const;

 private:
  DType dtype_ = DType::F32;
  std::vector<int64_t> shape_;
  std::shared_ptr<void> storage_;
};

/// Maps a C++ element type to its dtype (bool maps to DType::Bool, stored as one byte).
template <typename T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::F32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::F64;
  else if constexpr (std::is_same_v<T, int8_t>)
    return DType::I8;
  else if constexpr (std::is_same_v<T, int16_t>)
    return DType::I16;
  else if constexpr (std::is_same_v<T, int32_t>)
    return DType::I32;
  else if constexpr (std::is_same_v<T, int64_t>)
    return DType::I64;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return DType::U8;
  else if constexpr (std::is_same_v<T, uint16_t>)
    return DType::U16;
  else if constexpr (std::is_same_v<T, uint32_t>)
    return DType::U32;
  else if constexpr (std::is_same_v<T, uint64_t>)
    return DType::U64;
  else if constexpr (std::is_same_v<T, bool>)
    return DType::Bool;
  else if constexpr (std::is_same_v<T, std::string>)
    return DType::String;
  else
    static_assert(sizeof(T) == 0, "no dtype for this C++ type");
}

template <typename T>
Tensor Tensor::of(std::vector<int64_t> shape, const std::vector<T>& values) {
  Tensor tensor(dtype_of<T>(), std::move(shape));
  for (size_t i = 0; i < values.size() && static_cast<int64_t>(i) < tensor.numel(); ++i) {
    if constexpr (std::is_same_v<T, bool>) {
      tensor.data<uint8_t>()[i] = values[i] ? 1 : 0;
    } else {
      tensor.data<T>()[i] = values[i];
    }
  }
  return tensor;
}

}  // namespace tessel
