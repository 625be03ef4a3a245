// Interpreter and shape-rule tests for the conv family (conv, conv_transpose) and the pool family
// (max_pool, avg_pool): 1-D to 3-D windows with strides, pads, dilations, groups and ceil_mode, every
// accepted dtype group, zero-size batches, symbolic shape rules and error messages. Expected values are
// computed by hand; the arithmetic is in a comment where it is not obvious.
#include <cmath>
#include <limits>

#include <gmock/gmock.h>

#include "tests/unit/InterpTestUtil.h"

namespace tessel {
namespace {

using testing::infer;
using testing::infer_type;
using testing::run_error;
using testing::run_typed;

using testing::expect_tensor;
using ::testing::HasSubstr;
using testing::Operand;
using testing::run1;
using testing::run_op;
using testing::T;

using Ints = std::vector<int64_t>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr DType kFloatDTypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16};
constexpr DType kIntDTypes[] = {DType::I8, DType::I16, DType::I32, DType::I64,
                                DType::U8, DType::U16, DType::U32, DType::U64};

const Dim N = Dim::symbol("N");
const Dim H = Dim::symbol("H");
const Dim W = Dim::symbol("W");

/// 1-D pooling of one channel: x[1, 1, n].
Tensor pool1d(OpKind kind, std::vector<double> values, AttrMap attrs, DType dtype = DType::F32) {
  int64_t n = static_cast<int64_t>(values.size());
  return run1(kind, {T(dtype, {1, 1, n}, values)}, std::move(attrs));
}

// ---- conv ---------------------------------------------------------------------------------------------

TEST(InterpConv, TwoDimensionalValid) {
  // x = [1 2 3; 4 5 6; 7 8 9], w = [1 2; 3 4]: y[0,0] = 1+4+12+20 = 37, y[0,1] = 2+6+15+24 = 47,
  // y[1,0] = 4+10+21+32 = 67, y[1,1] = 5+12+24+36 = 77.
  Tensor y = run1(OpKind::Conv, {T(DType::F32, {1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}),
                                 T(DType::F32, {1, 1, 2, 2}, {1, 2, 3, 4})});
  expect_tensor(y, DType::F32, {1, 1, 2, 2}, {37, 47, 67, 77});
}

TEST(InterpConv, PadsBiasAndStrides) {
  Tensor x = T(DType::F32, {1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor ones = T(DType::F32, {1, 1, 3, 3}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  // A 3x3 box sum with pads 1: corners 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28; edges
  // 1+..+6 = 21, 1+2+4+5+7+8 = 27, 2+3+5+6+8+9 = 33, 4+..+9 = 39; centre 45. Bias 1 is added to all.
  expect_tensor(run1(OpKind::Conv, {x, ones, T(DType::F32, {1}, {1})}, {{"pads", Ints{1, 1, 1, 1}}}), DType::F32,
                {1, 1, 3, 3}, {13, 22, 17, 28, 46, 34, 25, 40, 29});
  // Stride 2 keeps the corners: (3 + 2 - 3) / 2 + 1 = 2 positions per axis.
  expect_tensor(run1(OpKind::Conv, {x, ones}, {{"pads", Ints{1, 1, 1, 1}}, {"strides", Ints{2, 2}}}), DType::F32,
                {1, 1, 2, 2}, {12, 16, 24, 28});
}

TEST(InterpConv, Dilations) {
  // x[i, j] = 5i + j on 5x5; a 2x2 all-ones kernel with dilation 2 spans 3: y[i, j] = x[i,j] + x[i,j+2] +
  // x[i+2,j] + x[i+2,j+2] = 4*(5i + j) + 2 + 10 + 12.
  std::vector<double> values;
  for (int i = 0; i < 25; ++i) values.push_back(i);
  Tensor y = run1(OpKind::Conv, {T(DType::F32, {1, 1, 5, 5}, values), T(DType::F32, {1, 1, 2, 2}, {1, 1, 1, 1})},
                  {{"dilations", Ints{2, 2}}});
  expect_tensor(y, DType::F32, {1, 1, 3, 3}, {24, 28, 32, 44, 48, 52, 64, 68, 72});
}

TEST(InterpConv, OneDimensionalAsymmetricPadsAndChannels) {
  // Pads [1, 0]: [0 1 2 3 4] convolved with [1 1] gives [1 3 5 7].
  expect_tensor(run1(OpKind::Conv, {T(DType::F32, {1, 1, 4}, {1, 2, 3, 4}), T(DType::F32, {1, 1, 2}, {1, 1})},
                     {{"pads", Ints{1, 0}}}),
                DType::F32, {1, 1, 4}, {1, 3, 5, 7});
  // Two input channels x0 = [1..5], x1 = [10..50], stride 2, (5 - 3) / 2 + 1 = 2 outputs.
  // Output 0, w = [[1 0 -1], [0 1 0]]: x0[2o] - x0[2o+2] + x1[2o+1] = 1-3+20 = 18, 3-5+40 = 38.
  // Output 1, w = [[1 1 1], [0 0 0]]: 1+2+3 = 6, 3+4+5 = 12.
  Tensor x = T(DType::F32, {1, 2, 5}, {1, 2, 3, 4, 5, 10, 20, 30, 40, 50});
  Tensor w = T(DType::F32, {2, 2, 3}, {1, 0, -1, 0, 1, 0, 1, 1, 1, 0, 0, 0});
  expect_tensor(run1(OpKind::Conv, {x, w}, {{"strides", Ints{2}}}), DType::F32, {1, 2, 2}, {18, 38, 6, 12});
}

TEST(InterpConv, GroupsAndDepthwise) {
  // group 2 over 4 channels: out0 = 1*c0 + 2*c1, out1 = 3*c2 - 1*c3 (1x1 kernels).
  // c0 = [1 2 3], c1 = [4 5 6], c2 = [7 8 9], c3 = [10 11 12]: out0 = [9 12 15], out1 = [11 13 15].
  Tensor x = T(DType::F32, {1, 4, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  expect_tensor(run1(OpKind::Conv, {x, T(DType::F32, {2, 2, 1}, {1, 2, 3, -1})}, {{"group", 2}}), DType::F32, {1, 2, 3},
                {9, 12, 15, 11, 13, 15});
  // Depthwise (group = C = 2) 2x2: channel 0 [1 2; 3 4] * ones = 10, channel 1 [5 6; 7 8] * [1 0; 0 1] = 13.
  Tensor x2 = T(DType::F32, {1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor w2 = T(DType::F32, {2, 1, 2, 2}, {1, 1, 1, 1, 1, 0, 0, 1});
  expect_tensor(run1(OpKind::Conv, {x2, w2}, {{"group", 2}}), DType::F32, {1, 2, 1, 1}, {10, 13});
  // Depthwise with multiplier 2 (M = 4, group 2): outputs 0, 1 read channel 0; outputs 2, 3 read channel 1.
  // Weights 1, -1 (1x1) on channel 0 and 2, 0 on channel 1: [1 2 3 4], [-1 -2 -3 -4], [10 12 14 16], [0 0 0 0].
  expect_tensor(run1(OpKind::Conv, {x2, T(DType::F32, {4, 1, 1, 1}, {1, -1, 2, 0})}, {{"group", 2}}), DType::F32,
                {1, 4, 2, 2}, {1, 2, 3, 4, -1, -2, -3, -4, 10, 12, 14, 16, 0, 0, 0, 0});
}

TEST(InterpConv, ThreeDimensional) {
  // x = 1..8 on 2x2x2, all-ones 2x2x2 kernel, end pads 1: y[d,h,w] sums the sub-cube from (d,h,w):
  // whole cube 36; w=1 face 2+4+6+8 = 20; h=1 face 3+4+7+8 = 22; edge (h=1,w=1) 4+8 = 12; d=1 face 26;
  // edge (d=1,w=1) 6+8 = 14; edge (d=1,h=1) 7+8 = 15; corner 8.
  Tensor x = T(DType::F32, {1, 1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor w = T(DType::F32, {1, 1, 2, 2, 2}, {1, 1, 1, 1, 1, 1, 1, 1});
  expect_tensor(run1(OpKind::Conv, {x, w}, {{"pads", Ints{0, 0, 0, 1, 1, 1}}}), DType::F32, {1, 1, 2, 2, 2},
                {36, 20, 22, 12, 26, 14, 15, 8});
  // x[d,h,w] = 9d + 3h + w on 3x3x3; kernel [1, 2] along depth with dilation 2, strides 2 on h and w:
  // y[h,w] = x[0,2h,2w] + 2*x[2,2h,2w] = 3*(6h + 2w) + 36 -> 36, 42, 54, 60.
  std::vector<double> cube;
  for (int i = 0; i < 27; ++i) cube.push_back(i);
  expect_tensor(run1(OpKind::Conv, {T(DType::F32, {1, 1, 3, 3, 3}, cube), T(DType::F32, {1, 1, 2, 1, 1}, {1, 2})},
                     {{"dilations", Ints{2, 1, 1}}, {"strides", Ints{1, 2, 2}}}),
                DType::F32, {1, 1, 1, 2, 2}, {36, 42, 54, 60});
}

TEST(InterpConv, EveryFloatDTypeAndBatch) {
  for (DType dtype : kFloatDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    // Two images, a 1x1 kernel of 2 and bias -0.5: y = 2x - 0.5.
    Tensor y =
        run1(OpKind::Conv, {T(dtype, {2, 1, 1, 2}, {1, 2, 3, -4}), T(dtype, {1, 1, 1, 1}, {2}), T(dtype, {1}, {-0.5})});
    expect_tensor(y, dtype, {2, 1, 1, 2}, {1.5, 3.5, 5.5, -8.5});
  }
}

TEST(InterpConv, ZeroBatch) {
  expect_tensor(run1(OpKind::Conv, {T(DType::F32, {0, 3, 4, 4}, {}), T(DType::F32, {2, 3, 3, 3}, {})},
                     {{"pads", Ints{1, 1, 1, 1}}}),
                DType::F32, {0, 2, 4, 4}, {});
}

TEST(InterpConv, SymbolicShapeRule) {
  TensorType w{DType::F32, {8, 3, 3, 3}};
  AttrMap down{{"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}};
  EXPECT_EQ(infer_type(OpKind::Conv, {{DType::F32, {N, 3, 32, 32}}, w}, down), "f32[N, 8, 16, 16]");
  // (H + 1 + 1 - 3) floordiv 2 + 1 prints as (H+1)/2.
  EXPECT_EQ(infer_type(OpKind::Conv, {{DType::F32, {N, 3, H, W}}, w}, down), "f32[N, 8, (H+1)/2, (W+1)/2]");
  EXPECT_EQ(infer_type(OpKind::Conv, {{DType::F32, {N, 3, H, W}}, w}), "f32[N, 8, H-2, W-2]");
  EXPECT_EQ(infer_type(OpKind::Conv, {{DType::F32, {N, 3, H, 9}}, w}, {{"dilations", Ints{2, 2}}}),
            "f32[N, 8, H-4, 5]");
  // Symbolic H bound to 7 at run time: (7 + 1) / 2 = 4 rows; a 1x1 kernel of 1 with stride 2 picks rows 0, 2, 4, 6.
  std::vector<double> rows{0, 1, 2, 3, 4, 5, 6};
  auto y = run_typed(OpKind::Conv, {{DType::F32, {1, 1, H, 1}}, {DType::F32, {1, 1, 1, 1}}},
                     {T(DType::F32, {1, 1, 7, 1}, rows), T(DType::F32, {1, 1, 1, 1}, {1})}, {{"strides", Ints{2, 1}}});
  ASSERT_TRUE(y.ok()) << y.error().str();
  expect_tensor(y->at(0), DType::F32, {1, 1, 4, 1}, {0, 2, 4, 6});
}

TEST(InterpConv, Errors) {
  Tensor x = T(DType::F32, {1, 3, 5, 5}, {});
  EXPECT_THAT(run_error(OpKind::Conv, {x, T(DType::F32, {2, 4, 3, 3}, {})}),
              HasSubstr("conv input f32[1, 3, 5, 5] has 3 channels but weight f32[2, 4, 3, 3] with group 1 expects 4"));
  EXPECT_THAT(
      run_error(OpKind::Conv, {T(DType::F32, {1, 4, 5, 5}, {}), T(DType::F32, {3, 2, 3, 3}, {})}, {{"group", 2}}),
      HasSubstr("has 3 output channels, which group 2 does not divide"));
  Tensor w = T(DType::F32, {2, 3, 3, 3}, {});
  EXPECT_THAT(run_error(OpKind::Conv, {x, w}, {{"strides", Ints{1}}}),
              HasSubstr("conv strides has 1 entries [1] but the input has 2 spatial axes"));
  EXPECT_THAT(run_error(OpKind::Conv, {x, w}, {{"pads", Ints{1, 1}}}),
              HasSubstr("conv pads has 2 entries [1, 1] but needs 4"));
  EXPECT_THAT(run_error(OpKind::Conv, {x, w}, {{"pads", Ints{1, -1, 1, 1}}}), HasSubstr("must all be >= 0"));
  EXPECT_THAT(run_error(OpKind::Conv, {x, w}, {{"dilations", Ints{1, 0}}}),
              HasSubstr("conv dilations [1, 0] must all be >= 1"));
  EXPECT_THAT(run_error(OpKind::Conv, {x, w}, {{"group", 0}}), HasSubstr("group must be >= 1, got 0"));
  EXPECT_THAT(run_error(OpKind::Conv, {T(DType::F32, {1, 3, 2, 2}, {}), w}),
              HasSubstr("conv output spatial axis 0 would have size 0"));
  EXPECT_THAT(run_error(OpKind::Conv, {x, T(DType::F64, {2, 3, 3, 3}, {})}),
              HasSubstr("weight f64[2, 3, 3, 3] must have the dtype of the input f32[1, 3, 5, 5]"));
  EXPECT_THAT(run_error(OpKind::Conv, {T(DType::I32, {1, 3, 5, 5}, {}), T(DType::I32, {2, 3, 3, 3}, {})}),
              HasSubstr("conv expects a float input, got i32[1, 3, 5, 5]"));
  EXPECT_THAT(run_error(OpKind::Conv, {x, w, T(DType::F32, {3}, {})}), HasSubstr("bias f32[3] must have 2 entries"));
  EXPECT_THAT(run_error(OpKind::Conv, {T(DType::F32, {1, 3}, {}), T(DType::F32, {2, 3}, {})}),
              HasSubstr("at least one spatial axis"));
  EXPECT_THAT(run_error(OpKind::Conv, {x, T(DType::F32, {2, 3, 3}, {})}), HasSubstr("must have rank 4"));
}

// ---- conv_transpose ------------------------------------------------------------------------------------

TEST(InterpConvTranspose, OneDimensionalStridesPadsOutputPadding) {
  Tensor x = T(DType::F32, {1, 1, 3}, {1, 2, 3});
  Tensor w = T(DType::F32, {1, 1, 3}, {1, 1, 1});
  // Stride 1: the full convolution [1, 1+2, 1+2+3, 2+3, 3].
  expect_tensor(run1(OpKind::ConvTranspose, {x, w}), DType::F32, {1, 1, 5}, {1, 3, 6, 5, 3});
  // Stride 2: 2*(3-1) + 3 = 7 outputs; x0 lands on 0..2, x1 on 2..4, x2 on 4..6.
  expect_tensor(run1(OpKind::ConvTranspose, {x, w}, {{"strides", Ints{2}}}), DType::F32, {1, 1, 7},
                {1, 1, 3, 2, 5, 3, 3});
  // output_padding 1 adds a position that only the bias reaches; bias 10.
  expect_tensor(run1(OpKind::ConvTranspose, {x, w, T(DType::F32, {1}, {10})},
                     {{"strides", Ints{2}}, {"output_padding", Ints{1}}}),
                DType::F32, {1, 1, 8}, {11, 11, 13, 12, 15, 13, 13, 10});
  // Pads [1, 1] crop one position at each end: 7 - 2 = 5.
  expect_tensor(run1(OpKind::ConvTranspose, {x, w}, {{"strides", Ints{2}}, {"pads", Ints{1, 1}}}), DType::F32,
                {1, 1, 5}, {1, 3, 2, 5, 3});
  // Dilation 2 on a 2-tap kernel spans 3: (2-1) + 3 = 4 outputs; x0 lands on 0 and 2, x1 on 1 and 3.
  expect_tensor(run1(OpKind::ConvTranspose, {T(DType::F32, {1, 1, 2}, {1, 2}), T(DType::F32, {1, 1, 2}, {1, 1})},
                     {{"dilations", Ints{2}}}),
                DType::F32, {1, 1, 4}, {1, 2, 1, 2});
}

TEST(InterpConvTranspose, TwoDimensionalTwoOutputChannels) {
  // w[C=1, M=2, 2, 2]: channel 0 all ones, channel 1 [1 0; 0 0]; stride 2 tiles 2x2 blocks: (2-1)*2 + 2 = 4.
  Tensor x = T(DType::F32, {1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor w = T(DType::F32, {1, 2, 2, 2}, {1, 1, 1, 1, 1, 0, 0, 0});
  expect_tensor(run1(OpKind::ConvTranspose, {x, w}, {{"strides", Ints{2, 2}}}), DType::F32, {1, 2, 4, 4},
                {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4,    //
                 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0});  //
}

TEST(InterpConvTranspose, GroupsAndThreeDimensional) {
  // group 2, w[C=2, M/group=1, 1]: out0 = 2*x0 = [2 4], out1 = -1*x1 = [-3 -4].
  expect_tensor(run1(OpKind::ConvTranspose, {T(DType::F32, {1, 2, 2}, {1, 2, 3, 4}), T(DType::F32, {2, 1, 1}, {2, -1})},
                     {{"group", 2}}),
                DType::F32, {1, 2, 2}, {2, 4, -3, -4});
  // x[1,1,2,1,1] = [1, 2] along depth, all-ones 2x2x2 kernel: depth 3 (1, 1+2, 2), each a 2x2 layer.
  expect_tensor(run1(OpKind::ConvTranspose, {T(DType::F32, {1, 1, 2, 1, 1}, {1, 2}),
                                             T(DType::F32, {1, 1, 2, 2, 2}, {1, 1, 1, 1, 1, 1, 1, 1})}),
                DType::F32, {1, 1, 3, 2, 2}, {1, 1, 1, 1, 3, 3, 3, 3, 2, 2, 2, 2});
}

TEST(InterpConvTranspose, EveryFloatDTypeAndZeroBatch) {
  for (DType dtype : kFloatDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    // [1 -2] scattered with [0.5 1]: [0.5, 1 - 1, -2] = [0.5, 0, -2].
    expect_tensor(run1(OpKind::ConvTranspose, {T(dtype, {1, 1, 2}, {1, -2}), T(dtype, {1, 1, 2}, {0.5, 1})}), dtype,
                  {1, 1, 3}, {0.5, 0, -2});
  }
  expect_tensor(run1(OpKind::ConvTranspose, {T(DType::F32, {0, 2, 3}, {}), T(DType::F32, {2, 3, 2}, {})}), DType::F32,
                {0, 3, 4}, {});
}

TEST(InterpConvTranspose, SymbolicShapeRuleAndErrors) {
  // (H - 1) * 2 + 1 + 3 - 1 - 1 = 2H.
  EXPECT_EQ(infer_type(OpKind::ConvTranspose, {{DType::F32, {N, 4, H, W}}, {DType::F32, {4, 2, 3, 3}}},
                       {{"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}, {"output_padding", Ints{1, 1}}}),
            "f32[N, 2, 2*H, 2*W]");
  EXPECT_EQ(infer_type(OpKind::ConvTranspose, {{DType::F32, {N, 4, H}}, {DType::F32, {4, 3, 3}}}, {{"group", 2}}),
            "f32[N, 6, H+2]");
  Tensor x = T(DType::F32, {1, 3, 4}, {});
  EXPECT_THAT(run_error(OpKind::ConvTranspose, {x, T(DType::F32, {2, 1, 3}, {})}),
              HasSubstr("conv_transpose input f32[1, 3, 4] has 3 channels but weight f32[2, 1, 3] expects 2"));
  EXPECT_THAT(run_error(OpKind::ConvTranspose, {x, T(DType::F32, {3, 1, 3}, {})}, {{"group", 2}}),
              HasSubstr("has 3 channels, which group 2 does not divide"));
  EXPECT_THAT(run_error(OpKind::ConvTranspose, {x, T(DType::F32, {3, 1, 3}, {})}, {{"output_padding", Ints{1, 1}}}),
              HasSubstr("conv_transpose output_padding has 2 entries [1, 1] but the input has 1 spatial axes"));
  EXPECT_THAT(run_error(OpKind::ConvTranspose, {x, T(DType::F32, {3, 1, 3}, {})}, {{"pads", Ints{4, 4}}}),
              HasSubstr("conv_transpose output spatial axis 0 would have size -2"));
}

// ---- max_pool -----------------------------------------------------------------------------------------

TEST(InterpMaxPool, TwoDimensionalWithIndices) {
  // x = [1 5 2; 8 3 9; 4 7 6], 2x2 windows: 8 at (1,0), 9 at (1,2), 8 at (1,0), 9 at (1,2).
  Tensor x = T(DType::F32, {1, 1, 3, 3}, {1, 5, 2, 8, 3, 9, 4, 7, 6});
  auto results = run_op(OpKind::MaxPool, {x}, {{"kernel", Ints{2, 2}}}, 2);
  ASSERT_TRUE(results.ok()) << results.error().str();
  expect_tensor(results->at(0), DType::F32, {1, 1, 2, 2}, {8, 9, 8, 9});
  expect_tensor(results->at(1), DType::I64, {1, 1, 2, 2}, {3, 5, 3, 5});  // row-major h*3 + w
  // storage_order 1: column-major h + w*3: (1,0) -> 1, (1,2) -> 7.
  auto columns = run_op(OpKind::MaxPool, {x}, {{"kernel", Ints{2, 2}}, {"storage_order", 1}}, 2);
  ASSERT_TRUE(columns.ok()) << columns.error().str();
  expect_tensor(columns->at(1), DType::I64, {1, 1, 2, 2}, {1, 7, 1, 7});
}

TEST(InterpMaxPool, PaddingIsNeverSelected) {
  // All negative; 2x2 windows at stride 2 starting at -1 (pads 1): {x00}, {x01, x02}, {x10, x20}, {x11, x12, x21, x22}.
  Tensor x = T(DType::F32, {1, 1, 3, 3}, {-1, -2, -3, -4, -5, -6, -7, -8, -9});
  auto results =
      run_op(OpKind::MaxPool, {x}, {{"kernel", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}, {"strides", Ints{2, 2}}}, 2);
  ASSERT_TRUE(results.ok()) << results.error().str();
  expect_tensor(results->at(0), DType::F32, {1, 1, 2, 2}, {-1, -2, -4, -5});
  expect_tensor(results->at(1), DType::I64, {1, 1, 2, 2}, {0, 1, 3, 4});
}

TEST(InterpMaxPool, IndicesCountWholeTensor) {
  // x[2, 2, 1, 2]: plane p = n*2 + c holds [a, b]; index = p * 2 + argmax.
  Tensor x = T(DType::F32, {2, 2, 1, 2}, {1, 2, 4, 3, 5, 6, 8, 7});
  auto results = run_op(OpKind::MaxPool, {x}, {{"kernel", Ints{1, 2}}}, 2);
  ASSERT_TRUE(results.ok()) << results.error().str();
  expect_tensor(results->at(0), DType::F32, {2, 2, 1, 1}, {2, 4, 6, 8});
  expect_tensor(results->at(1), DType::I64, {2, 2, 1, 1}, {1, 2, 5, 6});
}

TEST(InterpMaxPool, CeilModeAndDilations) {
  // [1..5], kernel 2, stride 2: floor gives 2 windows, ceil a third that holds only x4 = 5.
  expect_tensor(pool1d(OpKind::MaxPool, {1, 2, 3, 4, 5}, {{"kernel", Ints{2}}, {"strides", Ints{2}}}), DType::F32,
                {1, 1, 2}, {2, 4});
  expect_tensor(pool1d(OpKind::MaxPool, {1, 2, 3, 4, 5}, {{"kernel", Ints{2}}, {"strides", Ints{2}}, {"ceil_mode", 1}}),
                DType::F32, {1, 1, 3}, {2, 4, 5});
  // ceil((2 - 1) / 2) + 1 = 2 windows, but the second would start at 2, past the input: dropped.
  expect_tensor(pool1d(OpKind::MaxPool, {1, 2}, {{"kernel", Ints{1}}, {"strides", Ints{2}}, {"ceil_mode", 1}}),
                DType::F32, {1, 1, 1}, {1});
  // Dilation 2 on 2 taps: max(x0, x2), max(x1, x3), max(x2, x4) of [5 1 4 2 3].
  auto results = run_op(OpKind::MaxPool, {T(DType::F32, {1, 1, 5}, {5, 1, 4, 2, 3})},
                        {{"kernel", Ints{2}}, {"dilations", Ints{2}}}, 2);
  ASSERT_TRUE(results.ok()) << results.error().str();
  expect_tensor(results->at(0), DType::F32, {1, 1, 3}, {5, 2, 4});
  expect_tensor(results->at(1), DType::I64, {1, 1, 3}, {0, 3, 2});
}

TEST(InterpMaxPool, ThreeDimensional) {
  // 1..8 on 2x2x2 with one 2x2x2 window: 8 at offset 7; a 1x1x2 window at stride 1 gives pairwise maxima.
  Tensor x = T(DType::F32, {1, 1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  expect_tensor(run1(OpKind::MaxPool, {x}, {{"kernel", Ints{2, 2, 2}}}), DType::F32, {1, 1, 1, 1, 1}, {8});
  expect_tensor(run1(OpKind::MaxPool, {x}, {{"kernel", Ints{1, 1, 2}}}), DType::F32, {1, 1, 2, 2, 1}, {2, 4, 6, 8});
}

TEST(InterpMaxPool, EveryDType) {
  for (DType dtype : kFloatDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    expect_tensor(pool1d(OpKind::MaxPool, {0.5, -1.5, 2.25}, {{"kernel", Ints{2}}}, dtype), dtype, {1, 1, 2},
                  {0.5, 2.25});
  }
  for (DType dtype : kIntDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    // Pads [1, 1]: windows {x0}, {x0, x1}, {x1}.
    expect_tensor(pool1d(OpKind::MaxPool, {7, 3}, {{"kernel", Ints{2}}, {"pads", Ints{1, 1}}}, dtype), dtype, {1, 1, 3},
                  {7, 7, 3});
  }
  // Padding of an integer input is below every value, even the most negative.
  expect_tensor(pool1d(OpKind::MaxPool, {-128, -3}, {{"kernel", Ints{2}}, {"pads", Ints{1, 1}}}, DType::I8), DType::I8,
                {1, 1, 3}, {-128, -3, -3});
  expect_tensor(pool1d(OpKind::MaxPool, {200, 3}, {{"kernel", Ints{2}}}, DType::U8), DType::U8, {1, 1, 1}, {200});
}

TEST(InterpMaxPool, NaNWinsAndEmptyWindows) {
  auto nan = run_op(OpKind::MaxPool, {T(DType::F32, {1, 1, 3}, {1, kNaN, 3})}, {{"kernel", Ints{2}}}, 2);
  ASSERT_TRUE(nan.ok()) << nan.error().str();
  expect_tensor(nan->at(0), DType::F32, {1, 1, 2}, {kNaN, kNaN});
  expect_tensor(nan->at(1), DType::I64, {1, 1, 2}, {1, 1});
  // Pads 2 around one element with 2-tap windows: the first and last windows hold only padding.
  auto empty = run_op(OpKind::MaxPool, {T(DType::F32, {1, 1, 1}, {6})}, {{"kernel", Ints{2}}, {"pads", Ints{2, 2}}}, 2);
  ASSERT_TRUE(empty.ok()) << empty.error().str();
  expect_tensor(empty->at(0), DType::F32, {1, 1, 4}, {-kInf, 6, 6, -kInf});
  expect_tensor(empty->at(1), DType::I64, {1, 1, 4}, {-1, 0, 0, -1});
}

TEST(InterpMaxPool, ZeroBatch) {
  auto results =
      run_op(OpKind::MaxPool, {T(DType::F32, {0, 1, 4, 4}, {})}, {{"kernel", Ints{2, 2}}, {"strides", Ints{2, 2}}}, 2);
  ASSERT_TRUE(results.ok()) << results.error().str();
  expect_tensor(results->at(0), DType::F32, {0, 1, 2, 2}, {});
  expect_tensor(results->at(1), DType::I64, {0, 1, 2, 2}, {});
}

TEST(InterpMaxPool, SymbolicShapeRule) {
  AttrMap resnet{{"kernel", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}};
  EXPECT_EQ(infer_type(OpKind::MaxPool, {{DType::F32, {N, 64, 112, 112}}}, resnet), "f32[N, 64, 56, 56]");
  EXPECT_EQ(infer_type(OpKind::MaxPool, {{DType::F32, {N, 64, H, W}}}, resnet), "f32[N, 64, (H+1)/2, (W+1)/2]");
  EXPECT_EQ(infer_type(OpKind::MaxPool, {{DType::F32, {N, 8, H}}}, {{"kernel", Ints{2}}, {"strides", Ints{2}}}),
            "f32[N, 8, H/2]");
  EXPECT_EQ(infer_type(OpKind::MaxPool, {{DType::F32, {N, 8, H}}},
                       {{"kernel", Ints{2}}, {"strides", Ints{2}}, {"ceil_mode", 1}}),
            "f32[N, 8, (H+1)/2]");
  auto two = infer(OpKind::MaxPool, {{DType::F16, {N, 8, H}}}, {{"kernel", Ints{2}}}, 2);
  ASSERT_TRUE(two.ok()) << two.error().str();
  EXPECT_EQ(two->at(1).str(), "i64[N, 8, H-1]");
}

/// ONNX's output-size rule written the way its spec states it, to check the Dim form against.
int64_t onnx_pool_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pb, int64_t pe,
                       bool ceil_mode) {
  double span = static_cast<double>(in + pb + pe - dilation * (kernel - 1) - 1) / static_cast<double>(stride);
  if (!ceil_mode) return static_cast<int64_t>(std::floor(span)) + 1;
  int64_t out = static_cast<int64_t>(std::ceil(span)) + 1;
  if ((out - 1) * stride >= in + pb) --out;  // the last window must start inside the input or the begin pad
  return out;
}

TEST(InterpMaxPool, SymbolicCeilRuleMatchesOnnxForEverySize) {
  for (int64_t kernel = 1; kernel <= 4; ++kernel)
    for (int64_t stride = 1; stride <= 3; ++stride)
      for (int64_t dilation = 1; dilation <= 2; ++dilation)
        for (int64_t pb = 0; pb <= 2; ++pb)
          for (int64_t pe = 0; pe <= 3; ++pe)
            for (int64_t ceil_mode = 0; ceil_mode <= 1; ++ceil_mode) {
              AttrMap attrs{{"kernel", Ints{kernel}},
                            {"strides", Ints{stride}},
                            {"dilations", Ints{dilation}},
                            {"pads", Ints{pb, pe}},
                            {"ceil_mode", ceil_mode}};
              auto symbolic = infer(OpKind::MaxPool, {{DType::F32, {1, 1, H}}}, attrs);
              ASSERT_TRUE(symbolic.ok()) << symbolic.error().str();
              const Dim& out = symbolic->at(0).shape[2];
              for (int64_t in = 1; in <= 12; ++in) {
                SCOPED_TRACE(fmt::format("in {} kernel {} stride {} dilation {} pads {} {} ceil {} -> {}", in, kernel,
                                         stride, dilation, pb, pe, ceil_mode, out.str()));
                int64_t expected = onnx_pool_size(in, kernel, stride, dilation, pb, pe, ceil_mode != 0);
                EXPECT_EQ(out.evaluate({{"H", in}}), expected);
                auto constant = infer(OpKind::MaxPool, {{DType::F32, {1, 1, in}}}, attrs);
                EXPECT_EQ(constant.ok(), expected >= 1);
                if (constant.ok()) {
                  EXPECT_EQ(constant->at(0).shape[2], Dim(expected));
                }
              }
            }
}

TEST(InterpMaxPool, Errors) {
  Tensor x = T(DType::F32, {1, 1, 3, 3}, {});
  EXPECT_THAT(run_error(OpKind::MaxPool, {x}, {{"kernel", Ints{2}}}),
              HasSubstr("max_pool kernel has 1 entries [2] but the input f32[1, 1, 3, 3] has 2 spatial axes"));
  EXPECT_THAT(run_error(OpKind::MaxPool, {x}, {{"kernel", Ints{2, 0}}}), HasSubstr("kernel [2, 0] must all be >= 1"));
  EXPECT_THAT(run_error(OpKind::MaxPool, {x}, {{"kernel", Ints{2, 2}}, {"strides", Ints{1, 1, 1}}}),
              HasSubstr("max_pool strides has 3 entries"));
  EXPECT_THAT(run_error(OpKind::MaxPool, {x}, {{"kernel", Ints{2, 2}}, {"ceil_mode", 2}}),
              HasSubstr("max_pool ceil_mode must be 0 or 1, got 2"));
  EXPECT_THAT(run_error(OpKind::MaxPool, {x}, {{"kernel", Ints{2, 2}}, {"storage_order", 3}}),
              HasSubstr("storage_order must be 0 or 1, got 3"));
  EXPECT_THAT(run_error(OpKind::MaxPool, {x}, {{"kernel", Ints{4, 2}}}),
              HasSubstr("max_pool output spatial axis 0 would have size 0"));
  EXPECT_THAT(run_error(OpKind::MaxPool, {T(DType::Bool, {1, 1, 3}, {})}, {{"kernel", Ints{2}}}),
              HasSubstr("float or integer input, got bool[1, 1, 3]"));
  EXPECT_THAT(run_error(OpKind::MaxPool, {T(DType::F32, {3, 3}, {})}, {{"kernel", Ints{2}}}),
              HasSubstr("at least one spatial axis"));
}

// ---- avg_pool -----------------------------------------------------------------------------------------

TEST(InterpAvgPool, TwoDimensional) {
  Tensor x = T(DType::F32, {1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  // (1+2+4+5)/4 = 3, (2+3+5+6)/4 = 4, (4+5+7+8)/4 = 6, (5+6+8+9)/4 = 7.
  expect_tensor(run1(OpKind::AvgPool, {x}, {{"kernel", Ints{2, 2}}}), DType::F32, {1, 1, 2, 2}, {3, 4, 6, 7});
  // 3x3 windows with pads 1. Sums (see InterpConv.PadsBiasAndStrides): 12 21 16 / 27 45 33 / 24 39 28.
  // count_include_pad 0 divides by the taps inside the input (4 at corners, 6 on edges, 9 in the centre).
  AttrMap attrs{{"kernel", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}};
  expect_tensor(run1(OpKind::AvgPool, {x}, attrs), DType::F32, {1, 1, 3, 3}, {3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7});
  attrs.insert_or_assign("count_include_pad", 1);
  expect_tensor(run1(OpKind::AvgPool, {x}, attrs), DType::F32, {1, 1, 3, 3},
                {12.0 / 9, 21.0 / 9, 16.0 / 9, 3, 5, 33.0 / 9, 24.0 / 9, 39.0 / 9, 28.0 / 9});
}

TEST(InterpAvgPool, CeilModeOverhangNeverCounts) {
  // [1..5], kernel 2, stride 2, ceil: the third window holds x4 and one tap past the end: 5 / 1.
  for (int64_t include_pad : {0, 1})
    expect_tensor(
        pool1d(OpKind::AvgPool, {1, 2, 3, 4, 5},
               {{"kernel", Ints{2}}, {"strides", Ints{2}}, {"ceil_mode", 1}, {"count_include_pad", include_pad}}),
        DType::F32, {1, 1, 3}, {1.5, 3.5, 5});
  // [1 2 3 4], pads [1, 1], kernel 3, stride 2, ceil: ceil(3/2) + 1 = 3 windows over the padded [p 1 2 3 4 p]
  // at 0, 2, 4: {p 1 2}, {2 3 4}, {4 p overhang}. count_include_pad 0: 3/2, 9/3, 4/1; 1: 3/3, 9/3, 4/2.
  AttrMap attrs{{"kernel", Ints{3}}, {"strides", Ints{2}}, {"pads", Ints{1, 1}}, {"ceil_mode", 1}};
  expect_tensor(pool1d(OpKind::AvgPool, {1, 2, 3, 4}, attrs), DType::F32, {1, 1, 3}, {1.5, 3, 4});
  attrs.insert_or_assign("count_include_pad", 1);
  expect_tensor(pool1d(OpKind::AvgPool, {1, 2, 3, 4}, attrs), DType::F32, {1, 1, 3}, {1, 3, 2});
  attrs.insert_or_assign("ceil_mode", 0);  // floor: the last window is gone
  expect_tensor(pool1d(OpKind::AvgPool, {1, 2, 3, 4}, attrs), DType::F32, {1, 1, 2}, {1, 3});
}

TEST(InterpAvgPool, DilationsAndThreeDimensional) {
  // Dilation 2 on 2 taps: (1+3)/2, (2+4)/2, (3+5)/2.
  expect_tensor(pool1d(OpKind::AvgPool, {1, 2, 3, 4, 5}, {{"kernel", Ints{2}}, {"dilations", Ints{2}}}), DType::F32,
                {1, 1, 3}, {2, 3, 4});
  // 1..8 on 2x2x2: 36 / 8 = 4.5.
  expect_tensor(
      run1(OpKind::AvgPool, {T(DType::F32, {1, 1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8})}, {{"kernel", Ints{2, 2, 2}}}),
      DType::F32, {1, 1, 1, 1, 1}, {4.5});
}

TEST(InterpAvgPool, EveryFloatDTypeBatchAndZeroBatch) {
  for (DType dtype : kFloatDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    // Two planes: (1+2)/2, (-3-4)/2.
    expect_tensor(run1(OpKind::AvgPool, {T(dtype, {1, 2, 2}, {1, 2, -3, -4})}, {{"kernel", Ints{2}}}), dtype, {1, 2, 1},
                  {1.5, -3.5});
  }
  expect_tensor(run1(OpKind::AvgPool, {T(DType::F32, {0, 3, 4}, {})}, {{"kernel", Ints{2}}}), DType::F32, {0, 3, 3},
                {});
}

TEST(InterpAvgPool, WindowsOfOnlyPadding) {
  // Pads 2 around [6] with 2-tap windows: the outer windows hold no input. count_include_pad 0 gives 0/0;
  // 1 gives 0/2 there and 6/2 in the middle.
  AttrMap attrs{{"kernel", Ints{2}}, {"pads", Ints{2, 2}}};
  expect_tensor(pool1d(OpKind::AvgPool, {6}, attrs), DType::F32, {1, 1, 4}, {kNaN, 6, 6, kNaN});
  attrs.insert_or_assign("count_include_pad", 1);
  expect_tensor(pool1d(OpKind::AvgPool, {6}, attrs), DType::F32, {1, 1, 4}, {0, 3, 3, 0});
}

TEST(InterpAvgPool, SymbolicShapeRuleAndErrors) {
  EXPECT_EQ(infer_type(OpKind::AvgPool, {{DType::BF16, {N, 3, H, W}}},
                       {{"kernel", Ints{3, 3}}, {"strides", Ints{1, 1}}, {"pads", Ints{1, 1, 1, 1}}}),
            "bf16[N, 3, H, W]");
  EXPECT_THAT(run_error(OpKind::AvgPool, {T(DType::I32, {1, 1, 4}, {})}, {{"kernel", Ints{2}}}),
              HasSubstr("avg_pool expects a float input, got i32[1, 1, 4]"));
  EXPECT_THAT(
      run_error(OpKind::AvgPool, {T(DType::F32, {1, 1, 4}, {})}, {{"kernel", Ints{2}}, {"count_include_pad", 2}}),
      HasSubstr("count_include_pad must be 0 or 1, got 2"));
  EXPECT_THAT(run_error(OpKind::AvgPool, {T(DType::F32, {1, 1, 4}, {})}, {{"kernel", Ints{2}}, {"pads", Ints{1}}}),
              HasSubstr("avg_pool pads has 1 entries [1] but needs 2"));
  // Symbolic H bound at run time: H = 5, kernel 2, stride 2, ceil -> 3 windows, the last is {x4}.
  auto y = run_typed(OpKind::AvgPool, {{DType::F32, {1, 1, H}}}, {T(DType::F32, {1, 1, 5}, {1, 2, 3, 4, 5})},
                     {{"kernel", Ints{2}}, {"strides", Ints{2}}, {"ceil_mode", 1}});
  ASSERT_TRUE(y.ok()) << y.error().str();
  expect_tensor(y->at(0), DType::F32, {1, 1, 3}, {1.5, 3.5, 5});
}

}  // namespace
}  // namespace tessel
