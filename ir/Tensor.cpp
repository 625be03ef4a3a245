#include "ir/Tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "ir/Attr.h"
#include "ir/Half.h"
#include "ir/LowPrecision.h"
#include "ir/Saturate.h"

namespace tessel {
namespace {

std::shared_ptr<void> allocate(size_t bytes) {
  // Round up so aligned_alloc's size is a multiple of the alignment; never zero.
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  void* memory = std::aligned_alloc(64, rounded);
  if (!memory) throw std::bad_alloc();
  std::memset(memory, 0, rounded);
  return std::shared_ptr<void>(memory, std::free);
}

// String tensors hold constructed std::string objects, so they need their own allocation.
std::shared_ptr<void> allocate_strings(int64_t count) {
  auto* strings = new std::string[static_cast<size_t>(std::max<int64_t>(count, 1))];
  return std::shared_ptr<void>(strings, [](void* p) { delete[] static_cast<std::string*>(p); });
}

}  // namespace

Tensor::Tensor(DType dtype, std::vector<int64_t> shape) : dtype_(dtype), shape_(std::move(shape)) {
  storage_ = dtype == DType::String ? allocate_strings(numel()) : allocate(nbytes());
}

Tensor::Tensor(DType dtype, std::vector<int64_t> shape, std::shared_ptr<void> storage)
    : dtype_(dtype), shape_(std::move(shape)), storage_(std::move(storage)) {}

Tensor Tensor::from_doubles(DType dtype, std::vector<int64_t> shape, const std::vector<double>& values) {
  Tensor tensor(dtype, std::move(shape));
  for (int64_t i = 0; i < tensor.numel() && i < static_cast<int64_t>(values.size()); ++i)
    tensor.set_double(i, values[i]);
  return tensor;
}

int64_t Tensor::numel() const {
  int64_t count = 1;
  for (int64_t dim : shape_) count *= dim;
  return count;
}

std::vector<int64_t> Tensor::strides() const {
  std::vector<int64_t> result(shape_.size(), 1);
  for (int64_t axis = rank() - 2; axis >= 0; --axis) result[axis] = result[axis + 1] * shape_[axis + 1];
  return result;
}

double Tensor::get_double(int64_t flat) const {
  switch (dtype_) {
    case DType::F32: return data<float>()[flat];
    case DType::F16: return half_to_float(data<uint16_t>()[flat]);
    case DType::BF16: return bf16_to_float(data<uint16_t>()[flat]);
    case DType::F64: return data<double>()[flat];
    case DType::I8: return data<int8_t>()[flat];
    case DType::I16: return data<int16_t>()[flat];
    case DType::I32: return data<int32_t>()[flat];
    case DType::I64: return static_cast<double>(data<int64_t>()[flat]);
    case DType::U8: return data<uint8_t>()[flat];
    case DType::U16: return data<uint16_t>()[flat];
    case DType::U32: return data<uint32_t>()[flat];
    case DType::U64: return static_cast<double>(data<uint64_t>()[flat]);
    case DType::Bool:
      return data<uint8_t>()[flat] ? 1.0 : 0.0;
    TESSEL_LOW_PRECISION_CASES:
      return low_precision_to_float(dtype_, data<uint8_t>()[flat]);
    case DType::String: return std::numeric_limits<double>::quiet_NaN();  // strings have no number
  }
  return 0;
}

void Tensor::set_double(int64_t flat, double value) {
  switch (dtype_) {
    case DType::F32: data<float>()[flat] = static_cast<float>(value); return;
    case DType::F16: data<uint16_t>()[flat] = float_to_half(static_cast<float>(value)); return;
    case DType::BF16: data<uint16_t>()[flat] = float_to_bf16(static_cast<float>(value)); return;
    case DType::F64: data<double>()[flat] = value; return;
    case DType::I8: data<int8_t>()[flat] = saturating_int<int8_t>(value); return;
    case DType::I16: data<int16_t>()[flat] = saturating_int<int16_t>(value); return;
    case DType::I32: data<int32_t>()[flat] = saturating_int<int32_t>(value); return;
    case DType::I64: data<int64_t>()[flat] = saturating_int<int64_t>(value); return;
    case DType::U8: data<uint8_t>()[flat] = saturating_int<uint8_t>(value); return;
    case DType::U16: data<uint16_t>()[flat] = saturating_int<uint16_t>(value); return;
    case DType::U32: data<uint32_t>()[flat] = saturating_int<uint32_t>(value); return;
    case DType::U64: data<uint64_t>()[flat] = saturating_int<uint64_t>(value); return;
    case DType::Bool:
      data<uint8_t>()[flat] = value != 0 ? 1 : 0;
      return;
    TESSEL_LOW_PRECISION_CASES:
      data<uint8_t>()[flat] = float_to_low_precision(dtype_, static_cast<float>(value));
      return;
    case DType::String: data<std::string>()[flat] = float_str(value); return;
  }
}

int64_t Tensor::get_int(int64_t flat) const {
  switch (dtype_) {
    case DType::I8: return data<int8_t>()[flat];
    case DType::I16: return data<int16_t>()[flat];
    case DType::I32: return data<int32_t>()[flat];
    case DType::I64: return data<int64_t>()[flat];
    case DType::U8: return data<uint8_t>()[flat];
    case DType::U16: return data<uint16_t>()[flat];
    case DType::U32: return data<uint32_t>()[flat];
    case DType::U64: return static_cast<int64_t>(data<uint64_t>()[flat]);
    case DType::Bool: return data<uint8_t>()[flat] ? 1 : 0;
    default: return saturating_int<int64_t>(get_double(flat));
  }
}

void Tensor::set_int(int64_t flat, int64_t value) {
  switch (dtype_) {
    case DType::I8: data<int8_t>()[flat] = static_cast<int8_t>(value); return;
    case DType::I16: data<int16_t>()[flat] = static_cast<int16_t>(value); return;
    case DType::I32: data<int32_t>()[flat] = static_cast<int32_t>(value); return;
    case DType::I64: data<int64_t>()[flat] = value; return;
    case DType::U8: data<uint8_t>()[flat] = static_cast<uint8_t>(value); return;
    case DType::U16: data<uint16_t>()[flat] = static_cast<uint16_t>(value); return;
    case DType::U32: data<uint32_t>()[flat] = static_cast<uint32_t>(value); return;
    case DType::U64: data<uint64_t>()[flat] = static_cast<uint64_t>(value); return;
    case DType::Bool: data<uint8_t>()[flat] = value != 0 ? 1 : 0; return;
    default: set_double(flat, static_cast<double>(value)); return;
  }
}

std::vector<double> Tensor::to_doubles() const {
  std::vector<double> values(numel());
  for (int64_t i = 0; i < numel(); ++i) values[i] = get_double(i);
  return values;
}

Tensor Tensor::clone() const {
  Tensor copy(dtype_, shape_);
  if (dtype_ == DType::String) {
    std::copy_n(data<std::string>(), numel(), copy.data<std::string>());
    return copy;
  }
  if (nbytes()) std::memcpy(copy.raw_data(), raw_data(), nbytes());
  return copy;
}

Tensor Tensor::reshaped(std::vector<int64_t> shape) const {
  Tensor view = *this;
  view.shape_ = std::move(shape);
  return view;
}

uint64_t Tensor::content_hash() const {
  uint64_t hash = 1469598103934665603ull;
  auto mix = [&](const void* bytes, size_t size) {
    const auto* p = static_cast<const unsigned char*>(bytes);
    for (size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * 1099511628211ull;
  };
  mix(&dtype_, sizeof(dtype_));
  for (int64_t dim : shape_) mix(&dim, sizeof(dim));
  if (dtype_ == DType::String) {
    for (int64_t i = 0; i < numel(); ++i) {
      const std::string& text = data<std::string>()[i];
      uint64_t length = text.size();
      mix(&length, sizeof(length));
      mix(text.data(), text.size());
    }
    return hash;
  }
  if (nbytes()) mix(raw_data(), nbytes());
  return hash;
}

bool Tensor::bitwise_equal(const Tensor& other) const {
  if (dtype_ != other.dtype_ || shape_ != other.shape_) return false;
  if (dtype_ == DType::String)
    return std::equal(data<std::string>(), data<std::string>() + numel(), other.data<std::string>());
  return nbytes() == 0 || std::memcmp(raw_data(), other.raw_data(), nbytes()) == 0;
}

std::string Tensor::type_str() const { return fmt::format("{}[{}]", dtype_name(dtype_), fmt::join(shape_, ", ")); }

}  // namespace tessel
