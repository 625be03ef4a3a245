#include "ir/ops/OpUtil.h"

#include <set>

namespace tessel::ops {

Expected<int64_t> normalize_axis(int64_t axis, int64_t rank) {
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) return make_error("axis {} is out of range for rank {}", axis, rank);
  return normalized;
}

Expected<std::vector<int64_t>> normalize_axes(const std::vector<int64_t>& axes, int64_t rank) {
  std::vector<int64_t> result;
  std::set<int64_t> seen;
  for (int64_t axis : axes) {
    TESSEL_ASSIGN(int64_t normalized, normalize_axis(axis, rank));
    if (!seen.insert(normalized).second) return make_error("axis {} is repeated", axis);
    result.push_back(normalized);
  }
  return result;
}

Expected<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  size_t rank = std::max(a.size(), b.size());
  Shape result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right; missing leading dims act as 1.
    Dim da = i < rank - a.size() ? Dim(1) : a[i - (rank - a.size())];
    Dim db = i < rank - b.size() ? Dim(1) : b[i - (rank - b.size())];
    if (da == db || db == Dim(1)) {
      result[i] = da;
    } else if (da == Dim(1)) {
      result[i] = db;
    } else {
      return make_error("shapes {} and {} do not broadcast (dim {} vs {})", shape_str(a), shape_str(b), da.str(),
                        db.str());
    }
  }
  return result;
}

Expected<std::vector<int64_t>> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  TESSEL_ASSIGN(Shape shape, broadcast_shapes(to_shape(a), to_shape(b)));
  return *static_shape(shape);
}

std::vector<int64_t> row_major_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t axis = static_cast<int64_t>(shape.size()) - 2; axis >= 0; --axis)
    strides[axis] = strides[axis + 1] * shape[axis + 1];
  return strides;
}

std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& input, const std::vector<int64_t>& output) {
  std::vector<int64_t> dense = row_major_strides(input);
  std::vector<int64_t> strides(output.size(), 0);
  size_t offset = output.size() - input.size();
  for (size_t i = 0; i < input.size(); ++i) strides[offset + i] = input[i] == 1 ? 0 : dense[i];
  return strides;
}

std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> index(shape.size());
  for (int64_t axis = static_cast<int64_t>(shape.size()) - 1; axis >= 0; --axis) {
    index[axis] = shape[axis] ? flat % shape[axis] : 0;
    flat = shape[axis] ? flat / shape[axis] : 0;
  }
  return index;
}

int64_t offset_of(const std::vector<int64_t>& index, const std::vector<int64_t>& strides) {
  int64_t offset = 0;
  for (size_t i = 0; i < index.size(); ++i) offset += index[i] * strides[i];
  return offset;
}

Error type_error(std::string_view what, const TensorType& got) {
  return make_error("expects {}, got {}", what, got.str());
}

}  // namespace tessel::ops
