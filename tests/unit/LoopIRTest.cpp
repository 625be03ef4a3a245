// Loop IR: text round trip (hand-written kernels and random expressions), parse errors, the simplifier,
// the vectorizer and the evaluator's semantics.
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ir/loop/Evaluator.h"
#include "ir/loop/Text.h"
#include "ir/loop/Transforms.h"

namespace tessel::loop {
namespace {

using ::testing::HasSubstr;

const char* kSaxpy = R"(kernel saxpy(in x: f32[N, 37], in y: f32[37], const a: f32[] = "alpha", out z: f32[N, 37]) {
  parallel for (n, 0, N) {
    for (i.o, 0, 4) {
      z[ramp(((n * 37) + (i.o * 8)), 1, 8)] = ((broadcast(a[0], 8) * x[ramp(((n * 37) + (i.o * 8)), 1, 8)]) + y[ramp((i.o * 8), 1, 8)]);
    }
    for (i, 32, 5) {
      let t = (a[0] * x[((n * 37) + i)]);
      z[((n * 37) + i)] = select((t > 0.0:f32), (t + y[i]), max(t, -inf:f32));
    }
  }
}
)";

TEST(LoopIR, KernelTextRoundTrips) {
  auto k = parse_kernel(kSaxpy);
  ASSERT_TRUE(k.ok()) << k.error().str();
  EXPECT_EQ(print(*k), kSaxpy);
  EXPECT_EQ(k->params(), std::vector<std::string>{"N"});
  const char* allocs = R"(kernel k(in x: f32[(N+1)/2, 2*N], out y: i8[4]) {
  allocate acc: f32[4] local {
    unrolled for (j, 0, 4) {
      acc[j] = cast<f32>(j);
    }
    gpu_block for (b, 0, 1) {
      gpu_thread for (t, 0, 4) {
        if (((t % 2) == 1)) {
          y[t] = cast<i8>(acc[t]);
        } else {
          y[t] = (-3:i8 + cast<i8>(exp(acc[t])));
        }
      }
    }
  }
}
)";
  auto k2 = parse_kernel(allocs);
  ASSERT_TRUE(k2.ok()) << k2.error().str();
  EXPECT_EQ(print(*k2), allocs);
  EXPECT_EQ(k2->buffers[0].shape[0].str(), "(N+1)/2");
}

// Random well-typed expressions over a few variables print, parse and print to the same text.
Expr random_expr(std::mt19937& rng, int depth, DType dtype) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  if (depth == 0 || pick(4) == 0) {
    switch (pick(3)) {
      case 0: return is_float(dtype) ? float_imm(pick(100) / 8.0 - 5, dtype) : int_imm(pick(100) - 50, dtype);
      case 1: return dtype == DType::I64 ? var("i") : cast(Type{dtype}, var("i"));
      default: return load(dtype == DType::F32 ? "f" : "g", dtype, var("i"));
    }
  }
  Expr a = random_expr(rng, depth - 1, dtype), b = random_expr(rng, depth - 1, dtype);
  switch (pick(6)) {
    case 0: return binary(static_cast<BinOp>(pick(7)), a, b);
    case 1: return select(binary(static_cast<BinOp>(7 + pick(6)), a, b), a, b);
    case 2: return is_float(dtype) ? call(Intrinsic::Exp, {a}) : call(Intrinsic::Abs, {a});
    case 3: return cast(Type{dtype}, cast(Type{is_float(dtype) ? DType::I32 : DType::F64}, a));
    case 4: return max(a, b);
    default: return min(a, b);
  }
}

TEST(LoopIR, RandomExpressionsRoundTrip) {
  std::mt19937 rng(7);
  std::map<std::string, Type> scope = {{"i", i64_type()}};
  for (int n = 0; n < 300; ++n) {
    Expr e = random_expr(rng, 4, n % 2 ? DType::F32 : DType::I64);
    std::string text = print(e);
    std::string kernel_text = "kernel r(in f: f32[8], in g: i64[8], out o: " + std::string(dtype_name(e->type.elem)) +
                              "[1]) {\n  for (i, 0, 1) {\n    o[i] = " + text + ";\n  }\n}\n";
    auto k = parse_kernel(kernel_text);
    ASSERT_TRUE(k.ok()) << text << "\n" << k.error().str();
    EXPECT_EQ(print(*k), kernel_text);
  }
}

