// Lowering tests of the ops that needed more than an inlined expression or a single accumulator:
// argmax/argmin, conv_transpose, max_pool's indices, the staged ops (softmax, log_softmax, layer_norm,
// reduce_log_sum_exp), the pad modes that remap indices (reflect, wrap), range, shape_of and
// scatter_elements. Each is lowered under
// several schedules and compared with the interpreter through the loop evaluator.
#include <limits>

#include "tests/unit/LowerTestUtil.h"

namespace tessel {
namespace {

using lower_test::check;
using lower_test::random_tensor;
using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

/// Small integers (as `dtype`), so that ties are common; unsigned dtypes get 0..6.
Tensor tie_tensor(DType dtype, std::vector<int64_t> shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> ints(-3, 3);
  Tensor t(dtype, shape);
  for (int64_t i = 0; i < t.numel(); ++i) {
    int v = ints(rng);
    if (is_float(dtype))
      t.set_double(i, v);
    else
      t.set_int(i, is_signed_integer(dtype) ? v : v + 3);
  }
  return t;
}

TEST(LowerOps, ArgMaxArgMinTiesAndNaNs) {
  for (OpKind kind : {OpKind::ArgMax, OpKind::ArgMin}) {
    for (int64_t last : {0, 1}) {
      for (int64_t keep : {0, 1}) {
        Module m;
        Builder b(m.add_function("main"));
        Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 5, 6}});
        b.output(b.op(kind, {x}, {{"axis", int64_t{-1}}, {"keepdims", keep}, {"select_last_index", last}}));
        b.output(b.op(kind, {x}, {{"axis", int64_t{1}}, {"keepdims", keep}, {"select_last_index", last}}));
        ASSERT_TRUE(b.status().ok()) << b.status().error().str();
        SCOPED_TRACE(testing::Message() << op_info(kind).name << " last " << last << " keepdims " << keep);
        Tensor data = tie_tensor(DType::F32, {3, 5, 6}, 40);
        // Row 0 holds two NaNs (positions 2 and 4): the first or last NaN wins over every number.
        data.set_double(2, kNaN);
        data.set_double(4, kNaN);
        data.set_double(37, -kInf);
        std::vector<std::string> schedules = {"", "tile=[r2:4]", "parallel=d0 vectorize=d1:2"};
        if (keep) schedules.push_back("order=[d0,d1,r2,d2]");
        check(m, schedules, {data});
      }
    }
  }
}

TEST(LowerOps, ArgMaxOverEveryDtypeGroup) {
  for (DType dtype : {DType::I8, DType::U8, DType::I64, DType::F16, DType::BF16, DType::F64}) {
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {dtype, {4, 7}});
    b.output(b.op(OpKind::ArgMax, {x}, {{"axis", int64_t{1}}, {"keepdims", int64_t{0}}}));
    b.output(b.op(OpKind::ArgMin, {x}, {{"axis", int64_t{0}}, {"select_last_index", int64_t{1}}}));
    ASSERT_TRUE(b.status().ok()) << b.status().error().str();
    SCOPED_TRACE(dtype_name(dtype));
    check(m, {"", "tile=[r1:2]"}, {tie_tensor(dtype, {4, 7}, 41)});
  }
}

