// Sliding-window geometry shared by conv, conv_transpose, max_pool and avg_pool: reading and checking the
// strides / pads / dilations attributes, the output-size rule in Dim arithmetic (so symbolic batch and
// spatial dims flow through shape inference), and for kernels the range of positions along one axis at
// which a kernel tap lands inside the other tensor.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "ir/OpTable.h"

namespace tessel::ops {

/// Window attributes filled to one entry per spatial axis (pads: one begin and one end per axis).
struct WindowAttrs {
  std::vector<int64_t> strides;    ///< >= 1; [] in the op means all 1
  std::vector<int64_t> dilations;  ///< >= 1; [] in the op means all 1
  std::vector<int64_t> pads;       ///< [begin_0, ..., begin_k-1, end_0, ..., end_k-1], >= 0; [] means all 0

  int64_t pad_begin(size_t axis) const { return pads[axis]; }
  int64_t pad_end(size_t axis) const { return pads[strides.size() + axis]; }
};

/// Reads strides, pads and dilations for `spatial` axes, checking lengths and ranges; errors name `op`.
Expected<WindowAttrs> read_window_attrs(std::string_view op, const AttrReader& attrs, size_t spatial);

/// Reads an optional per-axis int list attribute (empty means `fill` on every axis), each value >= `min`.
Expected<std::vector<int64_t>> read_axis_list(std::string_view op, const AttrReader& attrs, const std::string& name,
                                              size_t spatial, int64_t fill, int64_t min);

/// Window positions along an axis: floor((in + pads_total - extent) / stride) + 1, where `extent` is the
/// dilated kernel size dilation * (kernel - 1) + 1. Written as (in + pads_total - extent + stride) floordiv
/// stride, which prints symbolic dims compactly: H with a 3-tap, stride-2, pad-1 window gives (H+1)/2.
Dim window_count(const Dim& in, const Dim& extent, int64_t stride, int64_t pads_total);

/// Floor division rounding toward negative infinity (divisor > 0).
int64_t floor_div(int64_t a, int64_t b);

/// The positions p in [0, count) at which p * stride - pad_begin + offset lies in [0, limit), as a
/// half-open range [lo, hi) (empty when lo >= hi). `offset` is tap * dilation. Conv gathers over output
/// positions (count = out, limit = in); conv_transpose scatters over input positions (count = in,
/// limit = out).
std::pair<int64_t, int64_t> tap_range(int64_t count, int64_t limit, int64_t stride, int64_t pad_begin, int64_t offset);

}  // namespace tessel::ops
