// Interpreter tests of the shape family: each op's shape rule (also with
// symbolic dims) and kernel, on hand-computed values, ONNX edge cases,
// zero-size dims, scalars, every dtype, and error messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "InterpTestUtil.h"

namespace tessel {
namespace {

using testing::infer;

using testing::expect_tensor;
using ::testing::HasSubstr;
using testing::run1;
using testing::run_op;
using testing::T;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
const Dim N = Dim::symbol("N");

// The error message of a run that must fail.
std::string error_of(const Expected<std::vector<Tensor>>& result) {
  EXPECT_FALSE(result.ok());
  return result.ok() ? std::string() : result.error().str();
}

std::string inferred(OpKind kind, std::vector<TensorType> operands, AttrMap attrs = {}) {
  auto types = infer(kind, std::move(operands), std::move(attrs));
  EXPECT_TRUE(types.ok()) << (types.ok() ? "" : types.error().str());
  return types.ok() ? types->at(0).str() : std::string();
}

// Runs `kind` on the first `num_operands` inputs of a function with input types `types` (possibly
// symbolic); the remaining inputs only bind symbols.
Expected<std::vector<Tensor>> run_typed(OpKind kind, std::vector<TensorType> types, std::vector<Tensor> inputs,
                                        size_t num_operands, AttrMap attrs = {}, int num_results = 1) {
  Module module;
  Builder b(module.add_function("main"));
  std::vector<Value*> values;
  for (size_t i = 0; i < types.size(); ++i) values.push_back(b.input("in" + std::to_string(i), types[i]));
  values.resize(num_operands);
  for (Value* result : b.create(kind, values, std::move(attrs), num_results)) b.output(result);
  TESSEL_TRY(b.status());
  TESSEL_TRY(verify(module));
  return interpret(*module.entry(), inputs);
}

Tensor iota(DType dtype, std::vector<int64_t> shape) {
  Tensor t(dtype, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.set_double(i, static_cast<double>(i));
  return t;
}

// ---- reshape / squeeze / unsqueeze --------------------------------------------------------------

TEST(InterpShapeTest, ReshapeKeepsRowMajorOrder) {
  Tensor out = run1(OpKind::Reshape, {T(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6})}, {{"shape", Shape{3, 2}}});
  expect_tensor(out, DType::F32, {3, 2}, {1, 2, 3, 4, 5, 6});
  expect_tensor(run1(OpKind::Reshape, {T(DType::I64, {4}, {7, 8, 9, 10})}, {{"shape", Shape{2, 1, 2}}}), DType::I64,
                {2, 1, 2}, {7, 8, 9, 10});
}

TEST(InterpShapeTest, ReshapeScalarsAndZeroSize) {
  expect_tensor(run1(OpKind::Reshape, {T(DType::F32, {}, {5})}, {{"shape", Shape{1}}}), DType::F32, {1}, {5});
  expect_tensor(run1(OpKind::Reshape, {T(DType::F32, {1, 1}, {5})}, {{"shape", Shape{}}}), DType::F32, {}, {5});
  expect_tensor(run1(OpKind::Reshape, {T(DType::F32, {0, 3}, {})}, {{"shape", Shape{3, 0, 2}}}), DType::F32, {3, 0, 2},
                {});
}

TEST(InterpShapeTest, ReshapeSymbolic) {
  TensorType x{DType::F32, {N, 3, 4}};
  EXPECT_EQ(inferred(OpKind::Reshape, {x}, {{"shape", Shape{N, 12}}}), "f32[N, 12]");
  auto out = run_typed(OpKind::Reshape, {x}, {iota(DType::F32, {2, 3, 4})}, 1, {{"shape", Shape{N, 12}}});
  ASSERT_TRUE(out.ok()) << out.error().str();
  EXPECT_EQ(out->at(0).shape(), (std::vector<int64_t>{2, 12}));
  EXPECT_EQ(out->at(0).get_double(13), 13.0);
}

TEST(InterpShapeTest, ReshapeCountMismatchIsAnError) {
  auto types = infer(OpKind::Reshape, {{DType::F32, {N, 12}}}, {{"shape", Shape{Dim::symbol("M"), 12}}});
  ASSERT_FALSE(types.ok());
  EXPECT_THAT(types.error().message, HasSubstr("reshape of f32[N, 12] to [M, 12] changes the element count"));
  EXPECT_THAT(error_of(run_op(OpKind::Reshape, {T(DType::F32, {2, 6}, {})}, {{"shape", Shape{5, 3}}})),
              HasSubstr("changes the element count (12 vs 15)"));
  EXPECT_THAT(error_of(run_op(OpKind::Reshape, {T(DType::F32, {2}, {})}, {{"shape", Shape{-1}}})),
              HasSubstr("negative dim"));
}

TEST(InterpShapeTest, SqueezeRemovesUnitAxes) {
  Tensor x = T(DType::F32, {1, 3, 1}, {1, 2, 3});
  expect_tensor(run1(OpKind::Squeeze, {x}, {{"axes", std::vector<int64_t>{0, 2}}}), DType::F32, {3}, {1, 2, 3});
  expect_tensor(run1(OpKind::Squeeze, {x}, {{"axes", std::vector<int64_t>{-1}}}), DType::F32, {1, 3}, {1, 2, 3});
  expect_tensor(run1(OpKind::Squeeze, {T(DType::F32, {1}, {4})}, {{"axes", std::vector<int64_t>{0}}}), DType::F32, {},
                {4});
  expect_tensor(run1(OpKind::Squeeze, {T(DType::F32, {1, 0}, {})}, {{"axes", std::vector<int64_t>{0}}}), DType::F32,
                {0}, {});
  EXPECT_EQ(inferred(OpKind::Squeeze, {{DType::F32, {N, 1}}}, {{"axes", std::vector<int64_t>{1}}}), "f32[N]");
}

TEST(InterpShapeTest, SqueezeErrors) {
  EXPECT_THAT(error_of(run_op(OpKind::Squeeze, {T(DType::F32, {1, 3}, {})}, {{"axes", std::vector<int64_t>{1}}})),
              HasSubstr("squeeze axis 1 of f32[1, 3] has dim 3, not 1"));
  EXPECT_THAT(error_of(run_op(OpKind::Squeeze, {T(DType::F32, {1, 3}, {})}, {{"axes", std::vector<int64_t>{}}})),
              HasSubstr("squeeze needs explicit axes"));
  EXPECT_THAT(error_of(run_op(OpKind::Squeeze, {T(DType::F32, {1}, {})}, {{"axes", std::vector<int64_t>{0, -1}}})),
              HasSubstr("repeated"));
  auto symbolic = infer(OpKind::Squeeze, {{DType::F32, {N}}}, {{"axes", std::vector<int64_t>{0}}});
  ASSERT_FALSE(symbolic.ok());
  EXPECT_THAT(symbolic.error().message, HasSubstr("has dim N, not 1"));
}

TEST(InterpShapeTest, UnsqueezeAxesIndexTheResult) {
  expect_tensor(run1(OpKind::Unsqueeze, {T(DType::F32, {}, {7})}, {{"axes", std::vector<int64_t>{0}}}), DType::F32, {1},
                {7});
  Tensor x = T(DType::I32, {3}, {1, 2, 3});
  expect_tensor(run1(OpKind::Unsqueeze, {x}, {{"axes", std::vector<int64_t>{0, 2}}}), DType::I32, {1, 3, 1}, {1, 2, 3});
  expect_tensor(run1(OpKind::Unsqueeze, {x}, {{"axes", std::vector<int64_t>{-1}}}), DType::I32, {3, 1}, {1, 2, 3});
  // -1 and 2 both name the last axis of a rank-3 result.
  expect_tensor(run1(OpKind::Unsqueeze, {x}, {{"axes", std::vector<int64_t>{-1, 0}}}), DType::I32, {1, 3, 1},
                {1, 2, 3});
  expect_tensor(run1(OpKind::Unsqueeze, {T(DType::F32, {0}, {})}, {{"axes", std::vector<int64_t>{1}}}), DType::F32,
                {0, 1}, {});
  EXPECT_EQ(inferred(OpKind::Unsqueeze, {{DType::F32, {N}}}, {{"axes", std::vector<int64_t>{0}}}), "f32[1, N]");
  EXPECT_THAT(error_of(run_op(OpKind::Unsqueeze, {x}, {{"axes", std::vector<int64_t>{2, -1}}})), HasSubstr("repeated"));
  EXPECT_THAT(error_of(run_op(OpKind::Unsqueeze, {x}, {{"axes", std::vector<int64_t>{3}}})),
              HasSubstr("out of range for rank 2"));
}

// ---- transpose -----------------------------------------------------------------------------------

TEST(InterpShapeTest, TransposeValues) {
  Tensor x = T(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  expect_tensor(run1(OpKind::Transpose, {x}, {{"perm", std::vector<int64_t>{1, 0}}}), DType::F32, {3, 2},
                {1, 4, 2, 5, 3, 6});
  // Empty perm reverses the axes; negative entries count from the end.
  expect_tensor(run1(OpKind::Transpose, {x}), DType::F32, {3, 2}, {1, 4, 2, 5, 3, 6});
  expect_tensor(run1(OpKind::Transpose, {x}, {{"perm", std::vector<int64_t>{-1, 0}}}), DType::F32, {3, 2},
                {1, 4, 2, 5, 3, 6});
  // in[i][0][k] = 3i + k; out[k][i][0] for perm [2, 0, 1].
  expect_tensor(run1(OpKind::Transpose, {iota(DType::F32, {2, 1, 3})}, {{"perm", std::vector<int64_t>{2, 0, 1}}}),
                DType::F32, {3, 2, 1}, {0, 3, 1, 4, 2, 5});
  expect_tensor(run1(OpKind::Transpose, {T(DType::F32, {}, {9})}), DType::F32, {}, {9});
  expect_tensor(run1(OpKind::Transpose, {T(DType::F32, {0, 2}, {})}), DType::F32, {2, 0}, {});
}

TEST(InterpShapeTest, TransposeSymbolicAndBadPerm) {
  EXPECT_EQ(inferred(OpKind::Transpose, {{DType::F32, {N, 3}}}, {{"perm", std::vector<int64_t>{1, 0}}}), "f32[3, N]");
  Tensor x = T(DType::F32, {2, 3}, {});
  EXPECT_THAT(error_of(run_op(OpKind::Transpose, {x}, {{"perm", std::vector<int64_t>{0, 0}}})),
              HasSubstr("transpose perm [0, 0] is not a permutation"));
  EXPECT_THAT(error_of(run_op(OpKind::Transpose, {x}, {{"perm", std::vector<int64_t>{0, 2}}})),
              HasSubstr("not a permutation"));
  EXPECT_THAT(error_of(run_op(OpKind::Transpose, {x}, {{"perm", std::vector<int64_t>{0}}})),
              HasSubstr("has 1 entries for a rank-2 operand"));
}

// ---- concat / split ------------------------------------------------------------------------------

TEST(InterpShapeTest, ConcatAlongAxes) {
  Tensor a = T(DType::F32, {2, 2}, {1, 2, 3, 4}), b = T(DType::F32, {1, 2}, {5, 6});
  expect_tensor(run1(OpKind::Concat, {a, b}, {{"axis", 0}}), DType::F32, {3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor c = T(DType::F32, {2, 1}, {7, 8});
  expect_tensor(run1(OpKind::Concat, {a, c, a}, {{"axis", -1}}), DType::F32, {2, 5}, {1, 2, 7, 1, 2, 3, 4, 8, 3, 4});
  // Zero-size pieces contribute nothing.
  expect_tensor(run1(OpKind::Concat, {T(DType::F32, {0, 2}, {}), b}, {{"axis", 0}}), DType::F32, {1, 2}, {5, 6});
  expect_tensor(run1(OpKind::Concat, {T(DType::F32, {2, 0}, {})}, {{"axis", 1}}), DType::F32, {2, 0}, {});
}

TEST(InterpShapeTest, ConcatSymbolicAndErrors) {
  TensorType a{DType::F32, {N, 2}}, b{DType::F32, {N, 3}};
  EXPECT_EQ(inferred(OpKind::Concat, {a, b}, {{"axis", 1}}), "f32[N, 5]");
  EXPECT_EQ(inferred(OpKind::Concat, {a, a}, {{"axis", 0}}), "f32[2*N, 2]");
  auto out = run_typed(OpKind::Concat, {a, b}, {iota(DType::F32, {1, 2}), iota(DType::F32, {1, 3})}, 2, {{"axis", 1}});
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::F32, {1, 5}, {0, 1, 0, 1, 2});
  EXPECT_THAT(error_of(run_op(OpKind::Concat, {T(DType::F32, {2}, {}), T(DType::I32, {2}, {})}, {{"axis", 0}})),
              HasSubstr("concat operands must share one dtype"));
  EXPECT_THAT(error_of(run_op(OpKind::Concat, {T(DType::F32, {2, 2}, {}), T(DType::F32, {2, 3}, {})}, {{"axis", 0}})),
              HasSubstr("does not match operand 0 (f32[2, 2]) outside axis 0"));
  EXPECT_THAT(error_of(run_op(OpKind::Concat, {T(DType::F32, {}, {})}, {{"axis", 0}})), HasSubstr("out of range"));
}

TEST(InterpShapeTest, SplitIntoPieces) {
  auto out = run_op(OpKind::Split, {T(DType::F32, {5}, {1, 2, 3, 4, 5})}, {{"sizes", Shape{2, 0, 3}}}, 3);
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::F32, {2}, {1, 2});
  expect_tensor(out->at(1), DType::F32, {0}, {});
  expect_tensor(out->at(2), DType::F32, {3}, {3, 4, 5});
  out = run_op(OpKind::Split, {iota(DType::I16, {2, 4})}, {{"axis", -1}, {"sizes", Shape{1, 3}}}, 2);
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::I16, {2, 1}, {0, 4});
  expect_tensor(out->at(1), DType::I16, {2, 3}, {1, 2, 3, 5, 6, 7});
}

TEST(InterpShapeTest, SplitSymbolicAndErrors) {
  auto types = infer(OpKind::Split, {{DType::F32, {N, 6}}}, {{"axis", 1}, {"sizes", Shape{2, 4}}}, 2);
  ASSERT_TRUE(types.ok()) << types.error().str();
  EXPECT_EQ(types->at(1).str(), "f32[N, 4]");
  types = infer(OpKind::Split, {{DType::F32, {N * 2}}}, {{"sizes", Shape{N, N}}}, 2);
  ASSERT_TRUE(types.ok()) << types.error().str();
  EXPECT_EQ(types->at(0).str(), "f32[N]");
  EXPECT_THAT(error_of(run_op(OpKind::Split, {T(DType::F32, {5}, {})}, {{"sizes", Shape{2, 2}}}, 2)),
              HasSubstr("split sizes [2, 2] sum to 4, but axis 0 of f32[5] has dim 5"));
  EXPECT_THAT(error_of(run_op(OpKind::Split, {T(DType::F32, {4}, {})}, {{"sizes", Shape{2, 2}}}, 3)),
              HasSubstr("split has 2 sizes [2, 2] but 3 results"));
}

// ---- slice ---------------------------------------------------------------------------------------

Tensor slice1d(std::vector<int64_t> starts, std::vector<int64_t> ends, std::vector<int64_t> steps = {},
               int64_t size = 10) {
  AttrMap attrs{{"starts", std::move(starts)}, {"ends", std::move(ends)}};
  if (!steps.empty()) attrs.emplace("steps", std::move(steps));
  return run1(OpKind::Slice, {iota(DType::F32, {size})}, std::move(attrs));
}

TEST(InterpShapeTest, SliceStepsAndClamping) {
  expect_tensor(slice1d({2}, {7}), DType::F32, {5}, {2, 3, 4, 5, 6});
  expect_tensor(slice1d({1}, {7}, {2}), DType::F32, {3}, {1, 3, 5});
  expect_tensor(slice1d({-3}, {kMax}), DType::F32, {3}, {7, 8, 9});
  expect_tensor(slice1d({-100}, {100}, {4}), DType::F32, {3}, {0, 4, 8});
  expect_tensor(slice1d({5}, {2}), DType::F32, {0}, {});
  expect_tensor(slice1d({20}, {kMax}), DType::F32, {0}, {});
  expect_tensor(slice1d({0}, {-1}), DType::F32, {9}, {0, 1, 2, 3, 4, 5, 6, 7, 8});
}

TEST(InterpShapeTest, SliceNegativeSteps) {
  expect_tensor(slice1d({-1}, {kMin}, {-1}, 4), DType::F32, {4}, {3, 2, 1, 0});
  expect_tensor(slice1d({8}, {1}, {-3}), DType::F32, {3}, {8, 5, 2});
  // Starts clamp to dim-1, ends to -1: the whole axis reversed by 4 from index 9.
  expect_tensor(slice1d({100}, {-100}, {-4}), DType::F32, {3}, {9, 5, 1});
  // end -1 means dim-1 (not "before index 0"), so nothing is left.
  expect_tensor(slice1d({9}, {-1}, {-1}), DType::F32, {0}, {});
  expect_tensor(slice1d({2}, {5}, {-1}), DType::F32, {0}, {});
  expect_tensor(slice1d({kMax}, {kMin}, {kMin}), DType::F32, {1}, {9});
}

TEST(InterpShapeTest, SliceAxesAndZeroSize) {
  Tensor x = iota(DType::F32, {3, 4});
  // Axis -1, columns 3 and 1.
  expect_tensor(run1(OpKind::Slice, {x},
                     {{"starts", std::vector<int64_t>{3}},
                      {"ends", std::vector<int64_t>{0}},
                      {"axes", std::vector<int64_t>{-1}},
                      {"steps", std::vector<int64_t>{-2}}}),
                DType::F32, {3, 2}, {3, 1, 7, 5, 11, 9});
  expect_tensor(run1(OpKind::Slice, {x},
                     {{"starts", std::vector<int64_t>{1, 1}},
                      {"ends", std::vector<int64_t>{3, 3}},
                      {"axes", std::vector<int64_t>{1, 0}}}),
                DType::F32, {2, 2}, {5, 6, 9, 10});
  expect_tensor(run1(OpKind::Slice, {T(DType::F32, {0, 3}, {})},
                     {{"starts", std::vector<int64_t>{-1}},
                      {"ends", std::vector<int64_t>{kMin}},
                      {"steps", std::vector<int64_t>{-1}}}),
                DType::F32, {0, 3}, {});
}

TEST(InterpShapeTest, SliceSymbolic) {
  TensorType x{DType::F32, {N, 10}};
  auto attrs = [](int64_t start, int64_t end, int64_t step) {
    return AttrMap{{"starts", std::vector<int64_t>{start}},
                   {"ends", std::vector<int64_t>{end}},
                   {"steps", std::vector<int64_t>{step}}};
  };
  EXPECT_EQ(inferred(OpKind::Slice, {x}, attrs(2, kMax, 1)), "f32[N-2, 10]");
  EXPECT_EQ(inferred(OpKind::Slice, {x}, attrs(-3, kMax, 1)), "f32[3, 10]");
  EXPECT_EQ(inferred(OpKind::Slice, {x}, attrs(0, -1, 1)), "f32[N-1, 10]");
  // ceil((N - 1) / 2) = (N - 1 + 1) floordiv 2.
  EXPECT_EQ(inferred(OpKind::Slice, {x}, attrs(1, kMax, 2)), "f32[N/2, 10]");
  EXPECT_EQ(inferred(OpKind::Slice, {x}, attrs(-1, kMin, -1)), "f32[N, 10]");
  auto out = run_typed(OpKind::Slice, {x}, {iota(DType::F32, {4, 10})}, 1, attrs(2, kMax, 1));
  ASSERT_TRUE(out.ok()) << out.error().str();
  EXPECT_EQ(out->at(0).shape(), (std::vector<int64_t>{2, 10}));
  EXPECT_EQ(out->at(0).get_double(0), 20.0);
  auto bad = infer(OpKind::Slice, {x}, attrs(-3, 5, 1));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("cannot be expressed as a dim"));
  // The declared N-2 assumes N >= 2; the interpreter reports the mismatch when it is not.
  EXPECT_THAT(error_of(run_typed(OpKind::Slice, {x}, {iota(DType::F32, {1, 10})}, 1, attrs(2, kMax, 1))),
              HasSubstr("negative dim"));
}

TEST(InterpShapeTest, SliceErrors) {
  Tensor x = iota(DType::F32, {4});
  EXPECT_THAT(error_of(run_op(OpKind::Slice, {x},
                              {{"starts", std::vector<int64_t>{0}},
                               {"ends", std::vector<int64_t>{2}},
                               {"steps", std::vector<int64_t>{0}}})),
              HasSubstr("slice step is 0 on axis 0"));
  EXPECT_THAT(
      error_of(run_op(OpKind::Slice, {x}, {{"starts", std::vector<int64_t>{0}}, {"ends", std::vector<int64_t>{2, 3}}})),
      HasSubstr("slice has 1 starts but 2 ends"));
  EXPECT_THAT(
      error_of(run_op(
          OpKind::Slice, {x},
          {{"starts", std::vector<int64_t>{0}}, {"ends", std::vector<int64_t>{2}}, {"axes", std::vector<int64_t>{1}}})),
      HasSubstr("out of range for rank 1"));
}

// ---- expand / tile -------------------------------------------------------------------------------

TEST(InterpShapeTest, ExpandBroadcastsBothWays) {
  expect_tensor(run1(OpKind::Expand, {T(DType::F32, {3, 1}, {1, 2, 3})}, {{"shape", Shape{2, 1, 2}}}), DType::F32,
                {2, 3, 2}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  // A 1 in the target keeps the operand's dim (ONNX Expand is bidirectional).
  expect_tensor(run1(OpKind::Expand, {T(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6})}, {{"shape", Shape{1}}}), DType::F32,
                {2, 3}, {1, 2, 3, 4, 5, 6});
  expect_tensor(run1(OpKind::Expand, {T(DType::I8, {}, {4})}, {{"shape", Shape{2, 2}}}), DType::I8, {2, 2},
                {4, 4, 4, 4});
  expect_tensor(run1(OpKind::Expand, {T(DType::F32, {1, 3}, {1, 2, 3})}, {{"shape", Shape{0, 1}}}), DType::F32, {0, 3},
                {});
  EXPECT_THAT(error_of(run_op(OpKind::Expand, {T(DType::F32, {2, 3}, {})}, {{"shape", Shape{3, 3}}})),
              HasSubstr("do not broadcast"));
}

TEST(InterpShapeTest, ExpandSymbolic) {
  TensorType x{DType::F32, {1, 4}}, n{DType::F32, {N}};
  EXPECT_EQ(inferred(OpKind::Expand, {x}, {{"shape", Shape{N, 4}}}), "f32[N, 4]");
  EXPECT_EQ(inferred(OpKind::Expand, {{DType::F32, {N, 4}}}, {{"shape", Shape{1, 4}}}), "f32[N, 4]");
  // A second input binds N; the op reads only the first.
  auto out =
      run_typed(OpKind::Expand, {x, n}, {iota(DType::F32, {1, 4}), iota(DType::F32, {2})}, 1, {{"shape", Shape{N, 4}}});
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::F32, {2, 4}, {0, 1, 2, 3, 0, 1, 2, 3});
  EXPECT_THAT(error_of(run_typed(OpKind::Expand, {x}, {iota(DType::F32, {1, 4})}, 1, {{"shape", Shape{N, 4}}})),
              HasSubstr("symbols that the input shapes do not bind"));
}

