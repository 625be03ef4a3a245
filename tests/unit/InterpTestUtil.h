// Helpers for interpreter tests: build a one-op function with the Builder (so
// result types come from the op's shape rule), verify it, run it.
#pragma once

#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "ir/Builder.h"
#include "ir/Verifier.h"
#include "ir/interp/Interpreter.h"

namespace tessel::testing {

/// An operand of the op under test; std::nullopt marks an absent optional operand.
using Operand = std::optional<Tensor>;

/// Runs `kind` on `operands` (each present operand becomes a function input of its exact static shape).
inline Expected<std::vector<Tensor>> run_op(OpKind kind, std::vector<Operand> operands, AttrMap attrs = {},
                                            int num_results = 1) {
  Module module;
  Builder b(module.add_function("main"));
  std::vector<Value*> values;
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < operands.size(); ++i) {
    if (!operands[i]) {
      values.push_back(nullptr);
      continue;
    }
    const Tensor& t = *operands[i];
    values.push_back(b.input("in" + std::to_string(i), {t.dtype(), to_shape(t.shape())}));
    inputs.push_back(t);
  }
  auto results = b.create(kind, values, std::move(attrs), num_results);
  for (Value* result : results) b.output(result);
  TESSEL_TRY(b.status());
  TESSEL_TRY(verify(module));
  return interpret(*module.entry(), inputs);
}

/// Single-result form; fails the test (and returns an empty tensor) on error.
inline Tensor run1(OpKind kind, std::vector<Operand> operands, AttrMap attrs = {}) {
  auto results = run_op(kind, std::move(operands), std::move(attrs));
  EXPECT_TRUE(results.ok()) << (results.ok() ? "" : results.error().str());
  if (!results.ok()) return Tensor();
  return results->at(0);
}

/// Expects dtype, shape and values (within `tolerance`, absolute + relative; NaN equals NaN).
inline void expect_tensor(const Tensor& actual, DType dtype, const std::vector<int64_t>& shape,
                          const std::vector<double>& values, double tolerance = 1e-6) {
  EXPECT_EQ(dtype_name(actual.dtype()), dtype_name(dtype));
  ASSERT_EQ(actual.shape(), shape);
  ASSERT_EQ(actual.numel(), static_cast<int64_t>(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    double a = actual.get_double(static_cast<int64_t>(i)), e = values[i];
    if (std::isnan(e)) {
      EXPECT_TRUE(std::isnan(a)) << "element " << i;
      continue;
    }
    if (std::isinf(e)) {
      EXPECT_EQ(a, e) << "element " << i;
      continue;
    }
    EXPECT_NEAR(a, e, tolerance * (1 + std::abs(e))) << "element " << i;
  }
}

/// Shorthand: a tensor of `dtype` from doubles.
inline Tensor T(DType dtype, std::vector<int64_t> shape, std::vector<double> values) {
  return Tensor::from_doubles(dtype, std::move(shape), values);
}

}  // namespace tessel::testing
