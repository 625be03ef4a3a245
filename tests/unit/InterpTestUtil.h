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

/// Calls the op's shape rule directly (no builder), e.g. on symbolic types.
inline Expected<std::vector<TensorType>> infer(OpKind kind, std::vector<TensorType> types, AttrMap attrs = {},
                                               int num_results = 1) {
  ShapeContext ctx{kind, {}, AttrReader(kind, attrs), num_results, nullptr};
  for (const TensorType& type : types) ctx.operands.push_back(&type);
  return op_info(kind).infer(ctx);
}

/// The first result type's text; fails the test if the shape rule rejects the op.
inline std::string infer_type(OpKind kind, std::vector<TensorType> types, AttrMap attrs = {}) {
  auto result = infer(kind, std::move(types), std::move(attrs));
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().str());
  return result.ok() ? result->at(0).str() : "";
}

/// The error message of running the op; fails the test if it succeeds.
inline std::string run_error(OpKind kind, std::vector<Operand> operands, AttrMap attrs = {}) {
  auto result = run_op(kind, std::move(operands), std::move(attrs));
  EXPECT_FALSE(result.ok()) << "expected " << op_info(kind).name << " to fail";
  return result.ok() ? "" : result.error().str();
}

/// Runs a one-op function whose inputs are declared with `types` (possibly symbolic), bound to `tensors`.
inline Expected<std::vector<Tensor>> run_typed(OpKind kind, std::vector<TensorType> types, std::vector<Tensor> tensors,
                                               AttrMap attrs = {}) {
  Module module;
  Builder b(module.add_function("main"));
  std::vector<Value*> values;
  for (size_t i = 0; i < types.size(); ++i) values.push_back(b.input("in" + std::to_string(i), types[i]));
  b.output(b.op(kind, values, std::move(attrs)));
  TESSEL_TRY(b.status());
  TESSEL_TRY(verify(module));
  return interpret(*module.entry(), tensors);
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