TEST(InterpShapeTest, TileRepeatsAxes) {
  expect_tensor(run1(OpKind::Tile, {T(DType::F32, {2}, {1, 2})}, {{"repeats", std::vector<int64_t>{3}}}), DType::F32,
                {6}, {1, 2, 1, 2, 1, 2});
  Tensor x = T(DType::F32, {2, 2}, {1, 2, 3, 4});
  expect_tensor(run1(OpKind::Tile, {x}, {{"repeats", std::vector<int64_t>{2, 1}}}), DType::F32, {4, 2},
                {1, 2, 3, 4, 1, 2, 3, 4});
  expect_tensor(run1(OpKind::Tile, {x}, {{"repeats", std::vector<int64_t>{1, 2}}}), DType::F32, {2, 4},
                {1, 2, 1, 2, 3, 4, 3, 4});
  expect_tensor(run1(OpKind::Tile, {x}, {{"repeats", std::vector<int64_t>{0, 2}}}), DType::F32, {0, 4}, {});
  expect_tensor(run1(OpKind::Tile, {T(DType::F32, {}, {3})}, {{"repeats", std::vector<int64_t>{}}}), DType::F32, {},
                {3});
  EXPECT_EQ(inferred(OpKind::Tile, {{DType::F32, {N, 2}}}, {{"repeats", std::vector<int64_t>{2, 1}}}), "f32[2*N, 2]");
  EXPECT_THAT(error_of(run_op(OpKind::Tile, {x}, {{"repeats", std::vector<int64_t>{2}}})),
              HasSubstr("tile needs one repeat per axis"));
  EXPECT_THAT(error_of(run_op(OpKind::Tile, {x}, {{"repeats", std::vector<int64_t>{1, -1}}})),
              HasSubstr("negative count"));
  EXPECT_THAT(error_of(run_op(OpKind::Tile, {x}, {{"repeats", std::vector<int64_t>{1, kMax}}})),
              HasSubstr("overflows int64"));
}

