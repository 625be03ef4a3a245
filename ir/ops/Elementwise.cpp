// The select family (where) and the cast family, plus the round-to-odd
// conversions that Elementwise.h declares. Unary and binary ops live in
// Unary.cpp and Binary.cpp.
#include "ir/ops/Elementwise.h"

#include <bit>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "ir/LowPrecision.h"
#include "ir/ops/Families.h"

namespace tessel::ops {

// ---- Round-to-odd conversions ----------------------------------------------------------------------

float round_to_odd_float(double value) {
  if (std::isnan(value)) return static_cast<float>(value);
  // Beyond the float range the odd truncation is FLT_MAX (its last bit is already 1); narrowing it
  // gives inf in f16 and bf16, as rounding the exact value would.
  if (std::fabs(value) > std::numeric_limits<float>::max())
    return std::isinf(value) ? static_cast<float>(value) : std::copysign(std::numeric_limits<float>::max(), value);
  float nearest = static_cast<float>(value);
  if (static_cast<double>(nearest) == value) return nearest;
  float truncated =
      std::fabs(static_cast<double>(nearest)) > std::fabs(value) ? std::nextafter(nearest, 0.0f) : nearest;
  return bits_float(float_bits(truncated) | 1u);
}

float round_to_odd_float(uint64_t value) {
  int bits = std::bit_width(value);
  if (bits <= 24) return static_cast<float>(value);  // exact
  // Keep the top 24 bits and fold the dropped ones into the last kept bit.
  int shift = bits - 24;
  uint64_t kept = value >> shift;
  if (value & ((uint64_t{1} << shift) - 1)) kept |= 1;
  return std::ldexp(static_cast<float>(kept), shift);
}

float round_to_odd_float(int64_t value) {
  // The magnitude of INT64_MIN (2^63) is exact as a uint64.
  uint64_t magnitude = value < 0 ? uint64_t{0} - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  float result = round_to_odd_float(magnitude);
  return value < 0 ? -result : result;
}

// ---- where --------------------------------------------------------------------------------------

namespace {

Status check_select(const TensorType& cond, const TensorType& a, const TensorType& b) {
  if (cond.dtype != DType::Bool) return make_error("where needs a bool condition, got {}", cond.str());
  if (a.dtype != b.dtype)
    return make_error("where needs both branches of the same dtype (no implicit promotion), got {} and {}", a.str(),
                      b.str());
  return Status::success();
}

Expected<Shape> broadcast3(const Shape& cond, const Shape& a, const Shape& b) {
  auto cond_a = broadcast_shapes(cond, a);
  if (cond_a) {
    auto all = broadcast_shapes(*cond_a, b);
    if (all) return std::move(*all);
  }
  return make_error("where: condition {}, first branch {} and second branch {} do not broadcast together",
                    shape_str(cond), shape_str(a), shape_str(b));
}

template <typename S>
Tensor select_typed(const Tensor& cond, const Tensor& a, const Tensor& b, const std::vector<int64_t>& shape) {
  Tensor out(a.dtype(), shape);
  const auto* pc = cond.data<uint8_t>();
  const auto* pa = a.data<S>();
  const auto* pb = b.data<S>();
  auto* dst = out.data<S>();
  if (cond.shape() == shape && a.shape() == shape && b.shape() == shape) {
    for (int64_t i = 0, n = out.numel(); i < n; ++i) dst[i] = pc[i] ? pa[i] : pb[i];
    return out;
  }
  for_each_broadcast<3>(shape, {cond.shape(), a.shape(), b.shape()}, [&](int64_t i, const std::array<int64_t, 3>& at) {
    dst[i] = pc[at[0]] ? pa[at[1]] : pb[at[2]];
  });
  return out;
}

}  // namespace

Expected<std::vector<TensorType>> infer_select(const ShapeContext& ctx) {
  const TensorType& cond = ctx.operand(0);
  const TensorType& a = ctx.operand(1);
  const TensorType& b = ctx.operand(2);
  TESSEL_TRY(check_select(cond, a, b));
  TESSEL_ASSIGN(Shape shape, broadcast3(cond.shape, a.shape, b.shape));
  return std::vector<TensorType>{{a.dtype, std::move(shape)}};
}

Expected<std::vector<Tensor>> eval_select(const EvalContext& ctx) {
  const Tensor& cond = ctx.input(0);
  const Tensor& a = ctx.input(1);
  const Tensor& b = ctx.input(2);
  TensorType cond_type{cond.dtype(), to_shape(cond.shape())};
  TensorType a_type{a.dtype(), to_shape(a.shape())};
  TensorType b_type{b.dtype(), to_shape(b.shape())};
  TESSEL_TRY(check_select(cond_type, a_type, b_type));
  TESSEL_ASSIGN(Shape shape, broadcast3(cond_type.shape, a_type.shape, b_type.shape));
  std::vector<int64_t> dims = *static_shape(shape);
  // Selection copies elements without interpreting them, so the storage type is enough.
  Tensor result = visit_dtype(a.dtype(), [&](auto zero) { return select_typed<decltype(zero)>(cond, a, b, dims); });
  return std::vector<Tensor>{std::move(result)};
}

// ---- cast ---------------------------------------------------------------------------------------
// Compute dtypes convert element by element (convert_element). The low-precision types go through an
// exact widening (floats to f32, 4-/2-bit integers to i64) or a narrowing from f32 / i64, as ONNX's
// reference goes through float32. Strings print numbers the way ONNX's reference (numpy's str) does and
// parse ONNX's numeric spellings.

namespace {

struct CastOptions {
  bool saturate = true;
  E8M0Rounding rounding = E8M0Rounding::Up;
};

template <typename Src, typename Dst>
Tensor cast_typed(const Tensor& x) {
  Tensor out(Dst::kDType, x.shape());
  const auto* src = x.data<typename Src::Storage>();
  auto* dst = out.data<typename Dst::Storage>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) dst[i] = convert_element<Src, Dst>(src[i]);
  return out;
}

// Between compute dtypes.
Tensor cast_compute(const Tensor& x, DType to) {
  return visit_elem(x.dtype(), [&](auto src) {
    return visit_elem(to, [&](auto dst) { return cast_typed<decltype(src), decltype(dst)>(x); });
  });
}

// A low-precision tensor as the compute dtype that holds each of its values exactly.
Tensor widen_low_precision(const Tensor& x) {
  bool integer = is_low_precision_int(x.dtype());
  Tensor out(integer ? DType::I64 : DType::F32, x.shape());
  const auto* src = x.data<uint8_t>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) {
    float value = low_precision_to_float(x.dtype(), src[i]);
    if (integer)
      out.data<int64_t>()[i] = static_cast<int64_t>(value);
    else
      out.data<float>()[i] = value;
  }
  return out;
}

