// Lowering tests: kernel bodies built with the Builder are lowered under several schedules and run in
// the loop evaluator; the results must equal the tensor interpreter's (exactly for integers and bools,
// within 1e-5 for f32, within f16 rounding for f16). Symbolic batches are checked at two sizes.
#include "tests/unit/LowerTestUtil.h"

namespace tessel {
namespace {

using lower_test::check;
using lower_test::random_tensor;
using ::testing::HasSubstr;

TEST(Lower, ElementwiseChainWithBroadcastAndSymbolicBatch) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 37}});
  Value* bias = b.input("bias", {DType::F32, {37}});
  b.output(b.relu(b.add(b.mul(x, b.scalar(2.0)), bias)));
  ASSERT_TRUE(b.status().ok());
  std::vector<std::string> schedules = {"", "vectorize=d1:8 parallel=d0", "tile=[d1:16] vectorize=d1:8",
                                        "order=[d1,d0] tile=[d0:3]", "unroll=d1:4"};
  for (int64_t n : {1, 5})
    check(m, schedules, {random_tensor(DType::F32, {n, 37}, 1), random_tensor(DType::F32, {37}, 2)});
}

TEST(Lower, EveryUnaryOpOnF32) {
  const OpKind kinds[] = {
      OpKind::Neg,        OpKind::Abs,   OpKind::Sign,    OpKind::Exp,   OpKind::Log,  OpKind::Sqrt,  OpKind::Rsqrt,
      OpKind::Reciprocal, OpKind::Tanh,  OpKind::Sigmoid, OpKind::Erf,   OpKind::Gelu, OpKind::Relu,  OpKind::LeakyRelu,
      OpKind::Clip,       OpKind::Floor, OpKind::Ceil,    OpKind::Round, OpKind::Sin,  OpKind::Cos,   OpKind::Tan,
      OpKind::Asin,       OpKind::Acos,  OpKind::Atan,    OpKind::Sinh,  OpKind::Cosh, OpKind::Asinh, OpKind::Acosh,
      OpKind::Atanh,      OpKind::IsNan, OpKind::IsInf};
  for (OpKind kind : kinds) {
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {DType::F32, {3, 20}});
    AttrMap attrs;
    if (kind == OpKind::Clip) attrs = {{"min", -0.25}, {"max", 0.5}};
    b.output(b.op(kind, {x}, attrs));
    ASSERT_TRUE(b.status().ok()) << op_info(kind).name;
    SCOPED_TRACE(std::string(op_info(kind).name));
    check(m, {"", "vectorize=d1:8"}, {random_tensor(DType::F32, {3, 20}, 3, -2, 2)});
  }
}

TEST(Lower, IntegerAndBoolOpsAreExact) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::I32, {4, 9}});
  Value* y = b.input("y", {DType::I32, {9}});
  // Integer division and mod by zero give 0; Python mod takes the divisor's sign.
  Value* q = b.op(OpKind::Div, {x, y});
  Value* r = b.op(OpKind::Mod, {x, y});
  Value* f = b.op(OpKind::Mod, {x, y}, {{"fmod", int64_t{1}}});
  Value* mx = b.op(OpKind::Max, {b.op(OpKind::Min, {q, r}), f});
  Value* cmp = b.op(OpKind::Less, {x, y});
  Value* sel = b.where(b.op(OpKind::Xor, {cmp, b.op(OpKind::Not, {b.op(OpKind::Equal, {x, y})})}), mx,
                       b.op(OpKind::Abs, {b.op(OpKind::Sign, {b.op(OpKind::Neg, {x})})}));
  b.output(b.op(OpKind::Clip, {b.sub(b.mul(sel, x), y)}, {{"min", -20.5}, {"max", 30.0}}));
  b.output(b.cast(b.op(OpKind::Pow, {x, b.scalar(2, DType::I64)}), DType::F16));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  check(m, {"", "vectorize=d1:4", "tile=[d0:2,d1:4]"},
        {random_tensor(DType::I32, {4, 9}, 4), random_tensor(DType::I32, {9}, 5)});
}