// ---- pad -----------------------------------------------------------------------------------------

// The ONNX Pad examples' input.
Tensor pad_input() { return T(DType::F32, {3, 2}, {1.0, 1.2, 2.3, 3.4, 4.5, 5.7}); }

Tensor pad(const Tensor& x, std::vector<int64_t> pads, std::string mode, double value = 0.0) {
  return run1(OpKind::Pad, {x}, {{"pads", std::move(pads)}, {"mode", std::move(mode)}, {"value", value}});
}

TEST(InterpShapeTest, PadConstant) {
  expect_tensor(pad(pad_input(), {0, 2, 0, 0}, "constant"), DType::F32, {3, 4},
                {0, 0, 1.0, 1.2, 0, 0, 2.3, 3.4, 0, 0, 4.5, 5.7});
  expect_tensor(pad(T(DType::I32, {2}, {1, 2}), {1, 1}, "constant", 9.5), DType::I32, {4}, {9, 1, 2, 9});
  // The value converts like a cast: saturating for u8, x != 0 for bool.
  expect_tensor(pad(T(DType::U8, {1}, {5}), {1, 0}, "constant", -3.0), DType::U8, {2}, {0, 5});
  expect_tensor(pad(T(DType::Bool, {1}, {0}), {0, 1}, "constant", 2.0), DType::Bool, {2}, {0, 1});
  expect_tensor(pad(T(DType::F32, {0, 2}, {}), {1, 0, 0, 0}, "constant", 7.0), DType::F32, {1, 2}, {7, 7});
  expect_tensor(pad(T(DType::F32, {}, {4}), {}, "constant"), DType::F32, {}, {4});
}

