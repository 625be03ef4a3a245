// The type of an IR value: an element type and a shape whose dims may be symbolic.
#pragma once

#include <string>

#include "ir/DType.h"
#include "ir/Dim.h"

namespace tessel {

struct TensorType {
  DType dtype = DType::F32;
  Shape shape;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  /// "f32[N, 3, 224, 224]"; a scalar is "f32[]".
  std::string str() const { return std::string(dtype_name(dtype)) + shape_str(shape); }
  bool operator==(const TensorType& other) const { return dtype == other.dtype && shape == other.shape; }
  bool operator!=(const TensorType& other) const { return !(*this == other); }
};

}  // namespace tessel
