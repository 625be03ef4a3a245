// Interpreter tests for the ml family. tree_ensemble: every branch mode on a one-split tree, NaN routing,
// a hand-built two-tree, two-target ensemble under each aggregate function, base values and post
// transforms, input dtypes, zero rows, symbolic N, and the malformed-attribute errors of the shape rule.
// pairwise_coupling: two and three classes against libsvm's algorithm, zero and symbolic rows, errors.
#include <cmath>
#include <limits>

#include <gmock/gmock.h>

#include "InterpTestUtil.h"
#include "TreeEnsembleTestUtil.h"

namespace tessel {
namespace {

using namespace tessel::testing;
using namespace tessel::tree_test;
using ::testing::HasSubstr;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// ensemble, one_split and two_trees (tests/unit/TreeEnsembleTestUtil.h): two_trees is
// Tree 0: x0 <= 1 ? leaf 1 {t0: 1, t1: -1} : (x1 < 0.5, NaN -> true) ? leaf 3 {t0: 4} : leaf 4 {t0: 8, t1: 2}.
// Tree 1 (root id 10): x1 >= 2 ? leaf 11 {t1: 3} : leaf 12 {t0: 0.5}.

// Rows and the leaves they reach:
//   [0.5, 9]   -> leaf 1 and leaf 11: t0 {1},      t1 {-1, 3}
//   [3, 0]     -> leaf 3 and leaf 12: t0 {4, 0.5}, t1 {}
//   [3, NaN]   -> NaN tracks true at node 2 -> leaf 3; NaN at node 10 (tracks false) -> leaf 12: as the row above
//   [NaN, 1]   -> NaN at node 0 (tracks false) -> node 2 -> leaf 4; leaf 12: t0 {8, 0.5}, t1 {2}
Tensor rows() { return T(DType::F32, {4, 2}, {0.5, 9, 3, 0, 3, kNaN, kNaN, 1}); }

std::string error_of(const Tensor& x, AttrMap attrs) {
  auto results = run_op(OpKind::TreeEnsemble, {x}, std::move(attrs));
  return results.ok() ? "(no error)" : results.error().str();
}

TEST(InterpMl, EveryBranchMode) {
  // x = 0.5 (below), 1.0 (equal), 1.5 (above), NaN (false branch unless missing tracks true).
  Tensor x = T(DType::F32, {4, 1}, {0.5, 1.0, 1.5, kNaN});
  std::vector<std::pair<std::string, std::vector<double>>> cases = {
      {"BRANCH_LEQ", {1, 1, 2, 2}}, {"BRANCH_LT", {1, 2, 2, 2}}, {"BRANCH_GTE", {2, 1, 1, 2}},
      {"BRANCH_GT", {2, 2, 1, 2}},  {"BRANCH_EQ", {2, 1, 2, 2}}, {"BRANCH_NEQ", {1, 2, 1, 2}}};
  for (const auto& [mode, expected] : cases) {
    SCOPED_TRACE(mode);
    expect_tensor(run1(OpKind::TreeEnsemble, {x}, one_split(mode)), DType::F32, {4, 1}, expected);
    std::vector<double> nan_true = expected;
    nan_true[3] = 1;
    expect_tensor(run1(OpKind::TreeEnsemble, {x}, one_split(mode, 1)), DType::F32, {4, 1}, nan_true);
  }
}

TEST(InterpMl, AggregateFunctions) {
  expect_tensor(run1(OpKind::TreeEnsemble, {rows()}, two_trees()), DType::F32, {4, 2}, {1, 2, 4.5, 0, 4.5, 0, 8.5, 2});
  // AVERAGE divides the sums by the number of trees, 2.
  expect_tensor(run1(OpKind::TreeEnsemble, {rows()}, two_trees({{"aggregate_function", "AVERAGE"}})), DType::F32,
                {4, 2}, {0.5, 1, 2.25, 0, 2.25, 0, 4.25, 1});
  // MIN / MAX over each target's entries; a target no leaf reaches scores 0.
  expect_tensor(run1(OpKind::TreeEnsemble, {rows()}, two_trees({{"aggregate_function", "MIN"}})), DType::F32, {4, 2},
                {1, -1, 0.5, 0, 0.5, 0, 0.5, 2});
  expect_tensor(run1(OpKind::TreeEnsemble, {rows()}, two_trees({{"aggregate_function", "MAX"}})), DType::F32, {4, 2},
                {1, 3, 4, 0, 4, 0, 8, 2});
}

TEST(InterpMl, BaseValuesAfterAggregation) {
  // AVERAGE then + [10, 20]: row 0 is [0.5 + 10, 1 + 20].
  AttrMap attrs = two_trees({{"aggregate_function", "AVERAGE"}, {"base_values", std::vector<double>{10, 20}}});
  expect_tensor(run1(OpKind::TreeEnsemble, {rows()}, attrs), DType::F32, {4, 2},
                {10.5, 21, 12.25, 20, 12.25, 20, 14.25, 21});
  // MIN: the unreached target of row 1 is 0 + 20.
  attrs = two_trees({{"aggregate_function", "MIN"}, {"base_values", std::vector<double>{10, 20}}});
  expect_tensor(run1(OpKind::TreeEnsemble, {rows()}, attrs), DType::F32, {4, 2},
                {11, 19, 10.5, 20, 10.5, 20, 10.5, 22});
}

TEST(InterpMl, PostTransforms) {
  // SUM scores: [1, 2], [4.5, 0], [4.5, 0], [8.5, 2].
  double e = std::exp(1.0);
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  expect_tensor(run1(OpKind::TreeEnsemble, {rows()}, two_trees({{"post_transform", "LOGISTIC"}})), DType::F32, {4, 2},
                {sig(1), sig(2), sig(4.5), 0.5, sig(4.5), 0.5, sig(8.5), sig(2)});
  // softmax([a, b]) = [1 / (1 + e^(b-a)), 1 / (1 + e^(a-b))].
  auto soft = [](double a, double b) { return std::pair{1 / (1 + std::exp(b - a)), 1 / (1 + std::exp(a - b))}; };
  auto [s0, s1] = soft(1, 2);
  auto [t0, t1] = soft(4.5, 0);
  auto [u0, u1] = soft(8.5, 2);
  EXPECT_NEAR(s0, 1 / (1 + e), 1e-12);
  expect_tensor(run1(OpKind::TreeEnsemble, {rows()}, two_trees({{"post_transform", "SOFTMAX"}})), DType::F32, {4, 2},
                {s0, s1, t0, t1, t0, t1, u0, u1});
  // SOFTMAX_ZERO: the zero scores of rows 1 and 2 stay 0; the other entry takes all the mass.
  expect_tensor(run1(OpKind::TreeEnsemble, {rows()}, two_trees({{"post_transform", "SOFTMAX_ZERO"}})), DType::F32,
                {4, 2}, {s0, s1, 1, 0, 1, 0, u0, u1});
}

// A tree that is a single leaf; base values make the scores [0.5, 0.975, 0.025, 1.5, 0, 1]. PROBIT is the
// inverse normal CDF: Phi^-1(0.975) = 1.959963985 (the 95% two-sided z value); outside [0, 1] it is NaN.
TEST(InterpMl, ProbitOnSingleLeafTree) {
  AttrMap attrs =
      ensemble({{0, 0, "LEAF"}}, {{0, 0, 0, 0.25}, {0, 0, 1, 0.5}}, 6,
               {{"base_values", std::vector<double>{0.25, 0.475, 0.025, 1.5, 0, 1}}, {"post_transform", "PROBIT"}});
  double inf = std::numeric_limits<double>::infinity();
  expect_tensor(run1(OpKind::TreeEnsemble, {T(DType::F32, {1, 0}, {})}, attrs), DType::F32, {1, 6},
                {0, 1.959963985, -1.959963985, kNaN, -inf, inf}, 1e-6);
}

TEST(InterpMl, InputDtypes) {
  // Integer features: [1, 9] -> [1, 2]; [3, 0] -> [4.5, 0] (see rows()).
  for (DType dtype : {DType::I64, DType::I32, DType::F64}) {
    SCOPED_TRACE(dtype_name(dtype));
    expect_tensor(run1(OpKind::TreeEnsemble, {T(dtype, {2, 2}, {1, 9, 3, 0})}, two_trees()), DType::F32, {2, 2},
                  {1, 2, 4.5, 0});
  }
}

// Thresholds are rounded to f32 before comparing: an f32 feature 0.1f equals the rounded threshold, the
// f64 feature 0.1 does not (0.1 != 0.100000001490116).
TEST(InterpMl, ThresholdsCompareInFloat) {
  AttrMap attrs = ensemble({{0, 0, "BRANCH_EQ", 0, 0.1, 1, 2}, {0, 1, "LEAF"}, {0, 2, "LEAF"}},
                           {{0, 1, 0, 1.0}, {0, 2, 0, 2.0}}, 1);
  expect_tensor(run1(OpKind::TreeEnsemble, {T(DType::F32, {1, 1}, {0.1})}, attrs), DType::F32, {1, 1}, {1});
  expect_tensor(run1(OpKind::TreeEnsemble, {T(DType::F64, {1, 1}, {0.1})}, attrs), DType::F32, {1, 1}, {2});
}

TEST(InterpMl, ZeroRows) {
  expect_tensor(run1(OpKind::TreeEnsemble, {T(DType::F32, {0, 2}, {})}, two_trees()), DType::F32, {0, 2}, {});
}

TEST(InterpMl, SymbolicRows) {
  Module module;
  Builder b(module.add_function("main"));
  Value* x = b.input("x", {DType::F64, {Dim::symbol("N"), 2}});
  Value* y = b.op(OpKind::TreeEnsemble, {x}, two_trees());
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  EXPECT_EQ(y->type().str(), "f32[N, 2]");
  // With a symbolic feature count the feature ids are checked when the op runs.
  Value* z = b.input("z", {DType::F32, {Dim::symbol("N"), Dim::symbol("F")}});
  b.output(b.op(OpKind::TreeEnsemble, {z}, two_trees()));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  auto result = interpret(*module.entry(), {T(DType::F64, {1, 2}, {0, 0}), T(DType::F32, {1, 1}, {0})});
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().str(), HasSubstr("a node reads feature 1, but X has 1 features (f32[1, 1])"));
}

TEST(InterpMl, MalformedNodeArrays) {
  Tensor x = T(DType::F32, {1, 2}, {0, 0});
  AttrMap attrs = one_split("BRANCH_LEQ");
  attrs.insert_or_assign("nodes_values", std::vector<double>{1.0, 0.0});
  EXPECT_THAT(error_of(x, attrs), HasSubstr("nodes_values has 2 values but nodes_treeids has 3; every nodes_* array "
                                            "needs one value per node"));
  attrs = one_split("BRANCH_LEQ");
  attrs.insert_or_assign("nodes_missing_value_tracks_true", std::vector<int64_t>{0});
  EXPECT_THAT(error_of(x, attrs), HasSubstr("nodes_missing_value_tracks_true has 1 values but there are 3 nodes"));
  EXPECT_THAT(error_of(x, one_split("BRANCH_LEQ", 2)),
              HasSubstr("nodes_missing_value_tracks_true[0] is 2; it must be 0 or 1"));
  EXPECT_THAT(error_of(x, one_split("BRANCH_FOO")),
              HasSubstr("nodes_modes[0] is 'BRANCH_FOO'; expected one of BRANCH_LEQ, BRANCH_LT"));
  EXPECT_THAT(error_of(x, ensemble({{0, 0, "BRANCH_LEQ", 0, 1.0, 1, 7}, {0, 1, "LEAF"}}, {}, 1)),
              HasSubstr("node (tree 0, id 0) has false child id 7, which tree 0 does not define"));
  // A child must be in the same tree.
  EXPECT_THAT(error_of(x, ensemble({{0, 0, "BRANCH_LEQ", 0, 1.0, 1, 1}, {1, 1, "LEAF"}}, {}, 1)),
              HasSubstr("has true child id 1, which tree 0 does not define"));
  EXPECT_THAT(error_of(x, ensemble({{0, 0, "LEAF"}, {0, 0, "LEAF"}}, {}, 1)),
              HasSubstr("node (tree 0, id 0) is defined twice"));
  EXPECT_THAT(error_of(x, ensemble({{0, 0, "BRANCH_LEQ", 5, 1.0, 1, 1}, {0, 1, "LEAF"}}, {}, 1)),
              HasSubstr("a node reads feature 5, but X has 2 features (f32[1, 2])"));
  EXPECT_THAT(error_of(x, ensemble({{0, 0, "BRANCH_LEQ", -1, 1.0, 1, 1}, {0, 1, "LEAF"}}, {}, 1)),
              HasSubstr("node (tree 0, id 0) reads feature -1; feature ids must be >= 0"));
  EXPECT_THAT(error_of(x, ensemble({}, {}, 1)), HasSubstr("the ensemble needs at least one tree"));
}

TEST(InterpMl, MalformedTargetsAndSettings) {
  Tensor x = T(DType::F32, {1, 2}, {0, 0});
  AttrMap attrs = one_split("BRANCH_LEQ");
  attrs.insert_or_assign("target_weights", std::vector<double>{1.0});
  EXPECT_THAT(error_of(x, attrs), HasSubstr("target_treeids, target_nodeids, target_ids and target_weights must have "
                                            "equal lengths, got 2, 2, 2 and 1"));
  EXPECT_THAT(error_of(x, ensemble({{0, 0, "LEAF"}}, {{0, 3, 0, 1.0}}, 1)),
              HasSubstr("target entry 0 names node (tree 0, id 3), which nodes_* do not define"));
  EXPECT_THAT(error_of(x, ensemble({{0, 0, "BRANCH_LEQ", 0, 1.0, 1, 1}, {0, 1, "LEAF"}}, {{0, 0, 0, 1.0}}, 1)),
              HasSubstr("target entry 0 names node (tree 0, id 0), which is not a LEAF"));
  EXPECT_THAT(error_of(x, ensemble({{0, 0, "LEAF"}}, {{0, 0, 2, 1.0}}, 2)),
              HasSubstr("target_ids[0] is 2, outside [0, n_targets = 2)"));
  EXPECT_THAT(error_of(x, ensemble({{0, 0, "LEAF"}}, {}, 0)), HasSubstr("n_targets must be at least 1, got 0"));
  EXPECT_THAT(error_of(x, two_trees({{"base_values", std::vector<double>{1}}})),
              HasSubstr("base_values has 1 values; it must be empty or have n_targets = 2"));
  EXPECT_THAT(error_of(x, two_trees({{"aggregate_function", "MEDIAN"}})),
              HasSubstr("aggregate_function is 'MEDIAN'; expected one of SUM, AVERAGE, MIN, MAX"));
  EXPECT_THAT(error_of(x, two_trees({{"post_transform", "TANH"}})),
              HasSubstr("post_transform is 'TANH'; expected one of NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, PROBIT"));
  EXPECT_THAT(error_of(T(DType::F32, {2}, {0, 0}), two_trees()),
              HasSubstr("expects X as [N, F] of f32, f64, i64 or i32, got f32[2]"));
  EXPECT_THAT(error_of(T(DType::Bool, {1, 2}, {0, 0}), two_trees()), HasSubstr("got bool[1, 2]"));
  auto no_operand = run_op(OpKind::TreeEnsemble, {}, two_trees());
  ASSERT_FALSE(no_operand.ok());
  EXPECT_THAT(no_operand.error().str(), HasSubstr("tree_ensemble needs its operand X"));
}

// Cycles are not rejected by the shape rule, but the kernel never loops forever on one.
TEST(InterpMl, CycleIsAnErrorWhenRun) {
  AttrMap attrs =
      ensemble({{0, 0, "BRANCH_LEQ", 0, 1.0, 1, 1}, {0, 1, "BRANCH_LEQ", 0, 1.0, 0, 0}, {0, 2, "LEAF"}}, {}, 1);
  EXPECT_THAT(error_of(T(DType::F32, {1, 1}, {0}), attrs), HasSubstr("tree 0 has a cycle"));
}

// ---- pairwise_coupling -----------------------------------------------------------------------------

// Expected values below are libsvm's multiclass_probability (svm.cpp) run in double by a line-for-line
// Python transcription. (The ONNX reference's Python version computes Q[t, j] as a dot product where
// libsvm multiplies two elements, so it is no oracle here.)

// Two classes: the fixed point is p = [r01, 1 - r01], and libsvm stops once |Qp_t - pQp| < 0.0025:
// r01 = 0.7 gives [0.6999999889, 0.3000000111], r01 = 0.1 stops further away: [0.0998444748, 0.9001555252].
TEST(InterpPairwiseCoupling, TwoClassesStopNearThePairwiseProbability) {
  Tensor p = run1(OpKind::PairwiseCoupling, {T(DType::F64, {2, 1}, {0.7, 0.1})}, {{"classes", int64_t{2}}});
  expect_tensor(p, DType::F64, {2, 2}, {0.6999999889, 0.3000000111, 0.0998444748, 0.9001555252}, 1e-9);
  Tensor f32 = run1(OpKind::PairwiseCoupling, {T(DType::F32, {1, 1}, {0.7})}, {{"classes", int64_t{2}}});
  expect_tensor(f32, DType::F32, {1, 2}, {0.7, 0.3}, 1e-7);
}

// Three classes, pairwise probabilities consistent with q = [0.5, 0.3, 0.2] (r_ij = q_i / (q_i + q_j):
// r01 = 0.625, r02 = 0.5 / 0.7, r12 = 0.6): libsvm stops within 1e-3 of q, at [0.500900563, 0.299120911,
// 0.199978526]. An inconsistent row (r01 = 0.9, r02 = 0.2, r12 = 0.6) gives [0.287642341, 0.235120474,
// 0.477237185].
TEST(InterpPairwiseCoupling, ThreeClassesFollowLibsvm) {
  Tensor r = T(DType::F64, {2, 3}, {0.625, 0.5 / 0.7, 0.6, 0.9, 0.2, 0.6});
  Tensor p = run1(OpKind::PairwiseCoupling, {r}, {{"classes", int64_t{3}}});
  expect_tensor(p, DType::F64, {2, 3}, {0.500900563, 0.299120911, 0.199978526, 0.287642341, 0.235120474, 0.477237185},
                1e-8);
  for (int64_t row = 0; row < 2; ++row)
    EXPECT_NEAR(p.get_double(row * 3) + p.get_double(row * 3 + 1) + p.get_double(row * 3 + 2), 1.0, 1e-12);
}

TEST(InterpPairwiseCoupling, ZeroRowsAndSymbolicRows) {
  expect_tensor(run1(OpKind::PairwiseCoupling, {T(DType::F32, {0, 6}, {})}, {{"classes", int64_t{4}}}), DType::F32,
                {0, 4}, {});
  EXPECT_EQ(infer_type(OpKind::PairwiseCoupling, {{DType::F32, {Dim::symbol("N"), 3}}}, {{"classes", int64_t{3}}}),
            "f32[N, 3]");
}

TEST(InterpPairwiseCoupling, Errors) {
  auto error = [](const Tensor& r, int64_t classes) {
    auto result = run_op(OpKind::PairwiseCoupling, {r}, {{"classes", classes}});
    return result.ok() ? std::string("(no error)") : result.error().str();
  };
  EXPECT_THAT(error(T(DType::F32, {1, 1}, {0.5}), 1), HasSubstr("pairwise_coupling needs classes >= 2, got 1"));
  EXPECT_THAT(error(T(DType::F32, {1, 2}, {0.5, 0.5}), 3),
              HasSubstr("pairwise_coupling with 3 classes needs 3 pairwise probabilities per row, got f32[1, 2]"));
  EXPECT_THAT(error(T(DType::I32, {1, 1}, {1}), 2),
              HasSubstr("expects pairwise probabilities as [N, pairs] of f32 or f64, got i32[1, 1]"));
  EXPECT_THAT(error(T(DType::F32, {1}, {0.5}), 2), HasSubstr("got f32[1]"));
}

}  // namespace
}  // namespace tessel