TEST(InterpShapeTest, PadReflectEdgeWrap) {
  expect_tensor(pad(pad_input(), {0, 2, 0, 0}, "reflect"), DType::F32, {3, 4},
                {1.0, 1.2, 1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7, 4.5, 5.7});
  expect_tensor(pad(pad_input(), {0, 2, 0, 0}, "edge"), DType::F32, {3, 4},
                {1.0, 1.0, 1.0, 1.2, 2.3, 2.3, 2.3, 3.4, 4.5, 4.5, 4.5, 5.7});
  expect_tensor(pad(pad_input(), {2, 1, 1, 1}, "wrap"), DType::F32, {6, 4},
                {3.4, 2.3, 3.4, 2.3, 5.7, 4.5, 5.7, 4.5, 1.2, 1.0, 1.2, 1.0,
                 3.4, 2.3, 3.4, 2.3, 5.7, 4.5, 5.7, 4.5, 1.2, 1.0, 1.2, 1.0});
  // Wider than the axis: numpy's reflect keeps bouncing (period 2 * (3 - 1)).
  expect_tensor(pad(T(DType::I64, {3}, {1, 2, 3}), {2, 2}, "reflect"), DType::I64, {7}, {3, 2, 1, 2, 3, 2, 1});
  expect_tensor(pad(T(DType::I64, {1}, {5}), {2, 1}, "reflect"), DType::I64, {4}, {5, 5, 5, 5});
}