TEST(Lower, F16ElementwiseRoundsPerOp) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F16, {2, 17}});
  Value* y = b.input("y", {DType::F16, {2, 17}});
  b.output(b.cast(b.op(OpKind::Sigmoid, {b.div(b.exp(x), b.add(y, b.scalar(3.0, DType::F16)))}), DType::F32));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  check(m, {"", "vectorize=d1:8"}, {random_tensor(DType::F16, {2, 17}, 6), random_tensor(DType::F16, {2, 17}, 7)});
}

TEST(Lower, MatMulWithTilesVectorsAndTails) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 13}});
  Value* w = b.constant(random_tensor(DType::F32, {13, 19}, 8), "w");
  Value* bias = b.constant(random_tensor(DType::F32, {19}, 9), "bias");
  b.output(b.op(OpKind::Tanh, {b.add(b.matmul(x, w), bias)}));
  ASSERT_TRUE(b.status().ok());
  std::vector<std::string> schedules = {"", "vectorize=j:8 parallel=i", "tile=[i:2,j:8] vectorize=j:8 unroll=i:2",
                                        "tile=[i:4,j:16,k:4] vectorize=j:8", "order=[j,i,k] unroll=k:3",
                                        // k in chunks of 4 outside the column blocks (and the scalar tail)
                                        "order=[i,k,j] tile=[k:4,j:8] vectorize=j:8"};
  for (int64_t n : {3, 6}) check(m, schedules, {random_tensor(DType::F32, {n, 13}, 10)});
}

TEST(Lower, GpuBlockAndThreadMapping) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 9}});
  Value* w = b.input("w", {DType::F32, {9, 20}});
  b.output(b.relu(b.matmul(x, w)));
  ASSERT_TRUE(b.status().ok());
  // 20 is not a multiple of the 16-thread tile: the threads past the end are guarded off.
  check(m, {"tile=[i:16,j:16] gpu_blocks=[i,j] gpu_threads=[i,j]"},
        {random_tensor(DType::F32, {5, 9}, 33), random_tensor(DType::F32, {9, 20}, 34)}, "cuda-sm90");
  auto kernel = lower_kernel(*m.entry(), *parse_schedule("tile=[i:16,j:16] gpu_blocks=[i,j] gpu_threads=[i,j]"),
                             *parse_target("cuda-sm90"));
  ASSERT_TRUE(kernel.ok()) << kernel.error().str();
  std::string text = loop::print(*kernel);
  EXPECT_THAT(text, HasSubstr("gpu_block for (i.o, 0, ((N + 15) / 16))"));
  EXPECT_THAT(text, HasSubstr("gpu_thread for (j.i, 0, 16)"));
  EXPECT_THAT(text, HasSubstr("allocate acc: f32[1] local"));
  auto cpu = lower_kernel(*m.entry(), *parse_schedule("tile=[i:16,j:16] gpu_blocks=[i,j] gpu_threads=[i,j]"), Target{});
  ASSERT_FALSE(cpu.ok());
  EXPECT_THAT(cpu.error().str(), HasSubstr("maps GPU blocks but the target x86-64-v4 is a CPU"));
}

TEST(Lower, BatchedMatMulBroadcastsAndVectorOperands) {
  Module m;
  Builder b(m.add_function("main"));
  Value* a = b.input("a", {DType::F32, {2, 3, 5}});
  Value* c = b.input("c", {DType::F32, {5, 4}});
  Value* v = b.input("v", {DType::F32, {4}});
  b.output(b.matmul(a, c));
  b.output(b.matmul(b.matmul(a, c), v));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  check(m, {"", "vectorize=j:4"},
        {random_tensor(DType::F32, {2, 3, 5}, 11), random_tensor(DType::F32, {5, 4}, 12),
         random_tensor(DType::F32, {4}, 13)});
}

TEST(Lower, IntegerMatMulWraps) {
  Module m;
  Builder b(m.add_function("main"));
  Value* a = b.input("a", {DType::I8, {3, 40}});
  Value* c = b.input("c", {DType::I8, {40, 5}});
  b.output(b.matmul(a, c));
  ASSERT_TRUE(b.status().ok());
  check(m, {"", "tile=[k:8] vectorize=j:4"},
        {random_tensor(DType::I8, {3, 40}, 14), random_tensor(DType::I8, {40, 5}, 15)});
}

