// Common-subexpression elimination on loop IR (ir/loop/Cse.cpp): repeated subexpressions of a statement
// become one let each (operands first), results are unchanged in the evaluator, loads guarded by a select
// arm stay in place, ramps stay visible as indices, and random expressions with shared subtrees evaluate
// bit for bit the same after the rewrite.
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ir/loop/Evaluator.h"
#include "ir/loop/Text.h"
#include "ir/loop/Transforms.h"

namespace tessel::loop {
namespace {

Kernel parse(const std::string& text) {
  auto k = parse_kernel(text);
  EXPECT_TRUE(k.ok()) << (k.ok() ? "" : k.error().str());
  return k.ok() ? *k : Kernel{};
}

/// Runs `k` and its CSE'd form on the same inputs; both must succeed and agree bit for bit.
Kernel expect_same_results(const Kernel& k, const std::vector<Tensor>& inputs) {
  Kernel shared = k;
  shared.body = cse(k.body);
  auto before = run_kernel(k, inputs);
  auto after = run_kernel(shared, inputs);
  EXPECT_TRUE(before.ok()) << (before.ok() ? "" : before.error().str());
  EXPECT_TRUE(after.ok()) << (after.ok() ? "" : after.error().str());
  if (before.ok() && after.ok()) {
    for (size_t i = 0; i < before->size(); ++i) EXPECT_TRUE((*before)[i].bitwise_equal((*after)[i])) << print(shared);
  }
  return shared;
}

Tensor iota_f32(int64_t n, float scale) {
  std::vector<float> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(static_cast<float>(i) * scale - 1.0f);
  return Tensor::of<float>({n}, v);
}

TEST(LoopCse, RepeatedLoadBecomesOneLet) {
  Kernel k = parse(R"(kernel k(in x: f32[9], out y: f32[8]) {
  for (i, 0, 8) {
    y[i] = ((x[(i + 1)] * x[(i + 1)]) + exp(x[(i + 1)]));
  }
}
)");
  Kernel shared = expect_same_results(k, {iota_f32(9, 0.25f)});
  // The load is bound once; its index (i + 1) is then computed once, inside the let's value, so it stays.
  EXPECT_EQ(print(shared.body),
            "for (i, 0, 8) {\n"
            "  let cse0 = x[(i + 1)];\n"
            "  y[i] = ((cse0 * cse0) + exp(cse0));\n"
            "}\n");
}

TEST(LoopCse, NestedSubexpressionsBindOperandsFirst) {
  // (i * 3) is used by the index and by the cast; the cast is used twice: two lets, the operand outermost.
  Kernel k = parse(R"(kernel k(out y: f32[8]) {
  for (i, 0, 8) {
    y[((i * 3) % 8)] = (cast<f32>((i * 3)) * cast<f32>((i * 3)));
  }
}
)");
  Kernel shared = expect_same_results(k, {});
  EXPECT_EQ(print(shared.body),
            "for (i, 0, 8) {\n"
            "  let cse0 = (i * 3);\n"
            "  let cse1 = cast<f32>(cse0);\n"
            "  y[(cse0 % 8)] = (cse1 * cse1);\n"
            "}\n");
  // y[(3i) % 8] = (3i)^2: i = 3 writes y[1] = 81, i = 5 writes y[7] = 225.
  auto out = run_kernel(shared, {});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].get_double(1), 81.0);
  EXPECT_EQ((*out)[0].get_double(7), 225.0);
}