TEST(InterpShapeTest, PadNegativeCrops) {
  Tensor x = T(DType::F32, {5}, {1, 2, 3, 4, 5});
  expect_tensor(pad(x, {-1, 2}, "constant"), DType::F32, {6}, {2, 3, 4, 5, 0, 0});
  // Cropping happens first: [2, 3, 4, 5] reflected at its end gives 4.
  expect_tensor(pad(x, {-1, 1}, "reflect"), DType::F32, {5}, {2, 3, 4, 5, 4});
  expect_tensor(pad(x, {-2, -3}, "edge"), DType::F32, {0}, {});
}

TEST(InterpShapeTest, PadSymbolicAndErrors) {
  EXPECT_EQ(inferred(OpKind::Pad, {{DType::F32, {N, 3}}}, {{"pads", std::vector<int64_t>{1, 0, 1, -1}}}),
            "f32[N+2, 2]");
  Tensor x = T(DType::F32, {2}, {1, 2});
  EXPECT_THAT(error_of(run_op(OpKind::Pad, {x}, {{"pads", std::vector<int64_t>{1}}})),
              HasSubstr("pad needs 2 pads (begins then ends) for a rank-1 operand, got [1]"));
  EXPECT_THAT(error_of(run_op(OpKind::Pad, {x}, {{"pads", std::vector<int64_t>{1, 1}}, {"mode", "mirror"}})),
              HasSubstr("pad mode 'mirror' is not one of"));
  EXPECT_THAT(error_of(run_op(OpKind::Pad, {x}, {{"pads", std::vector<int64_t>{-2, -1}}})),
              HasSubstr("pads -2 and -1 crop more than axis 0 has (2)"));
  EXPECT_THAT(
      error_of(run_op(OpKind::Pad, {T(DType::F32, {0}, {})}, {{"pads", std::vector<int64_t>{1, 0}}, {"mode", "edge"}})),
      HasSubstr("no elements are left to copy"));
  EXPECT_THAT(error_of(run_op(OpKind::Pad, {x}, {{"pads", std::vector<int64_t>{kMin, 0}}})), HasSubstr("out of range"));
}

// ---- gather --------------------------------------------------------------------------------------

TEST(InterpShapeTest, GatherRowsAndColumns) {
  Tensor data = T(DType::F32, {3, 2}, {1, 2, 3, 4, 5, 6});
  expect_tensor(run1(OpKind::Gather, {data, Tensor::of<int64_t>({2}, {2, 0})}), DType::F32, {2, 2}, {5, 6, 1, 2});
  // axis 1 with a [2, 2] index: result [3, 2, 2], out[i][j][k] = data[i][idx[j][k]].
  expect_tensor(run1(OpKind::Gather, {data, Tensor::of<int32_t>({2, 2}, {0, 1, 1, 0})}, {{"axis", -1}}), DType::F32,
                {3, 2, 2}, {1, 2, 2, 1, 3, 4, 4, 3, 5, 6, 6, 5});
  // Negative indices wrap; a scalar index drops the axis.
  expect_tensor(run1(OpKind::Gather, {data, Tensor::of<int64_t>({2}, {-1, -3})}), DType::F32, {2, 2}, {5, 6, 1, 2});
  expect_tensor(run1(OpKind::Gather, {data, Tensor::of<int64_t>({}, {1})}), DType::F32, {2}, {3, 4});
  expect_tensor(run1(OpKind::Gather, {data, Tensor::of<int64_t>({0}, {})}), DType::F32, {0, 2}, {});
  expect_tensor(run1(OpKind::Gather, {T(DType::F32, {0, 2}, {}), Tensor::of<int64_t>({1}, {0})}, {{"axis", 1}}),
                DType::F32, {0, 1}, {});
}