TEST(Lower, GemmWithTransposeAlphaBetaAndBias) {
  Module m;
  Builder b(m.add_function("main"));
  Value* a = b.input("a", {DType::F32, {7, 6}});
  Value* w = b.input("w", {DType::F32, {5, 7}});
  Value* c = b.input("c", {DType::F32, {5}});
  b.output(
      b.op(OpKind::Gemm, {a, w, c}, {{"trans_a", int64_t{1}}, {"trans_b", int64_t{1}}, {"alpha", 0.5}, {"beta", 2.0}}));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  check(m, {"", "tile=[i:2,j:4] vectorize=j:4"},
        {random_tensor(DType::F32, {7, 6}, 16), random_tensor(DType::F32, {5, 7}, 17),
         random_tensor(DType::F32, {5}, 18)});
}

TEST(Lower, ConvWithGroupsStridesPadsDilationsAndEpilogue) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 4, 9, 10}});
  Value* w = b.constant(random_tensor(DType::F32, {6, 2, 3, 3}, 19), "w");
  Value* bias = b.constant(random_tensor(DType::F32, {6}, 20), "b");
  Value* y = b.op(OpKind::Conv, {x, w, bias},
                  {{"strides", std::vector<int64_t>{1, 2}},
                   {"pads", std::vector<int64_t>{1, 0, 2, 1}},
                   {"dilations", std::vector<int64_t>{2, 1}},
                   {"group", int64_t{2}}});
  b.output(b.relu(y));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  std::vector<std::string> schedules = {"", "order=[n,oc,oh,ow,ic,kh,kw] vectorize=ow:4 parallel=n unroll=kw:3",
                                        "tile=[oc:2,ow:4] vectorize=ow:2 parallel=oc", "tile=[oh:4,ic:2]",
                                        // input channels one at a time outside guarded 4-column tiles
                                        "order=[n,oc,oh,ic,ow,kh,kw] tile=[ic:1,ow:4] vectorize=ow:2"};
  for (int64_t n : {1, 2}) check(m, schedules, {random_tensor(DType::F32, {n, 4, 9, 10}, 21)});
}

TEST(Lower, Conv1dAndPlainConv) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {2, 3, 11}});
  Value* w = b.input("w", {DType::F32, {4, 3, 3}});
  b.output(b.op(OpKind::Conv, {x, w}, {{"strides", std::vector<int64_t>{2}}}));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  check(m, {"", "vectorize=ow:4"},
        {random_tensor(DType::F32, {2, 3, 11}, 22), random_tensor(DType::F32, {4, 3, 3}, 23)});
}

TEST(Lower, MaxAndAvgPool) {
  for (int64_t include_pad : {0, 1}) {
    for (int64_t ceil_mode : {0, 1}) {
      Module m;
      Builder b(m.add_function("main"));
      Value* x = b.input("x", {DType::F32, {2, 3, 7, 8}});
      AttrMap attrs = {{"kernel", std::vector<int64_t>{3, 2}},
                       {"strides", std::vector<int64_t>{2, 2}},
                       {"pads", std::vector<int64_t>{1, 0, 1, 1}},
                       {"ceil_mode", ceil_mode}};
      b.output(b.op(OpKind::MaxPool, {x}, attrs));
      attrs.insert_or_assign("count_include_pad", Attr(include_pad));
      b.output(b.op(OpKind::AvgPool, {x}, attrs));
      ASSERT_TRUE(b.status().ok()) << b.status().error().str();
      SCOPED_TRACE(testing::Message() << "include_pad " << include_pad << " ceil_mode " << ceil_mode);
      check(m, {"", "vectorize=ow:2 parallel=c"}, {random_tensor(DType::F32, {2, 3, 7, 8}, 24)});
    }
  }
}

