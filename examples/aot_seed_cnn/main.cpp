// The seed CNN compiled ahead of time: this program links only the generated library (libseed_cnn.a, from
// `tessel compile seed_cnn.tsl -o gen --name seed_cnn`) and the Tessel runtime -- no compiler library.
// It runs a batch of 3 images and then the first image alone through the same library (a symbolic batch),
// and checks both against probabilities computed by plain loops (written by `seed_cnn --write DIR`).
//   aot_seed_cnn IMAGE.npy EXPECTED.npy
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "seed_cnn.h"

namespace {

// A minimal reader for the little-endian float32 C-order .npy files seed_cnn writes; returns the shape.
bool read_f32_npy(const char* path, std::vector<float>& data, std::vector<int64_t>& shape) {
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) return false;
  uint32_t header_len = 0;
  if (magic[6] == 1) {
    uint16_t len16 = 0;
    in.read(reinterpret_cast<char*>(&len16), 2);
    header_len = len16;
  } else {
    in.read(reinterpret_cast<char*>(&header_len), 4);
  }
  std::string header(header_len, ' ');
  in.read(header.data(), header_len);
  if (header.find("'<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos)
    return false;
  size_t open = header.find('('), close = header.find(')');
  int64_t count = 1;
  for (size_t i = open + 1; i < close;) {
    size_t end = header.find_first_of(",)", i);
    std::string token = header.substr(i, end - i);
    if (token.find_first_of("0123456789") != std::string::npos) {
      shape.push_back(std::stoll(token));
      count *= shape.back();
    }
    i = end + 1;
  }
  data.resize(static_cast<size_t>(count));
  return static_cast<bool>(in.read(reinterpret_cast<char*>(data.data()), count * 4));
}

double worst_relative_error(const float* actual, const float* expected, int64_t n) {
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    worst = std::max(worst, std::abs(double(actual[i]) - expected[i]) / (1e-6 + std::abs(double(expected[i]))));
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: aot_seed_cnn IMAGE.npy EXPECTED.npy\n");
    return 1;
  }
  std::vector<float> image, expected;
  std::vector<int64_t> image_shape, expected_shape;
  if (!read_f32_npy(argv[1], image, image_shape) || !read_f32_npy(argv[2], expected, expected_shape)) {
    std::fprintf(stderr, "aot_seed_cnn: cannot read %s or %s\n", argv[1], argv[2]);
    return 1;
  }
  tessel_model* model = seed_cnn_create(nullptr, 0);
  if (!model) {
    std::fprintf(stderr, "aot_seed_cnn: %s\n", tessel_last_error());
    return 1;
  }
  int64_t batch = image_shape[0];
  bool ok = true;
  for (int64_t n : {batch, int64_t{1}}) {
    std::vector<float> probs(static_cast<size_t>(seed_cnn_probs_numel(n)));
    if (seed_cnn_run(model, n, image.data(), probs.data()) != TESSEL_OK) {
      std::fprintf(stderr, "aot_seed_cnn: %s\n", tessel_last_error());
      ok = false;
      break;
    }
    double worst = worst_relative_error(probs.data(), expected.data(), static_cast<int64_t>(probs.size()));
    std::printf("batch %ld: probs[0] = [", static_cast<long>(n));
    for (int j = 0; j < 10; ++j) std::printf("%s%.4f", j ? ", " : "", probs[j]);
    std::printf("], max relative error vs plain loops %.2e\n", worst);
    ok = ok && worst <= 1e-4;
  }
  seed_cnn_destroy(model);
  if (!ok) std::fprintf(stderr, "aot_seed_cnn: the compiled model disagrees with the reference\n");
  return ok ? 0 : 1;
}