TEST(InterpShapeTest, GatherSymbolicAndErrors) {
  TensorType data{DType::F32, {N, 4}}, indices{DType::I64, {Dim::symbol("K")}};
  EXPECT_EQ(inferred(OpKind::Gather, {data, indices}), "f32[K, 4]");
  EXPECT_EQ(inferred(OpKind::Gather, {data, {DType::I32, {}}}, {{"axis", 1}}), "f32[N]");
  Tensor rows = T(DType::F32, {3, 2}, {});
  EXPECT_THAT(error_of(run_op(OpKind::Gather, {rows, Tensor::of<int64_t>({2}, {0, 3})})),
              HasSubstr("gather index 3 (element 1 of the indices) is out of range for axis 0 of f32[3, 2]"));
  EXPECT_THAT(error_of(run_op(OpKind::Gather, {rows, Tensor::of<int32_t>({1}, {-4})})), HasSubstr("gather index -4"));
  EXPECT_THAT(error_of(run_op(OpKind::Gather, {rows, T(DType::F32, {1}, {0})})),
              HasSubstr("gather indices must be i32 or i64, got f32[1]"));
  EXPECT_THAT(error_of(run_op(OpKind::Gather, {rows, Tensor::of<int64_t>({1}, {0})}, {{"axis", 2}})),
              HasSubstr("out of range for rank 2"));
}

// ---- gather_elements / scatter_elements ---------------------------------------------------------