// A compute tensor to a low-precision type: integers wrap (through i64, where a float truncates and
// saturates first), floats round from f32.
Tensor narrow_to_low_precision(const Tensor& x, DType to, const CastOptions& options) {
  Tensor out(to, x.shape());
  auto* dst = out.data<uint8_t>();
  visit_elem(x.dtype(), [&](auto src_elem) {
    using Src = decltype(src_elem);
    const auto* src = x.data<typename Src::Storage>();
    for (int64_t i = 0, n = x.numel(); i < n; ++i) {
      if (is_low_precision_int(to))
        dst[i] = int_to_low_precision(to, convert_element<Src, Elem<DType::I64>>(src[i]));
      else
        dst[i] = float_to_low_precision(to, convert_element<Src, Elem<DType::F32>>(src[i]), options.saturate,
                                        options.rounding);
    }
  });
  return out;
}

// ---- numbers as text ----

// numpy's str() of a float scalar: the shortest digits that read back as the same value, positional when
// 1e-4 <= |x| < `cutoff` (1e3 for f16, 1e6 for f32, 1e16 for f64) or x is zero, else scientific with a
// two-digit exponent ("1e-05", "1.5e+16"); "nan", "inf", "-inf".
template <typename F>
std::string numpy_float_text(F value, double cutoff) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  double magnitude = std::fabs(static_cast<double>(value));
  bool positional = magnitude == 0 || (magnitude >= 1e-4 && magnitude < cutoff);
  char buffer[64];  // positional only below 1e16 and above 1e-4: at most ~40 characters
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value,
                              positional ? std::chars_format::fixed : std::chars_format::scientific);
  std::string text(buffer, result.ptr);
  if (positional && text.find('.') == std::string::npos) text += ".0";
  return text;
}

// The value of a 16-bit float with the fewest significant digits that round back to the same bits.
float shortest_half(uint16_t bits, float (*to_float)(uint16_t), uint16_t (*to_bits)(float)) {
  float value = to_float(bits);
  if (!std::isfinite(value)) return value;
  for (int precision = 0; precision < 9; ++precision) {
    char buffer[64];
    auto result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific, precision);
    float back = 0;
    std::from_chars(buffer, result.ptr, back);
    if (to_bits(back) == bits) return back;
  }
  return value;
}

std::string element_text(const Tensor& x, int64_t i) {
  switch (x.dtype()) {
    case DType::F32: return numpy_float_text(x.data<float>()[i], 1e6);
    case DType::F64: return numpy_float_text(x.data<double>()[i], 1e16);
    case DType::F16: return numpy_float_text(shortest_half(x.data<uint16_t>()[i], half_to_float, float_to_half), 1e3);
    case DType::BF16: return numpy_float_text(shortest_half(x.data<uint16_t>()[i], bf16_to_float, float_to_bf16), 1e3);
    case DType::Bool: return x.data<uint8_t>()[i] ? "True" : "False";
    case DType::U64: return std::to_string(x.data<uint64_t>()[i]);
    default: return std::to_string(x.get_int(i));
  }
}

