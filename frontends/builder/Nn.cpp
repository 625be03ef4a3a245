#include "frontends/builder/Nn.h"

#include <cmath>

namespace tessel::nn {

double WeightInit::next_unit() {
  // xorshift64*: small, fast and reproducible across platforms.
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  return static_cast<double>((state_ * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

Tensor WeightInit::uniform(std::vector<int64_t> shape, int64_t fan_in) {
  Tensor tensor(DType::F32, std::move(shape));
  double bound = 1.0 / std::sqrt(static_cast<double>(fan_in > 0 ? fan_in : 1));
  float* data = tensor.data<float>();
  for (int64_t i = 0; i < tensor.numel(); ++i) data[i] = static_cast<float>((2 * next_unit() - 1) * bound);
  return tensor;
}

Value* conv2d(Builder& b, WeightInit& init, Value* x, int64_t out_channels, int64_t kernel, int64_t stride, int64_t pad,
              const std::string& name) {
  if (!x) return nullptr;  // an earlier op failed; the builder holds its error
  if (x->type().rank() != 4 || !x->type().shape[1].is_const())
    return b.report(make_error("{}: conv2d expects [N, C, H, W] with a constant C, got {}", name, x->type().str()));
  int64_t in_channels = *x->type().shape[1].as_const();
  int64_t fan_in = in_channels * kernel * kernel;
  Value* weight = b.constant(init.uniform({out_channels, in_channels, kernel, kernel}, fan_in), name + ".weight");
  Value* bias = b.constant(init.uniform({out_channels}, fan_in), name + ".bias");
  return b.conv(x, weight, bias, {stride, stride}, {pad, pad, pad, pad});
}

Value* dense(Builder& b, WeightInit& init, Value* x, int64_t units, const std::string& name) {
  if (!x) return nullptr;
  if (x->type().rank() != 2 || !x->type().shape[1].is_const())
    return b.report(make_error("{}: dense expects [N, K] with a constant K, got {}", name, x->type().str()));
  int64_t fan_in = *x->type().shape[1].as_const();
  Value* weight = b.constant(init.uniform({fan_in, units}, fan_in), name + ".weight");
  Value* bias = b.constant(init.uniform({units}, fan_in), name + ".bias");
  return b.gemm(x, weight, bias);
}

}  // namespace tessel::nn