TEST(InterpShapeTest, GatherElementsOnnxExamples) {
  expect_tensor(run1(OpKind::GatherElements,
                     {T(DType::F32, {2, 2}, {1, 2, 3, 4}), Tensor::of<int64_t>({2, 2}, {0, 0, 1, 0})}, {{"axis", 1}}),
                DType::F32, {2, 2}, {1, 1, 4, 3});
  Tensor data = T(DType::I32, {3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  expect_tensor(run1(OpKind::GatherElements, {data, Tensor::of<int32_t>({2, 3}, {1, 2, 0, 2, 0, 0})}), DType::I32,
                {2, 3}, {4, 8, 3, 7, 2, 3});
  // Negative indices, axis -2 (= 0): -1 is row 2, -3 row 0.
  expect_tensor(run1(OpKind::GatherElements, {data, Tensor::of<int64_t>({1, 3}, {-1, -3, 1})}, {{"axis", -2}}),
                DType::I32, {1, 3}, {7, 2, 6});
  expect_tensor(run1(OpKind::GatherElements, {data, Tensor::of<int64_t>({0, 3}, {})}), DType::I32, {0, 3}, {});
  EXPECT_EQ(inferred(OpKind::GatherElements, {{DType::F32, {N, 4}}, {DType::I64, {N, 2}}}, {{"axis", 1}}), "f32[N, 2]");
}

TEST(InterpShapeTest, GatherElementsErrors) {
  Tensor data = T(DType::F32, {2, 2}, {});
  EXPECT_THAT(error_of(run_op(OpKind::GatherElements, {data, Tensor::of<int64_t>({1, 2}, {0, 2})}, {{"axis", 1}})),
              HasSubstr("gather_elements index 2 (element 1 of the indices) is out of range for axis 1"));
  EXPECT_THAT(error_of(run_op(OpKind::GatherElements, {data, Tensor::of<int64_t>({2}, {0, 1})})),
              HasSubstr("needs data and indices of one rank"));
  EXPECT_THAT(error_of(run_op(OpKind::GatherElements, {data, Tensor::of<int64_t>({1, 3}, {0, 0, 0})})),
              HasSubstr("are larger than data f32[2, 2] on axis 1"));
}

Tensor scatter(const Tensor& data, const Tensor& indices, const Tensor& updates, int64_t axis,
               std::string reduction = "none") {
  return run1(OpKind::ScatterElements, {data, indices, updates}, {{"axis", axis}, {"reduction", std::move(reduction)}});
}

TEST(InterpShapeTest, ScatterElementsOnnxExamples) {
  Tensor data = T(DType::F32, {3, 3}, {0, 0, 0, 0, 0, 0, 0, 0, 0});
  expect_tensor(scatter(data, Tensor::of<int64_t>({2, 3}, {1, 0, 2, 0, 2, 1}),
                        T(DType::F32, {2, 3}, {1.0, 1.1, 1.2, 2.0, 2.1, 2.2}), 0),
                DType::F32, {3, 3}, {2.0, 1.1, 0.0, 1.0, 0.0, 2.2, 0.0, 2.1, 1.2});
  Tensor row = T(DType::F32, {1, 5}, {1, 2, 3, 4, 5});
  expect_tensor(scatter(row, Tensor::of<int64_t>({1, 2}, {1, 3}), T(DType::F32, {1, 2}, {1.1, 2.1}), 1), DType::F32,
                {1, 5}, {1.0, 1.1, 3.0, 2.1, 5.0});
  expect_tensor(scatter(row, Tensor::of<int32_t>({1, 2}, {1, -3}), T(DType::F32, {1, 2}, {1.1, 2.1}), -1), DType::F32,
                {1, 5}, {1.0, 1.1, 2.1, 4.0, 5.0});
  EXPECT_EQ(row.get_double(1), 2.0);  // the operand is untouched: scatter writes a copy
}

TEST(InterpShapeTest, ScatterElementsReductions) {
  Tensor row = T(DType::F32, {1, 5}, {1, 2, 3, 4, 5});
  Tensor twice = Tensor::of<int64_t>({1, 2}, {1, 1}), updates = T(DType::F32, {1, 2}, {1.1, 2.1});
  // Index 1 (value 2) receives 1.1 then 2.1.
  expect_tensor(scatter(row, twice, updates, 1, "add"), DType::F32, {1, 5}, {1, 5.2, 3, 4, 5}, 1e-6);
  expect_tensor(scatter(row, twice, updates, 1, "mul"), DType::F32, {1, 5}, {1, 4.62, 3, 4, 5}, 1e-6);
  expect_tensor(scatter(row, twice, updates, 1, "max"), DType::F32, {1, 5}, {1, 2.1, 3, 4, 5});
  expect_tensor(scatter(row, twice, updates, 1, "min"), DType::F32, {1, 5}, {1, 1.1, 3, 4, 5});
  expect_tensor(scatter(row, twice, updates, 1, "none"), DType::F32, {1, 5}, {1, 2.1, 3, 4, 5});
  expect_tensor(scatter(row, twice, T(DType::F32, {1, 2}, {NAN, 0}), 1, "max"), DType::F32, {1, 5}, {1, NAN, 3, 4, 5});
  // Integers wrap: 127 + 1 + 1 in i8 is -127.
  expect_tensor(
      scatter(T(DType::I8, {2}, {127, 0}), Tensor::of<int64_t>({2}, {0, 0}), T(DType::I8, {2}, {1, 1}), 0, "add"),
      DType::I8, {2}, {-127, 0});
  // u16 mul computes modulo 2^16: 300 * 300 = 90000 = 65536 + 24464.
  expect_tensor(scatter(T(DType::U16, {1}, {300}), Tensor::of<int64_t>({1}, {0}), T(DType::U16, {1}, {300}), 0, "mul"),
                DType::U16, {1}, {24464});
  // bool: add is or, mul is and.
  Tensor flags = T(DType::Bool, {2}, {1, 0}), pick = Tensor::of<int64_t>({2}, {0, 1});
  expect_tensor(scatter(flags, pick, T(DType::Bool, {2}, {1, 1}), 0, "add"), DType::Bool, {2}, {1, 1});
  expect_tensor(scatter(flags, pick, T(DType::Bool, {2}, {0, 1}), 0, "mul"), DType::Bool, {2}, {0, 0});
  // f16 adds in float and rounds: 1.5 + 0.25 = 1.75 exactly.
  expect_tensor(scatter(T(DType::F16, {1}, {1.5}), Tensor::of<int64_t>({1}, {0}), T(DType::F16, {1}, {0.25}), 0, "add"),
                DType::F16, {1}, {1.75});
}

TEST(InterpShapeTest, ScatterElementsErrors) {
  Tensor data = T(DType::F32, {1, 3}, {});
  auto run = [&](Tensor indices, Tensor updates, std::string reduction = "none") {
    return error_of(run_op(OpKind::ScatterElements, {data, std::move(indices), std::move(updates)},
                           {{"axis", 1}, {"reduction", std::move(reduction)}}));
  };
  EXPECT_THAT(run(Tensor::of<int64_t>({1, 1}, {3}), T(DType::F32, {1, 1}, {0})),
              HasSubstr("scatter_elements index 3 (element 0 of the indices) is out of range for axis 1"));
  EXPECT_THAT(run(Tensor::of<int64_t>({1, 1}, {0}), T(DType::F32, {1, 1}, {0}), "sum"),
              HasSubstr("reduction 'sum' is not one of none, add, mul, max, min"));
  EXPECT_THAT(run(Tensor::of<int64_t>({1, 1}, {0}), T(DType::F32, {1, 2}, {0, 0})),
              HasSubstr("updates must have the data's dtype and the indices' shape"));
  EXPECT_THAT(run(Tensor::of<int64_t>({1, 1}, {0}), T(DType::I32, {1, 1}, {0})),
              HasSubstr("updates must have the data's dtype"));
}

// ---- range / shape_of ----------------------------------------------------------------------------

Expected<std::vector<Tensor>> range(DType dtype, double start, double limit, double delta, Dim size) {
  return run_op(OpKind::Range, {T(dtype, {}, {start}), T(dtype, {}, {limit}), T(dtype, {}, {delta})},
                {{"size", Shape{size}}});
}

TEST(InterpShapeTest, RangeValues) {
  // ceil((10 - 0) / 3) = 4 elements.
  auto out = range(DType::I64, 0, 10, 3, 4);
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::I64, {4}, {0, 3, 6, 9});
  out = range(DType::F32, 1, 2, 0.25, 4);
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::F32, {4}, {1, 1.25, 1.5, 1.75});
  out = range(DType::I32, 10, 4, -2, 3);
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::I32, {3}, {10, 8, 6});
  out = range(DType::F64, 5, 1, 1, 0);
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::F64, {0}, {});
  // A symbolic size takes the computed length: ceil((3 - 0.5) / 1) = 3.
  out = range(DType::F16, 0.5, 3, 1, Dim::symbol("L"));
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::F16, {3}, {0.5, 1.5, 2.5});
  out = range(DType::U8, 250, 255, 2, 3);
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::U8, {3}, {250, 252, 254});
  EXPECT_EQ(inferred(OpKind::Range, {{DType::I64, {}}, {DType::I64, {}}, {DType::I64, {}}}, {{"size", Shape{N}}}),
            "i64[N]");
}

TEST(InterpShapeTest, RangeErrors) {
  EXPECT_THAT(error_of(range(DType::I64, 0, 10, 0, 1)), HasSubstr("range delta is 0"));
  EXPECT_THAT(error_of(range(DType::I64, 0, 10, 3, 5)),
              HasSubstr("range from 0 to 10 by 3 has 4 elements, but its result type says 5"));
  EXPECT_THAT(error_of(range(DType::Bool, 0, 1, 1, 1)), HasSubstr("range needs a numeric dtype"));
  EXPECT_THAT(error_of(range(DType::F32, 0, INFINITY, 1, 1)), HasSubstr("needs finite start, limit and delta"));
  EXPECT_THAT(error_of(run_op(OpKind::Range, {T(DType::I64, {1}, {0}), T(DType::I64, {}, {}), T(DType::I64, {}, {})},
                              {{"size", Shape{1}}})),
              HasSubstr("range takes scalar start, limit and delta; operand 0 is i64[1]"));
  EXPECT_THAT(error_of(run_op(OpKind::Range, {T(DType::I64, {}, {}), T(DType::I32, {}, {}), T(DType::I64, {}, {})},
                              {{"size", Shape{1}}})),
              HasSubstr("range operands must share one dtype"));
  EXPECT_THAT(error_of(run_op(OpKind::Range, {T(DType::I64, {}, {}), T(DType::I64, {}, {}), T(DType::I64, {}, {})},
                              {{"size", Shape{1, 1}}})),
              HasSubstr("range needs exactly one dim in 'size'"));
}