TEST(LowerOps, ArgMaxZeroSizeDims) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {0, 4}});
  b.output(b.op(OpKind::ArgMax, {x}, {{"axis", int64_t{1}}}));
  ASSERT_TRUE(b.status().ok());
  check(m, {""}, {Tensor(DType::F32, {0, 4})});  // an empty result over a non-empty axis

  // A symbolic axis that is empty at run time: the interpreter reports it, the kernel gives -1.
  Module empty;
  Builder e(empty.add_function("main"));
  Value* y = e.input("y", {DType::F32, {3, Dim::symbol("K")}});
  e.output(e.op(OpKind::ArgMin, {y}, {{"axis", int64_t{-1}}, {"keepdims", int64_t{0}}}));
  ASSERT_TRUE(e.status().ok()) << e.status().error().str();
  check(empty, {""}, {tie_tensor(DType::F32, {3, 4}, 59)});
  auto kernel = lower_kernel(*empty.entry(), Schedule{}, Target{});
  ASSERT_TRUE(kernel.ok()) << kernel.error().str();
  auto got = loop::run_kernel(*kernel, {Tensor(DType::F32, {3, 0})});
  ASSERT_TRUE(got.ok()) << got.error().str();
  EXPECT_EQ((*got)[0].type_str(), "i64[3]");
  for (int64_t i = 0; i < 3; ++i) EXPECT_EQ((*got)[0].get_int(i), -1);
  auto want = interpret(*empty.entry(), {Tensor(DType::F32, {3, 0})});
  ASSERT_FALSE(want.ok());
  EXPECT_THAT(want.error().str(), HasSubstr("has size 0"));
}

TEST(LowerOps, ConvTransposeWithGroupsStridesPadsDilationsAndOutputPadding) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 4, 5, 4}});
  Value* w = b.constant(random_tensor(DType::F32, {4, 3, 3, 2}, 42), "w");  // [C, M/group, kh, kw]
  Value* bias = b.constant(random_tensor(DType::F32, {6}, 43), "b");
  Value* y = b.op(OpKind::ConvTranspose, {x, w, bias},
                  {{"strides", std::vector<int64_t>{2, 3}},
                   {"pads", std::vector<int64_t>{1, 0, 0, 2}},
                   {"dilations", std::vector<int64_t>{1, 2}},
                   {"output_padding", std::vector<int64_t>{1, 0}},
                   {"group", int64_t{2}}});
  b.output(b.relu(y));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  // oh = (5-1)*2 + 1 + 3 - 1 - 0 = 11; ow = (4-1)*3 + 0 + 3 - 0 - 2 = 10.
  EXPECT_EQ(y->type().str(), "f32[N, 6, 11, 10]");
  std::vector<std::string> schedules = {"", "vectorize=ow:4 parallel=oc unroll=kw:2", "tile=[oh:4,ic:2]"};
  for (int64_t n : {1, 2}) check(m, schedules, {random_tensor(DType::F32, {n, 4, 5, 4}, 44)});
}

TEST(LowerOps, ConvTranspose1dPlainAndF16) {
  for (DType dtype : {DType::F32, DType::F16, DType::F64}) {
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {dtype, {2, 3, 6}});
    Value* w = b.input("w", {dtype, {3, 2, 3}});
    b.output(b.op(OpKind::ConvTranspose, {x, w}, {{"strides", std::vector<int64_t>{2}}}));
    b.output(b.op(OpKind::ConvTranspose, {x, w}));
    ASSERT_TRUE(b.status().ok()) << b.status().error().str();
    SCOPED_TRACE(dtype_name(dtype));
    check(m, {"", "vectorize=ow:4"}, {random_tensor(dtype, {2, 3, 6}, 45), random_tensor(dtype, {3, 2, 3}, 46)});
  }
}

TEST(LowerOps, MaxPoolIndicesBothStorageOrders) {
  for (int64_t order : {0, 1}) {
    for (int64_t ceil_mode : {0, 1}) {
      Module m;
      Builder b(m.add_function("main"));
      Value* x = b.input("x", {DType::F32, {2, 2, 7, 6}});
      AttrMap attrs = {{"kernel", std::vector<int64_t>{3, 2}},
                       {"strides", std::vector<int64_t>{2, 2}},
                       {"pads", std::vector<int64_t>{1, 0, 1, 1}},
                       {"dilations", std::vector<int64_t>{1, 2}},
                       {"ceil_mode", ceil_mode},
                       {"storage_order", order}};
      std::vector<Value*> results = b.create(OpKind::MaxPool, {x}, attrs, 2);
      ASSERT_TRUE(b.status().ok()) << b.status().error().str();
      b.output(results[1]);
      b.output(results[0]);
      SCOPED_TRACE(testing::Message() << "storage_order " << order << " ceil_mode " << ceil_mode);
      Tensor data = tie_tensor(DType::F32, {2, 2, 7, 6}, 47);
      data.set_double(8, kNaN);  // [0, 0, 1, 2]: wins its windows
      data.set_double(100, kNaN);
      // Schedules that reorder and tile the taps must not change which tie wins.
      check(m, {"", "order=[n,c,oh,ow,kw,kh] vectorize=ow:2", "tile=[kh:2] parallel=c"}, {data});
    }
  }
}