TEST(Lower, IntegerMaxPool) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::I16, {1, 2, 5, 5}});
  b.output(
      b.op(OpKind::MaxPool, {x}, {{"kernel", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  ASSERT_TRUE(b.status().ok());
  check(m, {""}, {random_tensor(DType::I16, {1, 2, 5, 5}, 25)});
}

TEST(Lower, Reductions) {
  const OpKind kinds[] = {OpKind::ReduceSum,  OpKind::ReduceMean, OpKind::ReduceMax, OpKind::ReduceMin,
                          OpKind::ReduceProd, OpKind::ReduceL1,   OpKind::ReduceL2};
  for (OpKind kind : kinds) {
    for (int64_t keep : {0, 1}) {
      Module m;
      Builder b(m.add_function("main"));
      Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 5, 6}});
      b.output(b.reduce(kind, x, {-1, 1}, keep != 0));
      b.output(b.reduce(kind, x, {}, keep != 0));
      ASSERT_TRUE(b.status().ok()) << b.status().error().str();
      SCOPED_TRACE(testing::Message() << op_info(kind).name << " keepdims " << keep);
      for (int64_t n : {2, 3}) check(m, {"", "tile=[r2:4]", "parallel=d0"}, {random_tensor(DType::F32, {n, 5, 6}, 26)});
    }
  }
}

TEST(Lower, IntegerReductionsWrap) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::I8, {4, 30}});
  b.output(b.reduce(OpKind::ReduceSum, x, {1}, false));
  b.output(b.reduce(OpKind::ReduceProd, x, {0}, true));
  b.output(b.reduce(OpKind::ReduceMax, x, {1}, false));
  ASSERT_TRUE(b.status().ok());
  check(m, {"", "vectorize=d0:4"}, {random_tensor(DType::I8, {4, 30}, 27)});
}

TEST(Lower, SoftmaxLikeKernelMaterializesItsReductions) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 10}});
  Value* shifted = b.sub(x, b.reduce(OpKind::ReduceMax, x, {-1}));
  Value* e = b.exp(shifted);
  b.output(b.div(e, b.reduce(OpKind::ReduceSum, e, {-1})));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  for (int64_t n : {1, 4})
    check(m, {"", "vectorize=d1:4 parallel=d0"}, {random_tensor(DType::F32, {n, 10}, 28, -5, 5)});
}

TEST(Lower, ShapeOpsRemapIndices) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {2, 3, 4}});
  Value* idx = b.input("idx", {DType::I64, {5}});
  Value* t = b.transpose(x, {2, 0, 1});  // [4, 2, 3]
  Value* r = b.reshape(t, {8, 3});       // [8, 3]
  Value* s = b.op(OpKind::Slice, {r},
                  {{"starts", std::vector<int64_t>{-7, 0}},
                   {"ends", std::vector<int64_t>{8, 3}},
                   {"steps", std::vector<int64_t>{2, 1}}});                                         // [4, 3]
  Value* c = b.concat({s, r}, 0);                                                                   // [12, 3]
  Value* p = b.op(OpKind::Pad, {c}, {{"pads", std::vector<int64_t>{1, 0, 0, 2}}, {"value", 0.5}});  // [13, 5]
  Value* g = b.op(OpKind::Gather, {p, idx}, {{"axis", int64_t{0}}});                                // [5, 5]
  Value* u = b.op(OpKind::Unsqueeze, {g}, {{"axes", std::vector<int64_t>{0}}});                     // [1, 5, 5]
  Value* e = b.op(OpKind::Expand, {u}, {{"shape", Shape{3, 5, 5}}});                                // [3, 5, 5]
  Value* q = b.op(OpKind::Squeeze, {b.op(OpKind::Tile, {u}, {{"repeats", std::vector<int64_t>{1, 2, 1}}})},
                  {{"axes", std::vector<int64_t>{0}}});
  b.output(e);
  b.output(q);
  b.output(b.op(OpKind::Pad, {x}, {{"pads", std::vector<int64_t>{0, 1, 1, 0, 2, 0}}, {"mode", "edge"}}));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  Tensor indices = Tensor::of<int64_t>({5}, {0, 12, -1, 3, 7});
  check(m, {"", "vectorize=d2:4"}, {random_tensor(DType::F32, {2, 3, 4}, 29), indices});
}