TEST(InterpShapeTest, ShapeOfWithBounds) {
  Tensor x = T(DType::F32, {2, 3, 4}, {});
  expect_tensor(run1(OpKind::ShapeOf, {x}), DType::I64, {3}, {2, 3, 4});
  expect_tensor(run1(OpKind::ShapeOf, {x}, {{"start", 1}}), DType::I64, {2}, {3, 4});
  expect_tensor(run1(OpKind::ShapeOf, {x}, {{"end", -1}}), DType::I64, {2}, {2, 3});
  expect_tensor(run1(OpKind::ShapeOf, {x}, {{"start", -10}, {"end", 100}}), DType::I64, {3}, {2, 3, 4});
  expect_tensor(run1(OpKind::ShapeOf, {x}, {{"start", 2}, {"end", 1}}), DType::I64, {0}, {});
  expect_tensor(run1(OpKind::ShapeOf, {T(DType::Bool, {}, {})}), DType::I64, {0}, {});
  expect_tensor(run1(OpKind::ShapeOf, {T(DType::F32, {0, 5}, {})}), DType::I64, {2}, {0, 5});
  TensorType symbolic{DType::F32, {N, 3}};
  EXPECT_EQ(inferred(OpKind::ShapeOf, {symbolic}), "i64[2]");
  auto out = run_typed(OpKind::ShapeOf, {symbolic}, {T(DType::F32, {7, 3}, {})}, 1);
  ASSERT_TRUE(out.ok()) << out.error().str();
  expect_tensor(out->at(0), DType::I64, {2}, {7, 3});
}

// ---- every dtype ---------------------------------------------------------------------------------

// Values 0 and 1 only, so that every dtype (bool included) represents them exactly.
TEST(InterpShapeTest, EveryDTypeMovesExactly) {
  for (DType dtype : kComputeDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor x = T(dtype, {2, 3}, {1, 0, 0, 1, 1, 0});
    expect_tensor(run1(OpKind::Transpose, {x}), dtype, {3, 2}, {1, 1, 0, 1, 0, 0});
    expect_tensor(run1(OpKind::Reshape, {x}, {{"shape", Shape{6}}}), dtype, {6}, {1, 0, 0, 1, 1, 0});
    expect_tensor(run1(OpKind::Concat, {x, x}, {{"axis", 1}}), dtype, {2, 6}, {1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0});
    expect_tensor(run1(OpKind::Slice, {x},
                       {{"starts", std::vector<int64_t>{-1}},
                        {"ends", std::vector<int64_t>{kMin}},
                        {"axes", std::vector<int64_t>{1}},
                        {"steps", std::vector<int64_t>{-2}}}),
                  dtype, {2, 2}, {0, 1, 0, 1});
    expect_tensor(run1(OpKind::Gather, {x, Tensor::of<int64_t>({1}, {1})}), dtype, {1, 3}, {1, 1, 0});
    expect_tensor(run1(OpKind::GatherElements, {x, Tensor::of<int64_t>({2, 1}, {0, 2})}, {{"axis", 1}}), dtype, {2, 1},
                  {1, 0});
    expect_tensor(scatter(x, Tensor::of<int64_t>({1, 1}, {1}), T(dtype, {1, 1}, {1}), 1), dtype, {2, 3},
                  {1, 1, 0, 1, 1, 0});
    expect_tensor(run1(OpKind::Expand, {T(dtype, {2, 1}, {1, 0})}, {{"shape", Shape{2, 2}}}), dtype, {2, 2},
                  {1, 1, 0, 0});
    expect_tensor(pad(T(dtype, {2}, {0, 1}), {1, 1}, "constant", 1.0), dtype, {4}, {1, 0, 1, 1});
    expect_tensor(pad(T(dtype, {2}, {0, 1}), {1, 1}, "reflect"), dtype, {4}, {1, 0, 1, 0});
    expect_tensor(run1(OpKind::Tile, {T(dtype, {2}, {1, 0})}, {{"repeats", std::vector<int64_t>{2}}}), dtype, {4},
                  {1, 0, 1, 0});
    expect_tensor(run1(OpKind::Squeeze, {T(dtype, {1, 2}, {0, 1})}, {{"axes", std::vector<int64_t>{0}}}), dtype, {2},
                  {0, 1});
    expect_tensor(run1(OpKind::Unsqueeze, {T(dtype, {2}, {0, 1})}, {{"axes", std::vector<int64_t>{1}}}), dtype, {2, 1},
                  {0, 1});
    auto pieces = run_op(OpKind::Split, {x}, {{"axis", 1}, {"sizes", Shape{1, 2}}}, 2);
    ASSERT_TRUE(pieces.ok()) << pieces.error().str();
    expect_tensor(pieces->at(1), dtype, {2, 2}, {0, 0, 1, 0});
    expect_tensor(run1(OpKind::ShapeOf, {x}), DType::I64, {2}, {2, 3});
    if (dtype == DType::Bool) continue;  // range needs numbers
    auto numbers = range(dtype, 0, 2, 1, 2);
    ASSERT_TRUE(numbers.ok()) << numbers.error().str();
    expect_tensor(numbers->at(0), dtype, {2}, {0, 1});
  }
}

// 16-bit floats keep their exact bits (no round trip through float).
TEST(InterpShapeTest, HalfBitsArePreserved) {
  Tensor x(DType::BF16, {3});
  x.data<uint16_t>()[0] = 0x7fc1;  // a NaN with a payload
  x.data<uint16_t>()[1] = 0x8000;  // -0
  x.data<uint16_t>()[2] = 0x3f80;  // 1
  Tensor out = run1(OpKind::Slice, {x},
                    {{"starts", std::vector<int64_t>{kMax}},
                     {"ends", std::vector<int64_t>{kMin}},
                     {"steps", std::vector<int64_t>{-1}}});
  ASSERT_EQ(out.numel(), 3);
  EXPECT_EQ(out.data<uint16_t>()[0], 0x3f80);
  EXPECT_EQ(out.data<uint16_t>()[1], 0x8000);
  EXPECT_EQ(out.data<uint16_t>()[2], 0x7fc1);
}

}  // namespace
}  // namespace tessel
