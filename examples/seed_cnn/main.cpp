// The seed CNN, written with Tessel's C++ builder and run by the reference
// interpreter:  Conv 32x3x3 -> ReLU -> MaxPool 2 -> Flatten -> Dense 128 ReLU
// -> Dense 10 -> Softmax, on a symbolic batch N. The example checks the
// interpreter's answer against a plain C++ loop nest over the same weights,
// so it doubles as an end-to-end test (ctest: example.seed_cnn).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "frontends/builder/Nn.h"
#include "ir/Builder.h"
#include "ir/Printer.h"
#include "ir/TensorIO.h"
#include "ir/Verifier.h"
#include "ir/interp/Interpreter.h"

using namespace tessel;

namespace {

Status build_seed_cnn(Module& module) {
  Builder b(module.add_function("main"));
  nn::WeightInit init(/*seed=*/7);
  Value* image = b.input("image", {DType::F32, {Dim::symbol("N"), 1, 28, 28}});
  Value* x = b.relu(nn::conv2d(b, init, image, 32, 3, /*stride=*/1, /*pad=*/0, "conv1"));  // [N, 32, 26, 26]
  x = b.max_pool(x, {2, 2}, {2, 2});                                                       // [N, 32, 13, 13]
  x = b.flatten(x);                                                                        // [N, 5408]
  x = b.relu(nn::dense(b, init, x, 128, "fc1"));
  x = b.softmax(nn::dense(b, init, x, 10, "fc2"));
  b.output(x, "probs");
  TESSEL_TRY(b.status());
  return verify(module);
}

// ---- An independent computation of the same network, for checking --------------------------------

const float* weights(const Module& module, const char* name) { return module.constant(name)->data<float>(); }

std::vector<float> reference(const Module& module, const Tensor& image) {
  int64_t batch = image.dim(0);
  const float* in = image.data<float>();
  const float *cw = weights(module, "conv1.weight"), *cb = weights(module, "conv1.bias");
  const float *w1 = weights(module, "fc1.weight"), *b1 = weights(module, "fc1.bias");
  const float *w2 = weights(module, "fc2.weight"), *b2 = weights(module, "fc2.bias");
  std::vector<float> probs;
  for (int64_t n = 0; n < batch; ++n) {
    std::vector<float> pooled(32 * 13 * 13, -INFINITY);
    for (int c = 0; c < 32; ++c)
      for (int y = 0; y < 26; ++y)
        for (int x = 0; x < 26; ++x) {
          float sum = cb[c];
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) sum += cw[c * 9 + ky * 3 + kx] * in[n * 784 + (y + ky) * 28 + x + kx];
          float& cell = pooled[c * 169 + (y / 2) * 13 + x / 2];
          cell = std::max(cell, std::max(sum, 0.0f));
        }
    std::vector<float> hidden(128);
    for (int j = 0; j < 128; ++j) {
      float sum = b1[j];
      for (int k = 0; k < 5408; ++k) sum += pooled[k] * w1[k * 128 + j];
      hidden[j] = std::max(sum, 0.0f);
    }
    float logits[10], largest = -INFINITY, total = 0;
    for (int j = 0; j < 10; ++j) {
      logits[j] = b2[j];
      for (int k = 0; k < 128; ++k) logits[j] += hidden[k] * w2[k * 10 + j];
      largest = std::max(largest, logits[j]);
    }
    for (float& logit : logits) total += (logit = std::exp(logit - largest));
    for (float logit : logits) probs.push_back(logit / total);
  }
  return probs;
}

}  // namespace

Tensor test_image(int64_t batch) {
  Tensor image(DType::F32, {batch, 1, 28, 28});
  for (int64_t i = 0; i < image.numel(); ++i) image.data<float>()[i] = static_cast<float>((i * 37 % 101) / 101.0);
  return image;
}

// `seed_cnn --write DIR` writes DIR/seed_cnn.tsl (the model), DIR/image.npy (a batch of 3) and
// DIR/expected.npy (the plain-loop reference's probabilities) for the AOT example (examples/aot_seed_cnn).
int write_files(const Module& module, const std::string& dir) {
  Tensor image = test_image(3);
  std::vector<float> expected = reference(module, image);
  Status status = write_npy(dir + "/image.npy", image);
  if (status) status = write_npy(dir + "/expected.npy", Tensor::of<float>({3, 10}, expected));
  std::ofstream(dir + "/seed_cnn.tsl") << print_module(module);
  if (!status) {
    std::fprintf(stderr, "seed_cnn: %s\n", status.error().str().c_str());
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  Module module;
  if (auto status = build_seed_cnn(module); !status) {
    std::fprintf(stderr, "seed_cnn: %s\n", status.error().str().c_str());
    return 1;
  }
  if (argc == 3 && std::string(argv[1]) == "--write") return write_files(module, argv[2]);
  std::printf("%s\n", print_module(module, {.elide_constants_above = 16}).c_str());

  // Two different batch sizes through the same (symbolic-batch) module.
  for (int64_t batch : {1, 3}) {
    Tensor image = test_image(batch);
    auto outputs = interpret(*module.entry(), {image});
    if (!outputs) {
      std::fprintf(stderr, "seed_cnn: %s\n", outputs.error().str().c_str());
      return 1;
    }
    const Tensor& probs = outputs->at(0);
    std::vector<float> expected = reference(module, image);
    if (probs.shape() != std::vector<int64_t>{batch, 10}) {
      std::fprintf(stderr, "seed_cnn: output shape %s, expected f32[%ld, 10]\n", probs.type_str().c_str(), batch);
      return 1;
    }
    double worst = 0;
    for (int64_t i = 0; i < probs.numel(); ++i)
      worst = std::max(worst, std::abs(probs.data<float>()[i] - expected[i]) / (1e-6 + std::abs(expected[i])));
    std::printf("batch %ld: probs[0] = [", batch);
    for (int j = 0; j < 10; ++j) std::printf("%s%.4f", j ? ", " : "", probs.data<float>()[j]);
    std::printf("], max relative error vs plain loops %.2e\n", worst);
    if (worst > 1e-4) {
      std::fprintf(stderr, "seed_cnn: interpreter and reference disagree\n");
      return 1;
    }
  }
  return 0;
}
