// Float-to-integer conversion that truncates toward zero and saturates at the
// target's range (NaN gives 0) instead of invoking undefined behaviour. The
// IR's `cast` semantics; shared by Tensor's accessors and the kernels.
#pragma once

#include <cmath>
#include <limits>

namespace tessel {

template <typename T>
T saturating_int(double value) {
  if (std::isnan(value)) return 0;
  constexpr double lo = static_cast<double>(std::numeric_limits<T>::lowest());
  constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
  if (value <= lo) return std::numeric_limits<T>::lowest();
  // hi may round up to 2^bits (64-bit types), where `>=` is exactly the out-of-range test.
  if (value >= hi) return std::numeric_limits<T>::max();
  return static_cast<T>(value);
}

}  // namespace tessel