TEST(LowerOps, MaxPoolIndicesOnIntegersAndF16) {
  for (DType dtype : {DType::I16, DType::U8, DType::F16}) {
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {dtype, {1, 3, 5, 5}});
    std::vector<Value*> results = b.create(
        OpKind::MaxPool, {x}, {{"kernel", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}}, 2);
    ASSERT_TRUE(b.status().ok()) << b.status().error().str();
    b.output(b.op(OpKind::Add, {results[1], b.scalar(1, DType::I64)}));  // an epilogue on the indices
    SCOPED_TRACE(dtype_name(dtype));
    check(m, {"", "vectorize=ow:2"}, {tie_tensor(dtype, {1, 3, 5, 5}, 48)});
  }
}

TEST(LowerOps, SoftmaxAndLogSoftmax) {
  for (OpKind kind : {OpKind::Softmax, OpKind::LogSoftmax}) {
    for (int64_t axis : {-1, 1, 0}) {
      Module m;
      Builder b(m.add_function("main"));
      Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 4, 9}});
      b.output(b.op(kind, {x}, {{"axis", axis}}));
      ASSERT_TRUE(b.status().ok()) << b.status().error().str();
      SCOPED_TRACE(testing::Message() << op_info(kind).name << " axis " << axis);
      for (int64_t n : {1, 3}) {
        Tensor data = random_tensor(DType::F32, {n, 4, 9}, 49, -30, 30);
        data.set_double(0, -kInf);
        if (n > 1) {
          for (int64_t i = 9; i < 18; ++i) data.set_double(i, -kInf);  // a row of -inf gives NaN
          data.set_double(20, kNaN);
          data.set_double(30, kInf);
        }
        check(m, {"", "vectorize=d2:4 parallel=d0"}, {data});
      }
    }
  }
}

TEST(LowerOps, SoftmaxOn16BitFloatsRoundsOnce) {
  for (DType dtype : {DType::F16, DType::BF16, DType::F64}) {
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {dtype, {3, 11}});
    Value* y = b.softmax(x);
    b.output(y);
    b.output(b.op(OpKind::LogSoftmax, {b.op(OpKind::Mul, {y, x})}, {{"axis", int64_t{0}}}));
    ASSERT_TRUE(b.status().ok()) << b.status().error().str();
    SCOPED_TRACE(dtype_name(dtype));
    check(m, {"", "vectorize=d1:8"}, {random_tensor(dtype, {3, 11}, 50, -4, 4)});
  }
}

TEST(LowerOps, SoftmaxOfAMatMulAndZeroSizeRows) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 6}});
  Value* w = b.constant(random_tensor(DType::F32, {6, 5}, 51), "w");
  b.output(b.softmax(b.matmul(x, w)));
  ASSERT_TRUE(b.status().ok());
  for (int64_t n : {0, 4}) check(m, {"", "vectorize=d1:4"}, {random_tensor(DType::F32, {n, 6}, 52)});
}

