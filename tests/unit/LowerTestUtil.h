// Helpers of the lowering tests: random inputs, and `check`, which lowers @main under several schedules,
// runs it in the loop evaluator and compares with the tensor interpreter (exactly for integers and
// bools, within 1e-5 for f32, within f16 rounding for f16/bf16; NaN must meet NaN).
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ir/Builder.h"
#include "ir/Verifier.h"
#include "ir/interp/Interpreter.h"
#include "ir/loop/Evaluator.h"
#include "ir/loop/Text.h"
#include "passes/LowerKernel.h"

namespace tessel::lower_test {

inline Tensor random_tensor(DType dtype, std::vector<int64_t> shape, uint32_t seed, double lo = -1, double hi = 1) {
  std::mt19937 rng(seed);
  Tensor t(dtype, shape);
  std::uniform_real_distribution<double> real(lo, hi);
  std::uniform_int_distribution<int> ints(-9, 9);
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (dtype == DType::Bool)
      t.set_int(i, ints(rng) > 0);
    else if (is_float(dtype))
      t.set_double(i, real(rng));
    else if (is_signed_integer(dtype))
      t.set_int(i, ints(rng));
    else
      t.set_int(i, ints(rng) + 9);
  }
  return t;
}

inline void expect_close(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.type_str(), want.type_str()) << what;
  double tol = got.dtype() == DType::F16 || got.dtype() == DType::BF16 ? 8e-3 : 1e-5;
  int reported = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    if (!is_float(got.dtype())) {
      if (got.get_int(i) != want.get_int(i) && reported++ < 5)
        ADD_FAILURE() << what << ": element " << i << " is " << got.get_int(i) << ", want " << want.get_int(i);
      continue;
    }
    double g = got.get_double(i), w = want.get_double(i);
    if ((std::isnan(w) && std::isnan(g)) || g == w) continue;  // g == w: equal infinities too
    if (!(std::fabs(g - w) <= tol * (1 + std::fabs(w))) && reported++ < 5)
      ADD_FAILURE() << what << ": element " << i << " is " << g << ", want " << w;
  }
}

/// Lowers @main under each schedule and compares with the interpreter on `inputs`.
inline void check(const Module& module, const std::vector<std::string>& schedules, const std::vector<Tensor>& inputs,
                  const std::string& target_name = "x86-64-v3") {
  Status verified = verify(module);
  ASSERT_TRUE(verified.ok()) << verified.error().str();
  const Function& main = *module.entry();
  auto want = interpret(main, inputs);
  ASSERT_TRUE(want.ok()) << want.error().str();
  auto target = parse_target(target_name);
  ASSERT_TRUE(target.ok());
  for (const std::string& text : schedules) {
    auto schedule = parse_schedule(text);
    ASSERT_TRUE(schedule.ok()) << schedule.error().str();
    auto kernel = lower_kernel(main, *schedule, *target);
    ASSERT_TRUE(kernel.ok()) << "schedule '" << text << "': " << kernel.error().str();
    auto got = loop::run_kernel(*kernel, inputs, module.constants());
    ASSERT_TRUE(got.ok()) << "schedule '" << text << "': " << got.error().str() << "\n" << loop::print(*kernel);
    ASSERT_EQ(got->size(), want->size());
    for (size_t i = 0; i < got->size(); ++i)
      expect_close((*got)[i], (*want)[i], "schedule '" + text + "' output " + std::to_string(i));
  }
}

}  // namespace tessel::lower_test