TEST(LoopIR, ParseErrorsHaveLineColumnAndReason) {
  auto bad_type = parse_kernel("kernel k(out y: f32[4]) {\n  y[0] = 1;\n}\n");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_THAT(bad_type.error().str(), HasSubstr("store of i64 into y needs f32"));
  auto unknown = parse_kernel("kernel k(out y: f32[4]) {\n  for (i, 0, 4) {\n    y[j] = 1.0:f32;\n  }\n}\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().location, "<loops>:3:7");
  EXPECT_THAT(unknown.error().str(), HasSubstr("unknown variable 'j'"));
  auto mixed = parse_expr("(i + 1.0:f32)", {{"i", i64_type()}});
  ASSERT_FALSE(mixed.ok());
  EXPECT_THAT(mixed.error().str(), HasSubstr("operands of '+' differ in type (i64 and f32)"));
  EXPECT_THAT(parse_kernel("kernel k(inout y: f32[4]) {}").error().str(), HasSubstr("unknown buffer role 'inout'"));
  EXPECT_THAT(parse_expr("ramp(0, 1, 1)").error().str(), HasSubstr("lane count must be in [2, 1024]"));
}

TEST(LoopIR, SimplifierFoldsAndRemovesIdentities) {
  std::map<std::string, Type> scope = {{"x", i64_type()}, {"f", Type{DType::F32}}};
  auto simp = [&](const std::string& text) { return print(simplify(*parse_expr(text, scope))); };
  EXPECT_EQ(simp("((x * 1) + 0)"), "x");
  EXPECT_EQ(simp("((x + 3) + 4)"), "(x + 7)");
  EXPECT_EQ(simp("(2 * (3 + 4))"), "14");
  EXPECT_EQ(simp("(x * 0)"), "0");
  EXPECT_EQ(simp("(f * 1.0:f32)"), "f");
  EXPECT_EQ(simp("(f + 0.0:f32)"), "(f + 0.0:f32)");  // -0.0 + 0.0 is +0.0: not an identity for floats
  EXPECT_EQ(simp("(7 / 0)"), "0");                    // integer division by zero gives 0
  EXPECT_EQ(simp("(100:i8 + 100:i8)"), "-56:i8");     // wraps
  EXPECT_EQ(simp("select((1 < 2), x, 5)"), "x");
  EXPECT_EQ(simp("(broadcast(x, 4) + ramp(0, 1, 4))"), "ramp(x, 1, 4)");
  EXPECT_EQ(simp("(ramp(x, 1, 4) * broadcast(3, 4))"), "ramp((x * 3), 3, 4)");
  auto k = parse_kernel(R"(kernel k(out y: f32[4]) {
  for (i, 0, 0) {
    y[i] = 1.0:f32;
  }
  for (j, 2, 1) {
    if ((j < 3)) {
      y[(j + 1)] = 2.0:f32;
    }
  }
}
)");
  ASSERT_TRUE(k.ok()) << k.error().str();
  EXPECT_EQ(print(simplify(k->body)), "y[3] = 2.0:f32;\n");
}