TEST(Lower, ConstantPadOutputIsAFillThenADenseCopy) {
  // A kernel whose output is a constant pad (a conv input the layout pass padded): the fill value over the
  // border (five boxes here), then the input (with the relu before the pad inlined) over the interior --
  // contiguous loads, no clamped gathers. Integer pads too; negative pads keep the generic form.
  for (DType dtype : {DType::F32, DType::I32}) {
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {dtype, {Dim::symbol("N"), 3, 5, 19}});
    b.output(b.op(OpKind::Pad, {b.relu(x)}, {{"pads", std::vector<int64_t>{0, 1, 2, 3, 0, 0, 1, 2}}, {"value", 2.0}}));
    ASSERT_TRUE(b.status().ok()) << b.status().error().str();
    auto kernel = lower_kernel(*m.entry(), *parse_schedule("vectorize=d3:8 parallel=d1"), *parse_target("x86-64-v4"));
    ASSERT_TRUE(kernel.ok()) << kernel.error().str();
    std::string text = loop::print(*kernel);
    EXPECT_THAT(text, ::testing::Not(HasSubstr("min(")));  // no clamped index
    EXPECT_THAT(text, HasSubstr("x[ramp("));               // a dense vector load
    for (int64_t n : {1, 2})
      check(m, {"", "vectorize=d3:8 parallel=d1", "tile=[d2:4]"}, {random_tensor(dtype, {n, 3, 5, 19}, 40)});
  }
  Module edge;
  Builder b(edge.add_function("main"));
  Value* x = b.input("x", {DType::F32, {2, 7}});
  b.output(b.op(OpKind::Pad, {x}, {{"pads", std::vector<int64_t>{0, 2, 1, -1}}, {"value", 1.0}}));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  check(edge, {"", "vectorize=d1:4"}, {random_tensor(DType::F32, {2, 7}, 41)});
}

TEST(Lower, FusedConvReluPoolFlattenBody) {
  // The body `fuse` makes of a CNN block: pool is the output's anchor (its store goes through the
  // flatten view), the conv feeding it is materialized.
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 1, 6, 6}});
  Value* w = b.constant(random_tensor(DType::F32, {2, 1, 3, 3}, 30), "cw");
  Value* bias = b.constant(random_tensor(DType::F32, {2}, 31), "cb");
  Value* p = b.max_pool(b.relu(b.conv(x, w, bias)), {2, 2}, {2, 2});
  b.output(b.add(b.reshape(p, {Dim::symbol("N"), 8}), b.scalar(1.0)));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  auto domain = iteration_domain(*m.entry());
  ASSERT_TRUE(domain.ok());
  EXPECT_EQ(domain_str(*domain), "[n: N, c: 2, oh: 2, ow: 2, kh: 2 (reduction), kw: 2 (reduction)]");
  for (int64_t n : {1, 3})
    check(m, {"", "parallel=c vectorize=ow:2 unroll=kw:2"}, {random_tensor(DType::F32, {n, 1, 6, 6}, 32)});
}

TEST(Lower, BlockedOutputStoresThroughTheTransposeWithoutATemporary) {
  // A pool whose result is stored channel-blocked [N, C/8, H, W, 8] (block-activations): the pool's nest
  // stores through the reshape + transpose (no temporary), and the scheduler vectorizes the channels,
  // the output's contiguous axis.
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 16, 6, 6}});
  Value* p = b.max_pool(b.relu(x), {2, 2}, {2, 2});
  Value* split = b.reshape(p, {Dim::symbol("N"), 2, 8, 3, 3});
  b.output(b.transpose(split, {0, 1, 3, 4, 2}));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  auto domain = iteration_domain(*m.entry());
  ASSERT_TRUE(domain.ok());
  EXPECT_TRUE((*domain)[1].prefer_vector) << domain_str(*domain);
  auto kernel = lower_kernel(*m.entry(), *parse_schedule("vectorize=c:8"), *parse_target("x86-64-v4"));
  ASSERT_TRUE(kernel.ok()) << kernel.error().str();
  std::string text = loop::print(*kernel);
  EXPECT_THAT(text, ::testing::Not(HasSubstr("allocate t0")));
  EXPECT_THAT(text, HasSubstr(", 1, 8)] = "));  // contiguous vector stores
  for (int64_t n : {1, 2})
    check(m, {"", "vectorize=c:8 parallel=oh", "tile=[ow:2] vectorize=c:8"},
          {random_tensor(DType::F32, {n, 16, 6, 6}, 50)});
}