TEST(LoopCse, LoadsUnderASelectArmAreNotHoisted) {
  // x[(i - 1)] is read only where i > 0 chooses it: binding it (or the sum holding it) would read x[-1].
  // Its index cannot trap.
  Kernel k = parse(R"(kernel k(in x: f32[8], out y: f32[8]) {
  for (i, 0, 8) {
    y[i] = select((i > 0), (x[(i - 1)] + x[(i - 1)]), 0.0:f32);
  }
}
)");
  Stmt shared = cse(k.body);
  EXPECT_EQ(print(shared),
            "for (i, 0, 8) {\n"
            "  let cse0 = (i - 1);\n"
            "  y[i] = select((i > 0), (x[cse0] + x[cse0]), 0.0:f32);\n"
            "}\n");
  // The same load also read unconditionally may be bound: it is evaluated anyway.
  Kernel unguarded = parse(R"(kernel k(in x: f32[8], out y: f32[8]) {
  for (i, 0, 8) {
    y[i] = (x[i] + select((i > 0), x[i], 1.0:f32));
  }
}
)");
  Kernel bound = expect_same_results(unguarded, {iota_f32(8, 0.5f)});
  EXPECT_EQ(print(bound.body),
            "for (i, 0, 8) {\n"
            "  let cse0 = x[i];\n"
            "  y[i] = (cse0 + select((i > 0), cse0, 1.0:f32));\n"
            "}\n");
  // What a select arm computes from loads that are read anyway cannot trap: bound too.
  Kernel read_anyway = parse(R"(kernel k(in x: f32[8], out y: f32[8]) {
  for (i, 0, 8) {
    y[i] = (x[i] + select((i > 0), (exp(x[i]) * exp(x[i])), 1.0:f32));
  }
}
)");
  EXPECT_EQ(print(expect_same_results(read_anyway, {iota_f32(8, 0.5f)}).body),
            "for (i, 0, 8) {\n"
            "  let cse0 = x[i];\n"
            "  let cse1 = exp(cse0);\n"
            "  y[i] = (cse0 + select((i > 0), (cse1 * cse1), 1.0:f32));\n"
            "}\n");
  // Only the condition of a select is unguarded: a load in the condition and in an arm is bound.
  Kernel cond = parse(R"(kernel k(in x: f32[8], out y: f32[8]) {
  for (i, 0, 8) {
    y[i] = select((x[i] > 0.0:f32), x[i], 0.0:f32);
  }
}
)");
  EXPECT_THAT(print(expect_same_results(cond, {iota_f32(8, 0.5f)}).body), ::testing::HasSubstr("let cse0 = x[i];"));
}

TEST(LoopCse, IfBranchesKeepTheirLetsInside) {
  // The condition's repeated load goes before the if; the branch's store gets its let inside the branch,
  // where the condition holds (x[(i - 1)] with i = 0 would be out of bounds).
  Kernel k = parse(R"(kernel k(in x: f32[8], out y: f32[8]) {
  for (i, 0, 8) {
    if (((x[i] > 0.0:f32) && (x[i] < 2.0:f32))) {
      if ((i > 0)) {
        y[i] = (x[(i - 1)] * x[(i - 1)]);
      }
    }
  }
}
)");
  Kernel shared = expect_same_results(k, {iota_f32(8, 0.5f)});
  EXPECT_EQ(print(shared.body),
            "for (i, 0, 8) {\n"
            "  let cse0 = x[i];\n"
            "  if (((cse0 > 0.0:f32) && (cse0 < 2.0:f32))) {\n"
            "    if ((i > 0)) {\n"
            "      let cse1 = x[(i - 1)];\n"
            "      y[i] = (cse1 * cse1);\n"
            "    }\n"
            "  }\n"
            "}\n");
}