TEST(LowerOps, LayerNormWithStatisticsResults) {
  for (DType dtype : {DType::F32, DType::F16}) {
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {dtype, {Dim::symbol("N"), 3, 8}});
    Value* scale = b.input("scale", {dtype, {8}});
    Value* bias = b.input("bias", {dtype, {3, 1}});
    std::vector<Value*> ln = b.create(OpKind::LayerNorm, {x, scale, bias}, {{"axis", int64_t{-2}}}, 3);
    ASSERT_TRUE(b.status().ok()) << b.status().error().str();
    b.output(ln[0]);
    b.output(ln[1]);
    b.output(ln[2]);
    b.output(b.layer_norm(x, nullptr, nullptr, -1, 0.5));
    SCOPED_TRACE(dtype_name(dtype));
    for (int64_t n : {1, 2})
      check(m, {"", "vectorize=d2:4"},
            {random_tensor(dtype, {n, 3, 8}, 53, -3, 3), random_tensor(dtype, {8}, 54),
             random_tensor(dtype, {3, 1}, 55)});
  }
}

TEST(LowerOps, ReduceLogSumExp) {
  for (int64_t keep : {0, 1}) {
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 4, 5}});
    b.output(b.reduce(OpKind::ReduceLogSumExp, x, {-1}, keep != 0));
    b.output(b.reduce(OpKind::ReduceLogSumExp, x, {0, 2}, keep != 0));
    b.output(b.reduce(OpKind::ReduceLogSumExp, x, {}, keep != 0));
    ASSERT_TRUE(b.status().ok()) << b.status().error().str();
    SCOPED_TRACE(testing::Message() << "keepdims " << keep);
    Tensor data = random_tensor(DType::F32, {2, 4, 5}, 56, -50, 50);
    for (int64_t i = 0; i < 5; ++i) data.set_double(i, -kInf);  // lse of -infs is -inf
    data.set_double(7, kInf);
    data.set_double(12, kNaN);
    check(m, {"", "parallel=d0"}, {data});
    check(m, {""}, {Tensor(DType::F32, {0, 4, 5})});
  }
  Module half;
  Builder h(half.add_function("main"));
  Value* y = h.input("y", {DType::F16, {3, 0}});
  Value* z = h.input("z", {DType::F16, {3, 6}});
  h.output(h.reduce(OpKind::ReduceLogSumExp, y, {1}));  // empty rows give -inf
  h.output(h.reduce(OpKind::ReduceLogSumExp, z, {1}, false));
  ASSERT_TRUE(h.status().ok()) << h.status().error().str();
  check(half, {""}, {Tensor(DType::F16, {3, 0}), random_tensor(DType::F16, {3, 6}, 57, -8, 8)});
}

TEST(LowerOps, ReflectAndWrapPads) {
  for (std::string mode : {"reflect", "wrap"}) {
    for (DType dtype : {DType::F32, DType::I32}) {
      Module m;
      Builder b(m.add_function("main"));
      Value* x = b.input("x", {dtype, {Dim::symbol("N"), 4, 5}});
      // Axis 0 pads past its size (several reflections), axis 2 crops one element before padding.
      b.output(b.op(OpKind::Pad, {x}, {{"pads", std::vector<int64_t>{5, 0, -1, 7, 1, 3}}, {"mode", mode}}));
      b.output(b.op(OpKind::Pad, {x}, {{"pads", std::vector<int64_t>{0, -2, 0, 0, 0, 0}}, {"mode", mode}}));
      ASSERT_TRUE(b.status().ok()) << b.status().error().str();
      SCOPED_TRACE(mode + " " + std::string(dtype_name(dtype)));
      for (int64_t n : {1, 3}) check(m, {"", "vectorize=d2:4"}, {random_tensor(dtype, {n, 4, 5}, 58)});
    }
  }
}