TEST(LoopIR, VectorizerWidensStraightLineLoops) {
  auto k = parse_kernel(R"(kernel k(in x: f32[16], in s: f32[], out y: f32[16]) {
  for (o, 0, 2) {
    vectorized for (v, 0, 8) {
      let t = (x[((o * 8) + v)] * s[0]);
      y[((o * 8) + v)] = max(t, 0.0:f32);
    }
  }
}
)");
  ASSERT_TRUE(k.ok()) << k.error().str();
  Stmt v = simplify(vectorize_loops(k->body));
  EXPECT_EQ(print(v),
            "for (o, 0, 2) {\n"
            "  let t = (x[ramp((o * 8), 1, 8)] * broadcast(s[0], 8));\n"
            "  y[ramp((o * 8), 1, 8)] = max(t, broadcast(0.0:f32, 8));\n"
            "}\n");
  // Same results as the scalar loop.
  Tensor x = Tensor::of<float>({16}, {-4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  Tensor s = Tensor::of<float>({}, {0.5f});
  Kernel vk = *k;
  vk.body = v;
  auto scalar = run_kernel(*k, {x, s});
  auto vector = run_kernel(vk, {x, s});
  ASSERT_TRUE(scalar.ok() && vector.ok());
  EXPECT_TRUE((*scalar)[0].bitwise_equal((*vector)[0]));
  EXPECT_EQ((*vector)[0].get_double(15), 5.5);  // 11 * 0.5
  EXPECT_EQ((*vector)[0].get_double(0), 0.0);   // max(-2, 0)
}

TEST(LoopIR, PrefetchIsAHintThatRoundTripsAndComputesNothing) {
  // Past the end of x: a prefetch reads nothing, so the evaluator neither fails nor changes y. A buffer
  // may still be called `prefetch`; the statement is told apart by its parenthesis.
  const char* text = R"(kernel k(in x: f32[4], out prefetch: f32[4]) {
  for (i, 0, 4) {
    prefetch(x[(i + 16)]);
    vectorized for (v, 0, 4) {
      prefetch(x[(v * 2)]);
    }
    prefetch[i] = (x[i] * 2.0:f32);
  }
}
)";
  auto k = parse_kernel(text);
  ASSERT_TRUE(k.ok()) << k.error().str();
  EXPECT_EQ(print(*k), text);
  auto r = run_kernel(*k, {Tensor::of<float>({4}, {1, 2, 3, 4})});
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ((*r)[0].get_double(3), 8.0);
  // The vectorizer keeps the first lane's line of a prefetch inside a vector loop.
  EXPECT_THAT(print(simplify(vectorize_loops(k->body))), HasSubstr("  prefetch(x[0]);\n  prefetch[i]"));
  EXPECT_THAT(parse_kernel("kernel k(in x: f32[4]) {\n  prefetch(z[0]);\n}\n").error().str(),
              HasSubstr("unknown buffer 'z'"));
  EXPECT_THAT(parse_kernel("kernel k(in x: f32[4]) {\n  prefetch(x[1.0:f32]);\n}\n").error().str(),
              HasSubstr("a prefetch index must be a scalar i64"));
}

TEST(LoopIR, EvaluatorSemantics) {
  std::map<std::string, Type> scope;
  auto value = [&](const std::string& text) {
    auto e = parse_expr(text, scope);
    EXPECT_TRUE(e.ok()) << text << (e.ok() ? "" : e.error().str());
    auto folded = fold_constant(*e);
    EXPECT_TRUE(folded.has_value()) << text;
    return folded ? print(*folded) : "";
  };
  EXPECT_EQ(value("(-7:i32 / 2:i32)"), "-3:i32");                     // truncates toward zero
  EXPECT_EQ(value("(-7:i32 % 2:i32)"), "-1:i32");                     // sign of the dividend
  EXPECT_EQ(value("(-2147483648:i32 / -1:i32)"), "-2147483648:i32");  // wraps
  EXPECT_EQ(value("(5:u8 - 6:u8)"), "255:u8");
  EXPECT_EQ(value("min(nan:f32, 1.0:f32)"), "nan:f32");  // NaN propagates
  EXPECT_EQ(value("cast<i8>(300.7:f32)"), "127:i8");     // saturates
  EXPECT_EQ(value("cast<i32>(nan:f64)"), "0:i32");
  EXPECT_EQ(value("cast<bool>(0.5:f32)"), "true");
  EXPECT_EQ(value("(1.0:f32 / 3.0:f32)"), "0.33333334:f32");  // rounded to f32
  EXPECT_EQ(value("(1.0:f16 / 3.0:f16)"), "0.33325195:f16");  // 1365/4096, the nearest f16
  EXPECT_EQ(value("pow(2:i32, 31:i32)"), "-2147483648:i32");
  // Out-of-bounds accesses are errors, not crashes.
  auto k = parse_kernel("kernel k(in x: f32[4], out y: f32[4]) {\n  for (i, 0, 4) {\n    y[i] = x[(i + 1)];\n  }\n}\n");
  ASSERT_TRUE(k.ok());
  auto r = run_kernel(*k, {Tensor::of<float>({4}, {1, 2, 3, 4})});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().str(), HasSubstr("load out of bounds: x[4] with 4 elements"));
  auto wrong = run_kernel(*k, {Tensor::of<float>({5}, {1, 2, 3, 4, 5})});
  ASSERT_FALSE(wrong.ok());
}

}  // namespace
}  // namespace tessel::loop