TEST(Lower, PadEpilogueFillsTheBorderAndStoresTheInterior) {
  // conv -> relu -> pad as one kernel (fuse's pad epilogue), in NCHW and in blocks (block-activations
  // moves the pad after the blocking): the conv's nest stores at the shifted index, the border is filled
  // apart, no temporary.
  for (bool blocked : {false, true}) {
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 3, 7, 6}});
    Value* w = b.constant(random_tensor(DType::F32, {16, 3, 3, 3}, 53), "w");
    Value* y = b.relu(b.conv(x, w, nullptr));  // [N, 16, 5, 4]
    if (blocked) {
      y = b.transpose(b.reshape(y, {Dim::symbol("N"), 2, 8, 5, 4}), {0, 1, 3, 4, 2});
      b.output(b.op(OpKind::Pad, {y}, {{"pads", std::vector<int64_t>{0, 0, 1, 2, 0, 0, 0, 2, 1, 0}}, {"value", 0.5}}));
    } else {
      b.output(b.op(OpKind::Pad, {y}, {{"pads", std::vector<int64_t>{0, 0, 1, 2, 0, 0, 2, 1}}, {"value", 0.5}}));
    }
    ASSERT_TRUE(b.status().ok()) << b.status().error().str();
    auto domain = iteration_domain(*m.entry());
    ASSERT_TRUE(domain.ok());
    EXPECT_EQ((*domain)[1].name, "oc") << domain_str(*domain);
    auto kernel = lower_kernel(*m.entry(), Schedule{}, *parse_target("x86-64-v4"));
    ASSERT_TRUE(kernel.ok()) << kernel.error().str();
    EXPECT_THAT(loop::print(*kernel), ::testing::Not(HasSubstr("allocate t0")));
    std::vector<std::string> schedules = {"", "vectorize=ow:4 parallel=oh", "tile=[ow:2,oc:16] vectorize=oc:8"};
    for (int64_t n : {1, 2}) check(m, schedules, {random_tensor(DType::F32, {n, 3, 7, 6}, 54)});
  }
}

TEST(Lower, AnAnchorReadOnTwoPathsOfWhichOnePermutesIsMaterialized) {
  // out = a^T + a: the paths would store a's elements at different places, so a gets a nest of its own.
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {5, 5}});
  Value* y = b.input("y", {DType::F32, {5, 5}});
  Value* a = b.matmul(x, y);
  b.output(b.add(b.transpose(a, {1, 0}), a));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  auto kernel = lower_kernel(*m.entry(), Schedule{}, *parse_target("x86-64-v4"));
  ASSERT_TRUE(kernel.ok()) << kernel.error().str();
  EXPECT_THAT(loop::print(*kernel), HasSubstr("allocate t0"));
  check(m, {"", "vectorize=d1:4"}, {random_tensor(DType::F32, {5, 5}, 51), random_tensor(DType::F32, {5, 5}, 52)});
}

TEST(Lower, UnsupportedOpsNameThemselves) {
  Module ml;
  Builder mb(ml.add_function("main"));
  Value* keys = mb.constant(Tensor::of<int64_t>({2}, {1, 2}), "keys");
  Value* values = mb.constant(Tensor::of<float>({2}, {0.5f, 1.5f}), "values");
  mb.output(mb.op(OpKind::LabelEncode, {mb.input("k", {DType::I64, {3}}), keys, values, mb.scalar(0.0)}));
  ASSERT_TRUE(mb.status().ok()) << mb.status().error().str();
  auto encode = lower_kernel(*ml.entry(), Schedule{}, Target{});
  ASSERT_FALSE(encode.ok());
  EXPECT_THAT(encode.error().str(), HasSubstr("lower: op 'label_encode' has no loop lowering; decompose it first"));
}