Tensor cast_to_string(const Tensor& x) {
  Tensor source = is_low_precision(x.dtype()) ? widen_low_precision(x) : x;
  Tensor out(DType::String, x.shape());
  for (int64_t i = 0, n = x.numel(); i < n; ++i) out.data<std::string>()[i] = element_text(source, i);
  return out;
}

// ---- text as numbers ----

std::string_view trimmed(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

bool equals_lower(std::string_view text, std::string_view lower) {
  return text.size() == lower.size() &&
         std::equal(text.begin(), text.end(), lower.begin(), [](char a, char b) { return (a | 0x20) == b; });
}

// Parses the whole of `text` as T. from_chars already reads "inf", "infinity" and "nan" in any case; ONNX
// also allows a leading '+' ("+INF").
template <typename T>
std::optional<T> parse_number(std::string_view text) {
  text = trimmed(text);
  if (text.size() > 1 && text[0] == '+' && text[1] != '-' && text[1] != '+') text.remove_prefix(1);
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Error parse_error(const std::string& text, DType to) {
  return make_error("cast: cannot read string \"{}\" as {} (expected a number such as 3.14, 1e-5, INF or NaN)", text,
                    dtype_name(to));
}

// Strings to the compute dtype that holds the parsed values: f32 for the 32-bit-or-narrower floats (read
// straight into a float, not rounded twice through double), f64, u64, or i64 for other integers (a
// non-integer such as "100.5" is read as a float and truncated) and bool ("true"/"false" or a number).
Expected<Tensor> parse_strings(const Tensor& x, DType to) {
  DType holder = to == DType::F64 || to == DType::U64         ? to
                 : is_float(to) || is_low_precision_float(to) ? DType::F32
                 : to == DType::Bool                          ? DType::Bool
                                                              : DType::I64;
  Tensor out(holder, x.shape());
  for (int64_t i = 0, n = x.numel(); i < n; ++i) {
    const std::string& text = x.data<std::string>()[i];
    if (holder == DType::F32) {
      auto value = parse_number<float>(text);
      if (!value) return parse_error(text, to);
      out.data<float>()[i] = *value;
      continue;
    }
    if (holder == DType::Bool && (equals_lower(trimmed(text), "true") || equals_lower(trimmed(text), "false"))) {
      out.data<uint8_t>()[i] = equals_lower(trimmed(text), "true") ? 1 : 0;
      continue;
    }
    if (holder == DType::I64) {
      if (auto value = parse_number<int64_t>(text)) {
        out.data<int64_t>()[i] = *value;
        continue;
      }
    }
    if (holder == DType::U64) {
      if (auto value = parse_number<uint64_t>(text)) {
        out.data<uint64_t>()[i] = *value;
        continue;
      }
    }
    auto value = parse_number<double>(text);
    if (!value) return parse_error(text, to);
    out.set_double(i, *value);  // truncates and saturates for integers, != 0 for bool
  }
  return out;
}

// Any dtype but string to `to`, which may be low-precision.
Tensor cast_numbers(const Tensor& x, DType to, const CastOptions& options) {
  if (x.dtype() == to) return x;
  Tensor source = is_low_precision(x.dtype()) ? widen_low_precision(x) : x;
  if (source.dtype() == to) return source;
  if (is_low_precision(to)) return narrow_to_low_precision(source, to, options);
  return cast_compute(source, to);
}

Expected<CastOptions> cast_options(const AttrReader& attrs) {
  if (!attrs.has("to")) return make_error("cast requires attribute 'to' (the target dtype)");
  int64_t saturate = attrs.i("saturate");
  if (saturate != 0 && saturate != 1) return make_error("cast: saturate must be 0 or 1, got {}", saturate);
  auto rounding = parse_e8m0_rounding(attrs.s("round_mode"));
  if (!rounding)
    return make_error("cast: round_mode must be \"up\", \"down\" or \"nearest\", got \"{}\"", attrs.s("round_mode"));
  return CastOptions{saturate == 1, *rounding};
}

}  // namespace

Expected<std::vector<TensorType>> infer_cast(const ShapeContext& ctx) {
  TESSEL_TRY(cast_options(ctx.attrs));
  const TensorType& x = ctx.operand(0);
  return std::vector<TensorType>{{ctx.attrs.type("to"), x.shape}};
}

Expected<std::vector<Tensor>> eval_cast(const EvalContext& ctx) {
  TESSEL_ASSIGN(CastOptions options, cast_options(ctx.attrs));
  const Tensor& x = ctx.input(0);
  DType to = ctx.attrs.type("to");
  if (x.dtype() == to) return std::vector<Tensor>{x};  // shares the buffer; tensors are immutable values
  if (to == DType::String) return std::vector<Tensor>{cast_to_string(x)};
  if (x.dtype() != DType::String) return std::vector<Tensor>{cast_numbers(x, to, options)};
  TESSEL_ASSIGN(Tensor parsed, parse_strings(x, to));
  return std::vector<Tensor>{cast_numbers(parsed, to, options)};
}

}  // namespace tessel::ops