TEST(LowerOps, RangeAndShapeOf) {
  for (DType dtype : {DType::F32, DType::F16, DType::I8, DType::I64, DType::F64}) {
    Module m;
    Builder b(m.add_function("main"));
    Value* start = b.input("start", {dtype, {}});
    Value* limit = b.input("limit", {dtype, {}});
    Value* delta = b.input("delta", {dtype, {}});
    // Five elements: 0.25, 0.5, ..., 1.25 below 1.5; 3, 28, ..., 103 below 120.
    b.output(b.op(OpKind::Range, {start, limit, delta}, {{"size", Shape{5}}}));
    ASSERT_TRUE(b.status().ok()) << b.status().error().str();
    SCOPED_TRACE(dtype_name(dtype));
    bool fp = is_float(dtype);
    check(m, {"", "vectorize=d0:4"},
          {Tensor::from_doubles(dtype, {}, {fp ? 0.25 : 3}), Tensor::from_doubles(dtype, {}, {fp ? 1.5 : 120}),
           Tensor::from_doubles(dtype, {}, {fp ? 0.25 : 25})});
  }
  Module s;
  Builder b(s.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 3, Dim::symbol("K"), 0}});
  b.output(b.op(OpKind::ShapeOf, {x}));
  b.output(b.op(OpKind::ShapeOf, {x}, {{"start", int64_t{-3}}, {"end", int64_t{-1}}}));
  b.output(b.op(OpKind::ShapeOf, {x}, {{"start", int64_t{2}}, {"end", int64_t{1}}}));  // empty
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  check(s, {""}, {Tensor(DType::F32, {2, 3, 5, 0})});
}

TEST(LowerOps, ScatterElementsEveryReduction) {
  for (std::string reduction : {"none", "add", "mul", "max", "min"}) {
    for (DType dtype : {DType::F32, DType::I16, DType::F16, DType::Bool}) {
      Module m;
      Builder b(m.add_function("main"));
      Value* data = b.input("data", {dtype, {Dim::symbol("N"), 5}});
      Value* indices = b.input("indices", {DType::I64, {Dim::symbol("N"), 3}});
      Value* updates = b.input("updates", {dtype, {Dim::symbol("N"), 3}});
      Value* rows = b.input("rows", {DType::I32, {2, 5}});
      Value* row_updates = b.input("row_updates", {dtype, {2, 5}});
      // Axis 1 with repeated indices (the order of updates matters for none); axis 0 with negative ones.
      b.output(
          b.op(OpKind::ScatterElements, {data, indices, updates}, {{"axis", int64_t{-1}}, {"reduction", reduction}}));
      Value* small = b.input("small", {dtype, {3, 5}});
      b.output(b.op(OpKind::ScatterElements, {small, rows, row_updates}, {{"reduction", reduction}}));
      ASSERT_TRUE(b.status().ok()) << b.status().error().str();
      SCOPED_TRACE(reduction + " " + std::string(dtype_name(dtype)));
      for (int64_t n : {1, 3}) {
        std::vector<int64_t> idx;
        for (int64_t i = 0; i < n * 3; ++i) idx.push_back((i * 7 + 3) % 5 - (i % 2 ? 5 : 0));
        idx[0] = idx[1] = 2;
        Tensor index_tensor = Tensor::of<int64_t>({n, 3}, idx);
        Tensor row_indices = Tensor::of<int32_t>({2, 5}, {0, -1, 2, 1, 1, 2, -1, 0, 1, 1});
        check(m, {"", "vectorize=d1:4", "tile=[d1:2]"},
              {random_tensor(dtype, {n, 5}, 60), index_tensor, random_tensor(dtype, {n, 3}, 61), row_indices,
               random_tensor(dtype, {2, 5}, 62), random_tensor(dtype, {3, 5}, 63)});
      }
    }
  }
}

TEST(LowerOps, ConcatSkipsEmptyPieces) {
  // The split's empty second result is concatenated back (rotary-embedding models do this): reading it
  // even at a clamped index would be out of bounds.
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {2, 8}});
  Value* e = b.input("e", {DType::F32, {2, 0}});
  std::vector<Value*> parts = b.create(OpKind::Split, {x}, {{"axis", int64_t{1}}, {"sizes", Shape{8, 0}}}, 2);
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  b.output(b.concat({e, parts[0], parts[1]}, 1));
  b.output(b.concat({e, parts[1]}, 1));  // every piece empty
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  check(m, {"", "vectorize=d1:4"}, {random_tensor(DType::F32, {2, 8}, 64), Tensor(DType::F32, {2, 0})});
}

}  // namespace
}  // namespace tessel
