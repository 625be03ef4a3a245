// Thin neural-network helpers over ir/Builder.h for writing models by hand:
// each creates its weights as module constants (deterministic pseudo-random,
// so examples and tests are reproducible) and the ops that use them.
#pragma once

#include <cstdint>
#include <string>

#include "ir/Builder.h"

namespace tessel::nn {

/// Deterministic weight generator: uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)] (PyTorch's default init).
class WeightInit {
 public:
  explicit WeightInit(uint64_t seed = 42) : state_(seed ? seed : 1) {}
  Tensor uniform(std::vector<int64_t> shape, int64_t fan_in);
  /// Next value in [0, 1).
  double next_unit();

 private:
  uint64_t state_;
};

/// 2-D convolution with bias: x[N, C, H, W] -> [N, out_channels, H', W'].
Value* conv2d(Builder& b, WeightInit& init, Value* x, int64_t out_channels, int64_t kernel, int64_t stride = 1,
              int64_t pad = 0, const std::string& name = "conv");
/// Fully connected layer: x[N, K] -> x * W[K, units] + bias[units].
Value* dense(Builder& b, WeightInit& init, Value* x, int64_t units, const std::string& name = "dense");

}  // namespace tessel::nn
