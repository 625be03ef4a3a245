#include "ir/ops/Window.h"

#include <algorithm>

#include <fmt/ranges.h>

namespace tessel::ops {

Expected<std::vector<int64_t>> read_axis_list(std::string_view op, const AttrReader& attrs, const std::string& name,
                                              size_t spatial, int64_t fill, int64_t min) {
  std::vector<int64_t> values = attrs.ints(name);
  if (values.empty()) return std::vector<int64_t>(spatial, fill);
  if (values.size() != spatial)
    return make_error("{} {} has {} entries [{}] but the input has {} spatial axes", op, name, values.size(),
                      fmt::join(values, ", "), spatial);
  for (int64_t value : values)
    if (value < min) return make_error("{} {} [{}] must all be >= {}", op, name, fmt::join(values, ", "), min);
  return values;
}

Expected<WindowAttrs> read_window_attrs(std::string_view op, const AttrReader& attrs, size_t spatial) {
  WindowAttrs window;
  TESSEL_ASSIGN(window.strides, read_axis_list(op, attrs, "strides", spatial, 1, 1));
  TESSEL_ASSIGN(window.dilations, read_axis_list(op, attrs, "dilations", spatial, 1, 1));
  window.pads = attrs.ints("pads");
  if (window.pads.empty()) window.pads.assign(2 * spatial, 0);
  if (window.pads.size() != 2 * spatial)
    return make_error("{} pads has {} entries [{}] but needs {} (a begin and an end for each of {} spatial axes)", op,
                      window.pads.size(), fmt::join(window.pads, ", "), 2 * spatial, spatial);
  for (int64_t pad : window.pads)
    if (pad < 0) return make_error("{} pads [{}] must all be >= 0", op, fmt::join(window.pads, ", "));
  return window;
}

Dim window_count(const Dim& in, const Dim& extent, int64_t stride, int64_t pads_total) {
  // floor(x / s) + 1 == floor((x + s) / s) for integers.
  return (in + pads_total - extent + stride).floordiv(stride);
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

std::pair<int64_t, int64_t> tap_range(int64_t count, int64_t limit, int64_t stride, int64_t pad_begin, int64_t offset) {
  // 0 <= p*s - pb + off  <=>  p >= ceil((pb - off) / s);  p*s - pb + off < limit  <=>  p <= floor((limit + pb - off -
  // 1) / s).
  int64_t lo = -floor_div(offset - pad_begin, stride);
  int64_t hi = floor_div(limit + pad_begin - offset - 1, stride) + 1;
  return {std::max<int64_t>(lo, 0), std::min(hi, count)};
}

}  // namespace tessel::ops