TEST(LoopCse, VectorValuesAndRampIndices) {
  // After vectorization: the ramp index stays a ramp (codegen's dense access), its base is bound, and the
  // vector load becomes a vector let.
  Kernel k = parse(R"(kernel k(in x: f32[16], out y: f32[16]) {
  for (o, 0, 2) {
    y[ramp((o * 8), 1, 8)] = (x[ramp((o * 8), 1, 8)] * x[ramp((o * 8), 1, 8)]);
  }
}
)");
  Kernel shared = expect_same_results(k, {iota_f32(16, 0.5f)});
  EXPECT_EQ(print(shared.body),
            "for (o, 0, 2) {\n"
            "  let cse0 = (o * 8);\n"
            "  let cse1 = x[ramp(cse0, 1, 8)];\n"
            "  y[ramp(cse0, 1, 8)] = (cse1 * cse1);\n"
            "}\n");
  // The vectorizer's output for a scalar loop goes through CSE the same way.
  Kernel scalar = parse(R"(kernel k(in x: f32[16], out y: f32[16]) {
  for (o, 0, 2) {
    vectorized for (v, 0, 8) {
      y[((o * 8) + v)] = (exp(x[((o * 8) + v)]) + exp(x[((o * 8) + v)]));
    }
  }
}
)");
  scalar.body = simplify(vectorize_loops(scalar.body));
  Kernel vector = expect_same_results(scalar, {iota_f32(16, 0.5f)});
  EXPECT_EQ(print(vector.body),
            "for (o, 0, 2) {\n"
            "  let cse0 = (o * 8);\n"
            "  let cse1 = exp(x[ramp(cse0, 1, 8)]);\n"
            "  y[ramp(cse0, 1, 8)] = (cse1 + cse1);\n"
            "}\n");
}

TEST(LoopCse, NothingSharedLeavesTheStatementAndNamesAreFresh) {
  Kernel k = parse(R"(kernel k(in x: f32[8], out y: f32[8]) {
  for (i, 0, 8) {
    y[i] = (x[i] + 1.0:f32);
  }
}
)");
  EXPECT_EQ(cse(k.body), k.body);  // the same node: nothing was rebuilt
  // A kernel that already uses the name cse0 gets cse1.
  Kernel taken = parse(R"(kernel k(in x: f32[8], out y: f32[8]) {
  for (cse0, 0, 8) {
    y[cse0] = (x[cse0] * x[cse0]);
  }
}
)");
  Kernel shared = expect_same_results(taken, {iota_f32(8, 0.5f)});
  EXPECT_EQ(print(shared.body),
            "for (cse0, 0, 8) {\n"
            "  let cse1 = x[cse0];\n"
            "  y[cse0] = (cse1 * cse1);\n"
            "}\n");
}

// Random expressions whose subtrees are reused (as inlining reuses producers): CSE never changes a bit.
Expr random_shared_expr(std::mt19937& rng, std::vector<Expr>& pool, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  if (!pool.empty() && pick(3) == 0) return pool[static_cast<size_t>(pick(static_cast<int>(pool.size())))];
  Expr e;
  if (depth == 0 || pick(4) == 0) {
    switch (pick(3)) {
      case 0: e = float_imm(pick(16) / 4.0 - 2, DType::F32); break;
      case 1: e = cast(Type{DType::F32}, var("i")); break;
      default: e = load("x", DType::F32, (var("i") * int_imm(pick(3))) % int_imm(8)); break;
    }
  } else {
    Expr a = random_shared_expr(rng, pool, depth - 1), b = random_shared_expr(rng, pool, depth - 1);
    switch (pick(5)) {
      case 0: e = a + b; break;
      case 1: e = a * b; break;
      case 2: e = select(a < b, a, b - a); break;
      case 3: e = call(Intrinsic::Tanh, {a}); break;
      default: e = max(a, b); break;
    }
  }
  pool.push_back(e);
  return e;
}

TEST(LoopCse, RandomSharedExpressionsEvaluateTheSame) {
  std::mt19937 rng(11);
  int with_lets = 0;
  for (int n = 0; n < 200; ++n) {
    std::vector<Expr> pool;
    Expr value = random_shared_expr(rng, pool, 5);
    // Rebuild by text, so that equal subtrees are distinct nodes (what lowering produces).
    Kernel k =
        parse("kernel r(in x: f32[8], out y: f32[8]) {\n  for (i, 0, 8) {\n    y[i] = " + print(value) + ";\n  }\n}\n");
    ASSERT_TRUE(k.body);
    Kernel shared = expect_same_results(k, {iota_f32(8, 0.75f)});
    with_lets += shared.body != k.body;
  }
  EXPECT_GT(with_lets, 100);  // most random trees repeat something
}

}  // namespace
}  // namespace tessel::loop
