// Signal-processing ops whose results depend only on sizes and scalars known at import time: the window
// functions (HannWindow, HammingWindow, BlackmanWindow) and MelWeightMatrix are computed here, in double,
// following the ONNX reference, and become constants.
#include <cmath>
#include <numbers>

#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

std::optional<DType> output_dtype(NodeContext& ctx, int32_t default_type) {
  auto onnx_type = static_cast<int32_t>(ctx.attr_i("output_datatype", default_type));
  auto dtype = dtype_from_onnx(onnx_type);
  if (!dtype) ctx.fail_unsupported(make_error("output_datatype: {}", unsupported_elem_type(onnx_type)));
  return dtype;
}

std::optional<double> scalar_input(NodeContext& ctx, int i, std::string_view what) {
  auto tensor = ctx.require_constant(i, what);
  if (!tensor) return std::nullopt;
  if (tensor->numel() != 1) {
    ctx.fail(make_error("{} must hold one value, got {}", what, tensor->type_str()));
    return std::nullopt;
  }
  return tensor->get_double(0);
}

}  // namespace

// w[n] for n in [0, size), with N = size (periodic) or size - 1 (symmetric).
void import_window(NodeContext& ctx) {
  auto size_value = scalar_input(ctx, 0, "size");
  auto dtype = output_dtype(ctx, kOnnxFloat);
  if (!size_value || !dtype) return;
  auto size = static_cast<int64_t>(*size_value);
  if (size < 0 || size > (int64_t{1} << 24)) return (void)ctx.fail(make_error("window size {} is out of range", size));
  double n_total = ctx.attr_i("periodic", 1) == 1 ? double(size) : double(size - 1);
  const std::string& type = ctx.op_type();
  constexpr double pi = std::numbers::pi;
  std::vector<double> values(static_cast<size_t>(size));
  for (int64_t n = 0; n < size; ++n) {
    double x = double(n) / n_total;
    if (type == "HannWindow")
      values[n] = std::pow(std::sin(pi * x), 2);
    else if (type == "HammingWindow")
      values[n] = 25.0 / 46.0 - (1 - 25.0 / 46.0) * std::cos(2 * pi * x);
    else
      values[n] = 0.42 - 0.5 * std::cos(2 * pi * x) + 0.08 * std::cos(4 * pi * x);
  }
  ctx.set_output(0, ctx.constant(Tensor::from_doubles(*dtype, {size}, values), "window"));
}

// Triangular filters between mel-spaced frequency bins, as [dft_length / 2 + 1, num_mel_bins].
void import_mel_weight_matrix(NodeContext& ctx) {
  auto mel_bins = scalar_input(ctx, 0, "num_mel_bins");
  auto dft_length = scalar_input(ctx, 1, "dft_length");
  auto sample_rate = scalar_input(ctx, 2, "sample_rate");
  auto lower = scalar_input(ctx, 3, "lower_edge_hertz");
  auto upper = scalar_input(ctx, 4, "upper_edge_hertz");
  auto dtype = output_dtype(ctx, kOnnxFloat);
  if (!mel_bins || !dft_length || !sample_rate || !lower || !upper || !dtype) return;
  auto bins = static_cast<int64_t>(*mel_bins), length = static_cast<int64_t>(*dft_length);
  if (bins <= 0 || length <= 0 || *sample_rate <= 0 || bins > 65536 || length > (int64_t{1} << 20))
    return (void)ctx.fail(make_error("MelWeightMatrix sizes out of range"));
  int64_t spectrogram = length / 2 + 1;
  double low_mel = 2595 * std::log1p(*lower / 700) / std::log(10.0);
  double high_mel = 2595 * std::log1p(*upper / 700) / std::log(10.0);
  double step = (high_mel - low_mel) / double(bins + 2);
  std::vector<int64_t> edges(static_cast<size_t>(bins + 2));
  for (int64_t i = 0; i < bins + 2; ++i) {
    double hz = 700 * std::expm1((double(i) * step + low_mel) / 2595 * std::log(10.0));
    edges[i] = static_cast<int64_t>(std::floor(double(length + 1) * hz / *sample_rate));
  }
  std::vector<double> out(static_cast<size_t>(spectrogram * bins), 0.0);
  auto at = [&](int64_t j, int64_t i) -> double* {
    return j >= 0 && j < spectrogram ? &out[static_cast<size_t>(j * bins + i)] : nullptr;
  };
  for (int64_t i = 0; i < bins; ++i) {
    int64_t left = edges[i], center = edges[i + 1], right = edges[i + 2];
    if (center == left) {
      if (double* cell = at(center, i)) *cell = 1;
    } else {
      for (int64_t j = left; j <= center; ++j)
        if (double* cell = at(j, i)) *cell = double(j - left) / double(center - left);
    }
    for (int64_t j = center; j < right; ++j)
      if (double* cell = at(j, i)) *cell = double(right - j) / double(right - center);
  }
  ctx.set_output(0, ctx.constant(Tensor::from_doubles(*dtype, {spectrogram, bins}, out), "mel_weights"));
}

}  // namespace tessel::onnx