TEST(Lower, BadScheduleNamesTheAxisAndDomain) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {4, 5}});
  Value* w = b.input("w", {DType::F32, {5, 3}});
  b.output(b.matmul(x, w));
  ASSERT_TRUE(b.status().ok());
  auto kernel = lower_kernel(*m.entry(), *parse_schedule("vectorize=q:4"), Target{});
  ASSERT_FALSE(kernel.ok());
  EXPECT_THAT(kernel.error().str(), HasSubstr("unknown axis 'q'"));
  EXPECT_THAT(kernel.error().str(), HasSubstr("i: 4, j: 3, k: 5 (reduction)"));
  auto inner_parallel = lower_kernel(*m.entry(), *parse_schedule("order=[k,i,j] parallel=i"), Target{});
  ASSERT_FALSE(inner_parallel.ok());
  EXPECT_THAT(inner_parallel.error().str(), HasSubstr("inside the reduction loops"));
}

TEST(Lower, VectorizedMatMulUsesDenseRampsAndAVectorAccumulator) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {4, 8}});
  Value* w = b.input("w", {DType::F32, {8, 16}});
  b.output(b.matmul(x, w));
  ASSERT_TRUE(b.status().ok());
  auto kernel = lower_kernel(*m.entry(), *parse_schedule("vectorize=j:16 parallel=i"), Target{});
  ASSERT_TRUE(kernel.ok()) << kernel.error().str();
  std::string text = loop::print(*kernel);
  EXPECT_THAT(text, HasSubstr("parallel for (i, 0, 4)"));
  EXPECT_THAT(text, HasSubstr("allocate acc: f32[16] local"));
  EXPECT_THAT(text, HasSubstr("w[ramp((k * 16), 1, 16)]"));
  EXPECT_THAT(text, HasSubstr("output0[ramp((i * 16), 1, 16)] = acc[ramp(0, 1, 16)];"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("vectorized for")));  // 16 divides 16: no tail, all widened
}

TEST(Lower, ReductionChunksOutsideTheRegisterTileStageItInALocal) {
  // order=[i,k,j] with k in chunks of 4: acc holds the partial sums of a whole row (4 x 16 columns) between
  // chunks; the register tile of each column block accumulates in `reg`, loaded and stored around the
  // inner k loop, so it can live in registers.
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {2, 8}});
  Value* w = b.input("w", {DType::F32, {8, 64}});
  b.output(b.matmul(x, w));
  ASSERT_TRUE(b.status().ok());
  auto kernel = lower_kernel(*m.entry(), *parse_schedule("order=[i,k,j] tile=[k:4,j:16] vectorize=j:16"), Target{});
  ASSERT_TRUE(kernel.ok()) << kernel.error().str();
  std::string text = loop::print(*kernel);
  EXPECT_THAT(text, HasSubstr("allocate acc: f32[64] local"));
  EXPECT_THAT(text, HasSubstr("allocate reg: f32[16] local"));
  EXPECT_THAT(text, HasSubstr("reg[ramp(0, 1, 16)] = acc[ramp((j.o * 16), 1, 16)];"));
  EXPECT_THAT(text, HasSubstr("acc[ramp((j.o * 16), 1, 16)] = reg[ramp(0, 1, 16)];"));
  check(m, {"order=[i,k,j] tile=[k:4,j:16] vectorize=j:16"},
        {random_tensor(DType::F32, {2, 8}, 30), random_tensor(DType::F32, {8, 64}, 31)});
}

TEST(Lower, ReductionTilesGoBeforeTheTaps) {
  // A conv's input channels in chunks outside the rows: ic.i runs before kh and kw, so the taps stay the
  // innermost reduction loops (a row of register tiles shares each tap's input loads there).
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {1, 8, 5, 6}});
  Value* w = b.input("w", {DType::F32, {16, 8, 3, 3}});
  b.output(b.conv(x, w, nullptr));
  ASSERT_TRUE(b.status().ok());
  std::string schedule = "order=[n,oc,ic,oh,ow,kh,kw] tile=[ic:4,ow:4,oc:16] vectorize=oc:8 unroll=kw:3";
  auto kernel = lower_kernel(*m.entry(), *parse_schedule(schedule), Target{});
  ASSERT_TRUE(kernel.ok()) << kernel.error().str();
  std::string text = loop::print(*kernel);
  size_t chunk = text.find("for (ic.i, 0, 4)"), taps = text.find("for (kh, 0, 3)");
  ASSERT_NE(chunk, std::string::npos) << text;
  EXPECT_LT(chunk, taps) << text;
  check(m, {schedule}, {random_tensor(DType::F32, {1, 8, 5, 6}, 32), random_tensor(DType::F32, {16, 8, 3, 3}, 33)});
}

TEST(Lower, PrefetchesTheNextWeightBlockOutsideTheRegisterTile) {
  // prefetch=oc: each (ic, kh) iteration prefetches once, before the kw loop and the oc.i/ow.i tile, row
  // oh's share of the next block of 16 output channels; results stay the interpreter's.
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {1, 8, 6, 6}});
  Value* w = b.input("w", {DType::F32, {32, 8, 3, 3}});
  b.output(b.relu(b.conv(x, w, nullptr)));
  ASSERT_TRUE(b.status().ok());
  std::string schedule = "order=[n,oc,oh,ow,ic,kh,kw] tile=[ow:4,oc:16] vectorize=oc:8 unroll=kw:3 prefetch=oc";
  auto kernel = lower_kernel(*m.entry(), *parse_schedule(schedule), Target{});
  ASSERT_TRUE(kernel.ok()) << kernel.error().str();
  std::string text = loop::print(*kernel);
  size_t at = text.find("prefetch(w["), tile = text.find("for (kw");
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_LT(at, tile) << text;
  EXPECT_EQ(text.find("prefetch(", at + 1), std::string::npos) << text;  // not x: it depends on the rows
  EXPECT_THAT(text, HasSubstr("(oh * 288)"));                            // a quarter of 1152 per row
  check(m, {schedule}, {random_tensor(DType::F32, {1, 8, 6, 6}, 41), random_tensor(DType::F32, {32, 8, 3, 3}, 42)});

  // Nothing to prefetch along the rows (the input depends on the columns inside them, the weights not
  // on the rows), and a prefetched axis must have a loop outside the reduction.
  auto rows = lower_kernel(*m.entry(), *parse_schedule("order=[n,oh,oc,ow,ic,kh,kw] prefetch=oh"), Target{});
  ASSERT_FALSE(rows.ok());
  EXPECT_THAT(rows.error().str(), HasSubstr("schedule prefetch=oh: no read in the reduction depends on 'oh'"));
  auto inside = lower_kernel(*m.entry(), *parse_schedule("order=[n,oh,ow,ic,kh,kw,oc] prefetch=oc"), Target{});
  ASSERT_FALSE(inside.ok());
  EXPECT_THAT(inside.error().str(), HasSubstr("schedule prefetch=oc: the axis has no loop outside the reduction"));
  auto chunks = lower_kernel(*m.entry(), *parse_schedule("order=[n,ic,oc,oh,ow,kh,kw] prefetch=oc"), Target{});
  ASSERT_FALSE(chunks.ok());
  EXPECT_THAT(chunks.error().str(), HasSubstr("the reduction runs in chunks around spatial loops"));
}

TEST(Lower, IterationDomains) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 3, 8, 8}});
  Value* w = b.input("w", {DType::F32, {4, 3, 3, 3}});
  b.output(b.op(OpKind::MaxPool, {b.relu(b.conv(x, w, nullptr))}, {{"kernel", std::vector<int64_t>{2, 2}}}));
  ASSERT_TRUE(b.status().ok());
  auto domain = iteration_domain(*m.entry());
  ASSERT_TRUE(domain.ok()) << domain.error().str();
  EXPECT_EQ(domain_str(*domain), "[n: N, c: 4, oh: 5, ow: 5, kh: 2 (reduction), kw: 2 (reduction)]");
}

}  // namespace
}  // namespace tessel
