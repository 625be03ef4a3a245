// Lowering tests of the classical-ML ops: OpKind::TreeEnsemble under the three strategies (branch code,
// tensorized traversal, gemm form) and OpKind::PairwiseCoupling, run in the loop evaluator and compared
// with the tensor interpreter (lower_test::check), plus hand-computed values and gemm tables, the
// choose-tree-strategy pass, its cost model and the errors (missing tables, what gemm refuses).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "passes/LowerTrees.h"
#include "passes/Passes.h"
#include "tests/unit/LowerTestUtil.h"
#include "tests/unit/TreeEnsembleTestUtil.h"

namespace tessel {
namespace {

using lower_test::check;
using lower_test::random_tensor;
using ::testing::HasSubstr;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

using tree_test::ensemble;
using tree_test::two_trees;

// two_trees (tests/unit/TreeEnsembleTestUtil.h), the interpreter tests' ensemble. Tree 0: x0 <= 1 ?
//   leaf 1 {t0: 1, t1: -1} : (x1 < 0.5, NaN -> true) ? leaf 3 {t0: 4} : leaf 4 {t0: 8, t1: 2}.
// Tree 1 (root id 10): x1 >= 2 ? leaf 11 {t1: 3} : leaf 12 {t0: 0.5}.

Tensor tensor(DType dtype, std::vector<int64_t> shape, const std::vector<double>& values) {
  Tensor t(dtype, std::move(shape));
  for (size_t i = 0; i < values.size(); ++i) t.set_double(static_cast<int64_t>(i), values[i]);
  return t;
}

// Rows: [0.5, 9] -> t0 1, t1 -1 + 3; [3, 0] -> t0 4 + 0.5; [3, NaN] as the row before (NaN tracks true
// at node 2, false at node 10); [NaN, 1] -> leaf 4 and leaf 12: t0 8 + 0.5, t1 2.
Tensor rows() { return tensor(DType::F32, {4, 2}, {0.5, 9, 3, 0, 3, kNaN, kNaN, 1}); }

/// A module computing tree_ensemble(x) with `attrs`, lowered with `strategy` ("" = none chosen).
void build(Module& m, const TensorType& x_type, AttrMap attrs, const std::string& strategy) {
  Builder b(m.add_function("main"));
  Value* x = b.input("x", x_type);
  if (!strategy.empty()) attrs.insert_or_assign("tree_strategy", strategy);
  b.output(b.op(OpKind::TreeEnsemble, {x}, attrs));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
  PassContext context;
  auto changed = choose_tree_strategy(m, context);
  ASSERT_TRUE(changed.ok()) << changed.error().str();
}

const std::vector<std::string> kStrategies = {"branch", "tensorized", "gemm", "tensorized-quantized"};
const std::vector<std::string> kSchedules = {"", "parallel=d0"};

TEST(LowerTrees, HandComputedScoresEveryStrategy) {
  for (const std::string& strategy : kStrategies) {
    SCOPED_TRACE(strategy);
    Module m;
    build(m, {DType::F32, {4, 2}}, two_trees(), strategy);
    auto target = parse_target("x86-64-v3");
    ASSERT_TRUE(target.ok());
    auto kernel = lower_kernel(*m.entry(), Schedule{}, *target);
    ASSERT_TRUE(kernel.ok()) << kernel.error().str();
    auto got = loop::run_kernel(*kernel, {rows()}, m.constants());
    ASSERT_TRUE(got.ok()) << got.error().str();
    std::vector<double> want = {1, 2, 4.5, 0, 4.5, 0, 8.5, 2};
    for (int64_t i = 0; i < 8; ++i) EXPECT_EQ((*got)[0].get_double(i), want[static_cast<size_t>(i)]) << i;
  }
}

TEST(LowerTrees, EveryBranchModeWithAndWithoutMissingTracking) {
  // x = 0.5 (below), 1.0 (equal), 1.5 (above), NaN.
  Tensor x = tensor(DType::F32, {4, 1}, {0.5, 1.0, 1.5, kNaN});
  for (const char* mode : {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"})
    for (int64_t missing : {0, 1})
      for (const std::string& strategy : kStrategies) {
        SCOPED_TRACE(std::string(mode) + " missing " + std::to_string(missing) + " " + strategy);
        Module m;
        build(m, {DType::F32, {4, 1}},
              ensemble({{0, 0, mode, 0, 1.0, 1, 2, missing}, {0, 1, "LEAF"}, {0, 2, "LEAF"}},
                       {{0, 1, 0, 1.0}, {0, 2, 0, 2.0}}, 1),
              strategy);
        check(m, kSchedules, {x});
      }
}

TEST(LowerTrees, AggregatesPostTransformsAndBaseValues) {
  for (const char* aggregate : {"SUM", "AVERAGE", "MIN", "MAX"})
    for (const char* post : {"NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO"})
      for (const std::string& strategy : kStrategies) {
        SCOPED_TRACE(std::string(aggregate) + " " + post + " " + strategy);
        bool min_max = std::string(aggregate) == "MIN" || std::string(aggregate) == "MAX";
        if (strategy == "gemm" && min_max) continue;  // refused (LowerTrees.Errors)
        Module m;
        build(m, {DType::F32, {4, 2}},
              two_trees({{"aggregate_function", aggregate},
                         {"post_transform", post},
                         {"base_values", std::vector<double>{0.25, -1.5}}}),
              strategy);
        check(m, kSchedules, {rows()});
      }
}

TEST(LowerTrees, ProbitMatchesTheInterpreter) {
  // A single leaf tree; base values put the scores at 0.5, 0.975, 0.025, 1e-3, 0.9999, 1.5 (NaN), 0, 1.
  AttrMap attrs = ensemble({{0, 0, "LEAF"}}, {{0, 0, 0, 0.25}, {0, 0, 1, 0.5}}, 8,
                           {{"base_values", std::vector<double>{0.25, 0.475, 0.025, 1e-3, 0.9999, 1.5, 0, 1}},
                            {"post_transform", "PROBIT"}});
  for (const std::string& strategy : kStrategies) {
    Module m;
    build(m, {DType::F32, {2, 1}}, attrs, strategy);
    check(m, {""}, {random_tensor(DType::F32, {2, 1}, 3)});
  }
}

TEST(LowerTrees, InputDtypesZeroRowsAndSymbolicRows) {
  for (DType dtype : {DType::F64, DType::I32, DType::I64})
    for (const std::string& strategy : kStrategies) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + strategy);
      Module m;
      build(m, {dtype, {2, 2}}, two_trees(), strategy);
      check(m, kSchedules, {tensor(dtype, {2, 2}, {1, 9, 3, 0})});
    }
  for (const std::string& strategy : kStrategies) {
    Module m;
    build(m, {DType::F32, {Dim::symbol("N"), 2}}, two_trees({{"post_transform", "SOFTMAX"}}), strategy);
    for (int64_t n : {0, 1, 7}) check(m, kSchedules, {random_tensor(DType::F32, {n, 2}, 5, -1, 3)});
  }
}

TEST(LowerTrees, EpilogueAndArgmaxAfterTheEnsemble) {
  for (const std::string& strategy : kStrategies) {
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 2}});
    AttrMap attrs = two_trees();
    attrs.insert_or_assign("tree_strategy", strategy);
    Value* scores = b.op(OpKind::TreeEnsemble, {x}, attrs);
    b.output(b.op(OpKind::ArgMax, {scores}, {{"axis", int64_t{1}}, {"keepdims", int64_t{0}}}));
    b.output(b.mul(scores, b.scalar(2.0)));
    ASSERT_TRUE(b.status().ok());
    PassContext context;
    ASSERT_TRUE(choose_tree_strategy(m, context).ok());
    check(m, kSchedules, {random_tensor(DType::F32, {6, 2}, 9, -1, 3)});
  }
}

/// A random complete tree of `depth` on `features` features for each of `count` trees.
AttrMap random_forest(int count, int depth, int64_t features, int64_t targets, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> threshold(-1, 1), weight(-2, 2);
  std::uniform_int_distribution<int64_t> feature(0, features - 1);
  std::vector<tree_test::NodeSpec> nodes;
  std::vector<tree_test::WeightSpec> weights;
  for (int t = 0; t < count; ++t) {
    int64_t inner = (int64_t{1} << depth) - 1, total = (int64_t{1} << (depth + 1)) - 1;
    for (int64_t id = 0; id < total; ++id) {
      if (id < inner) {
        nodes.push_back({t, id, "BRANCH_LEQ", feature(rng), threshold(rng), 2 * id + 1, 2 * id + 2, id % 2});
        continue;
      }
      nodes.push_back({t, id, "LEAF"});
      for (int64_t j = 0; j < targets; ++j) weights.push_back({t, id, j, weight(rng)});
    }
  }
  return ensemble(nodes, weights, targets, {{"post_transform", "SOFTMAX"}});
}

TEST(LowerTrees, RandomForestAgreesUnderEveryStrategy) {
  for (const std::string& strategy : kStrategies) {
    Module m;
    build(m, {DType::F32, {Dim::symbol("N"), 6}}, random_forest(12, 4, 6, 3, 17), strategy);
    Tensor x = random_tensor(DType::F32, {40, 6}, 23);
    for (int64_t i = 0; i < x.numel(); i += 7) x.set_double(i, kNaN);
    check(m, kSchedules, {x});
  }
}

TEST(LowerTrees, ChooseTreeStrategyPassAndCostModel) {
  // No strategy set: the pass picks one by the cost model and records it.
  Module m;
  build(m, {DType::F32, {3, 6}}, random_forest(40, 6, 6, 2, 4), "");
  const Op* op = m.entry()->ops().back();
  auto model = trees::read_model(op->attr());
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->depth, 6);
  EXPECT_EQ(model->roots.size(), 40u);
  EXPECT_DOUBLE_EQ(model->mean_path, 6.0);  // complete trees: every leaf at depth 6
  EXPECT_EQ(model->leaf_entries, 40 * 64 * 2);
  EXPECT_EQ(model->max_internal, 63);  // 2^6 - 1 branch nodes, 2^6 paths per tree
  EXPECT_EQ(model->max_paths, 64);
  std::string chosen(trees::strategy_name(trees::choose_strategy(*model)));
  EXPECT_EQ(op->attr().s("tree_strategy"), chosen);
  trees::Costs costs = trees::estimate_costs(*model);
  EXPECT_GT(costs.gemm, 0);
  double cheapest = std::min({costs.branch, costs.tensorized, costs.gemm});
  EXPECT_EQ(chosen, cheapest == costs.branch ? "branch" : cheapest == costs.tensorized ? "tensorized" : "gemm");
  // Tables exist exactly for tensorized and gemm ops.
  EXPECT_EQ(op->attr().s("tree_tables").empty(), chosen == "branch");
  // 70 trees x 64 leaves x 2 targets = 8960 leaf additions > kMaxBranchLeafEntries: tensorized whatever
  // the per-row estimate says (branch code that large takes minutes to compile).
  AttrMap big_attrs = random_forest(70, 6, 6, 2, 4);
  auto big = trees::read_model(AttrReader(OpKind::TreeEnsemble, big_attrs));
  ASSERT_TRUE(big.ok());
  EXPECT_GT(big->leaf_entries, trees::kMaxBranchLeafEntries);
  EXPECT_NE(trees::choose_strategy(*big), trees::Strategy::Branch);
  // A MIN ensemble: gemm refused and costed 0, never chosen.
  AttrMap min_attrs = random_forest(2, 2, 6, 2, 4);
  min_attrs.insert_or_assign("aggregate_function", "MIN");
  auto min_model = trees::read_model(AttrReader(OpKind::TreeEnsemble, min_attrs));
  ASSERT_TRUE(min_model.ok());
  EXPECT_EQ(trees::estimate_costs(*min_model).gemm, 0);
  EXPECT_NE(trees::choose_strategy(*min_model), trees::Strategy::Gemm);
  // The environment overrides the cost model.
  setenv("TESSEL_TREE_STRATEGY", "tensorized", 1);
  Module forced;
  build(forced, {DType::F32, {3, 6}}, random_forest(2, 1, 6, 2, 4), "");
  unsetenv("TESSEL_TREE_STRATEGY");
  const Op* forced_op = forced.entry()->ops().back();
  EXPECT_EQ(forced_op->attr().s("tree_strategy"), "tensorized");
  EXPECT_TRUE(forced.constant(forced_op->attr().s("tree_tables") + "_threshold"));
  check(forced, {""}, {random_tensor(DType::F32, {3, 6}, 8)});
}

TEST(LowerTrees, Errors) {
  auto target = parse_target("x86-64-v3");
  ASSERT_TRUE(target.ok());
  {  // tensorized without the pass: no tables
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {DType::F32, {4, 2}});
    AttrMap attrs = two_trees();
    attrs.insert_or_assign("tree_strategy", "tensorized");
    b.output(b.op(OpKind::TreeEnsemble, {x}, attrs));
    auto kernel = lower_kernel(*m.entry(), Schedule{}, *target);
    ASSERT_FALSE(kernel.ok());
    EXPECT_THAT(kernel.error().str(), HasSubstr("no node tables"));
  }
  {  // an unknown strategy
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {DType::F32, {4, 2}});
    AttrMap attrs = two_trees();
    attrs.insert_or_assign("tree_strategy", "fast");
    b.output(b.op(OpKind::TreeEnsemble, {x}, attrs));
    auto kernel = lower_kernel(*m.entry(), Schedule{}, *target);
    ASSERT_FALSE(kernel.ok());
    EXPECT_THAT(kernel.error().str(), HasSubstr("tree strategy 'fast' is not one of branch, tensorized, gemm"));
    PassContext context;
    auto pass = choose_tree_strategy(m, context);
    ASSERT_FALSE(pass.ok());
    EXPECT_THAT(pass.error().str(), HasSubstr("tree strategy 'fast'"));
  }
  {  // tables that no longer match the ensemble
    Module m;
    build(m, {DType::F32, {4, 2}}, two_trees(), "tensorized");
    std::string prefix = m.entry()->ops().back()->attr().s("tree_tables");
    m.remove_constant(prefix + "_values");
    auto kernel = lower_kernel(*m.entry(), Schedule{}, *target);
    ASSERT_FALSE(kernel.ok());
    EXPECT_THAT(kernel.error().str(), HasSubstr("needs the node table @" + prefix + "_values with 16 elements"));
  }
  {  // duplicate targets in one leaf cannot be tensorized
    AttrMap attrs = ensemble({{0, 0, "LEAF"}}, {{0, 0, 0, 1.0}, {0, 0, 0, 2.0}}, 1);
    auto model = trees::read_model(AttrReader(OpKind::TreeEnsemble, attrs));
    ASSERT_TRUE(model.ok());
    EXPECT_EQ(trees::choose_strategy(*model), trees::Strategy::Branch);
    auto tables = trees::make_tables(*model);
    ASSERT_FALSE(tables.ok());
    EXPECT_THAT(tables.error().str(), HasSubstr("name each target at most once"));
  }
}

TEST(LowerTrees, GemmTablesByHand) {
  auto model = trees::read_model(AttrReader(OpKind::TreeEnsemble, two_trees()));
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->max_internal, 2);  // tree 0: nodes 0 and 2
  EXPECT_EQ(model->max_paths, 3);     // tree 0: leaves 1, 3, 4
  auto tables = trees::make_gemm_tables(*model);
  ASSERT_TRUE(tables.ok()) << tables.error().str();
  std::map<std::string, std::vector<double>> got;
  for (const auto& [suffix, tensor] : *tables) got[suffix] = tensor.to_doubles();
  // Branch nodes, tree by tree, padded to 2: tree 0 = node 0 (x0, 1.0), node 2 (x1, 0.5, NaN -> true);
  // tree 1 = node 10 (x1, 2.0), then padding (feature 0, threshold 0, BRANCH_LEQ).
  EXPECT_EQ(got["feature"], (std::vector<double>{0, 1, 1, 0}));
  EXPECT_EQ(got["threshold"], (std::vector<double>{1.0, 0.5, 2.0, 0}));
  EXPECT_EQ(got["missing"], (std::vector<double>{0, 1, 0, 0}));
  double leq = static_cast<double>(trees::Mode::Leq), lt = static_cast<double>(trees::Mode::Lt),
         gte = static_cast<double>(trees::Mode::Gte);
  EXPECT_EQ(got["mode"], (std::vector<double>{leq, lt, gte, leq}));
  // C [tree][node][path], true-branch paths first. Tree 0: path 0 = node 0 true (leaf 1); path 1 = node 0
  // false, node 2 true (leaf 3); path 2 = both false (leaf 4). Tree 1: path 0 = true (leaf 11), path 1 =
  // false (leaf 12), path 2 padding; its padding node row is zero.
  EXPECT_EQ(got["paths"], (std::vector<double>{1, -1, -1, 0, 1, -1, /* tree 1 */ 1, -1, 0, 0, 0, 0}));
  // D: true turns per path; -1 for the padding path (its zero column always sums to 0).
  EXPECT_EQ(got["turns"], (std::vector<double>{1, 1, 0, 1, 0, -1}));
  // E [tree][path][target]: leaf 1 {1, -1}, leaf 3 {4, 0}, leaf 4 {8, 2}; leaf 11 {0, 3}, leaf 12 {0.5, 0}.
  EXPECT_EQ(got["leaves"], (std::vector<double>{1, -1, 4, 0, 8, 2, 0, 3, 0.5, 0, 0, 0}));
}

TEST(LowerTrees, GemmVectorizesOverRowBlocksWithTails) {
  Module m;
  build(m, {DType::F32, {Dim::symbol("N"), 6}}, random_forest(5, 3, 6, 3, 41), "gemm");
  auto target = parse_target("x86-64-v3");
  ASSERT_TRUE(target.ok());
  auto kernel = lower_kernel(*m.entry(), Schedule{}, *target);
  ASSERT_TRUE(kernel.ok()) << kernel.error().str();
  std::string text = loop::print(*kernel);
  // The lane loops became vector code: conditions, path sums and leaf values stored as ramps of 8 lanes.
  std::string lanes = ", 1, " + std::to_string(trees::kGemmLanes) + ")] = ";
  for (const char* buffer : {"gemm_s", "gemm_p", "gemm_acc"})
    EXPECT_THAT(text, HasSubstr(std::string(buffer) + "[ramp((tree_")) << buffer;
  EXPECT_THAT(text, HasSubstr(lanes));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("for (tree_r, 0, 8) {\n            gemm")));
  // Row counts around the block size: empty, partial, full and partial last blocks; NaN features.
  for (int64_t n : {0, 1, 7, 8, 9, 17}) {
    Tensor x = random_tensor(DType::F32, {n, 6}, 43 + static_cast<uint32_t>(n));
    for (int64_t i = 0; i < x.numel(); i += 5) x.set_double(i, kNaN);
    check(m, kSchedules, {x});
  }
}

TEST(LowerTrees, GemmSharedSubtreesAndInfinities) {
  // Node 2 is reached from node 0 (false) and from node 1 (false): two paths end at each of its leaves,
  // exactly one of them is taken. Rows with +-inf and thresholds met exactly.
  AttrMap attrs = ensemble({{0, 0, "BRANCH_LEQ", 0, 0.0, 1, 2},
                            {0, 1, "BRANCH_GT", 1, 0.0, 3, 2},
                            {0, 2, "BRANCH_LT", 1, 0.5, 4, 5, 1},
                            {0, 3, "LEAF"},
                            {0, 4, "LEAF"},
                            {0, 5, "LEAF"}},
                           {{0, 3, 0, 1.0}, {0, 4, 0, 2.0}, {0, 5, 0, 4.0}}, 1);
  auto model = trees::read_model(AttrReader(OpKind::TreeEnsemble, attrs));
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->max_paths, 5);  // leaf 3, then leaves 4 and 5 under node 1 and under node 0
  EXPECT_EQ(model->max_internal, 3);
  const double inf = std::numeric_limits<double>::infinity();
  // [0, 1] -> node 1 true -> leaf 3: 1; [0, 0] -> node 1 false -> node 2 true -> leaf 4: 2;
  // [inf, 0.5] -> node 2 false -> leaf 5: 4; [-inf, -inf] -> node 1 false -> node 2 true: 2;
  // [1, NaN] -> node 2, NaN tracks true: 2; [NaN, inf] -> NaN at node 0 goes false, node 2 false: 4.
  Tensor x = tensor(DType::F32, {6, 2}, {0, 1, 0, 0, inf, 0.5, -inf, -inf, 1, kNaN, kNaN, inf});
  Module m;
  build(m, {DType::F32, {6, 2}}, attrs, "gemm");
  auto target = parse_target("x86-64-v3");
  auto kernel = lower_kernel(*m.entry(), Schedule{}, *target);
  ASSERT_TRUE(kernel.ok()) << kernel.error().str();
  auto got = loop::run_kernel(*kernel, {x}, m.constants());
  ASSERT_TRUE(got.ok()) << got.error().str();
  EXPECT_EQ((*got)[0].to_doubles(), (std::vector<double>{1, 2, 4, 2, 2, 4}));
  check(m, kSchedules, {x});
}

TEST(LowerTrees, GemmRefusals) {
  auto target = parse_target("x86-64-v3");
  ASSERT_TRUE(target.ok());
  for (const char* aggregate : {"MIN", "MAX"}) {
    SCOPED_TRACE(aggregate);
    AttrMap attrs = two_trees({{"aggregate_function", aggregate}});
    // Asked for in the op: the pass and the lowering both refuse, naming the op and the reason.
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {DType::F32, {4, 2}});
    AttrMap with_strategy = attrs;
    with_strategy.insert_or_assign("tree_strategy", "gemm");
    b.output(b.op(OpKind::TreeEnsemble, {x}, with_strategy));
    auto kernel = lower_kernel(*m.entry(), Schedule{}, *target);
    ASSERT_FALSE(kernel.ok());
    EXPECT_THAT(kernel.error().str(), HasSubstr("tree_ensemble"));
    EXPECT_THAT(kernel.error().str(), HasSubstr("aggregate_function SUM or AVERAGE, not MIN or MAX"));
    PassContext context;
    auto pass = choose_tree_strategy(m, context);
    ASSERT_FALSE(pass.ok());
    EXPECT_THAT(pass.error().str(), HasSubstr("tree_ensemble at"));
    EXPECT_THAT(pass.error().str(), HasSubstr("the gemm tree strategy cannot lower this ensemble"));
    // Asked for by the environment: the same error.
    setenv("TESSEL_TREE_STRATEGY", "gemm", 1);
    Module env;
    Builder eb(env.add_function("main"));
    eb.output(eb.op(OpKind::TreeEnsemble, {eb.input("x", {DType::F32, {4, 2}})}, attrs));
    auto env_pass = choose_tree_strategy(env, context);
    unsetenv("TESSEL_TREE_STRATEGY");
    ASSERT_FALSE(env_pass.ok());
    EXPECT_THAT(env_pass.error().str(), HasSubstr("not MIN or MAX"));
  }
  {  // a leaf naming a target twice
    AttrMap attrs = ensemble({{0, 0, "LEAF"}}, {{0, 0, 0, 1.0}, {0, 0, 0, 2.0}}, 1);
    auto model = trees::read_model(AttrReader(OpKind::TreeEnsemble, attrs));
    ASSERT_TRUE(model.ok());
    EXPECT_EQ(trees::gemm_refusal(*model), "a leaf names one target twice");
    auto tables = trees::make_gemm_tables(*model);
    ASSERT_FALSE(tables.ok());
    EXPECT_THAT(tables.error().str(), HasSubstr("cannot lower this ensemble: a leaf names one target twice"));
  }
  {  // one tree of depth 9: 511 x 512 path cells, over kMaxGemmTreeCells
    AttrMap attrs = random_forest(1, 9, 4, 1, 3);
    auto model = trees::read_model(AttrReader(OpKind::TreeEnsemble, attrs));
    ASSERT_TRUE(model.ok());
    EXPECT_THAT(trees::gemm_refusal(*model), HasSubstr("needs a 511 x 512 path matrix, over the limit of 65536"));
  }
}

TEST(LowerTrees, QuantizedThresholdsDecideAsTheFloats) {
  // Feature 0 is split at -1, 0.5 and 2 (0.5 twice, in two trees), feature 1 at 0.
  // Codes: feature 0 thresholds [-1, 0.5, 2] -> codes 1, 3, 5; feature 1 [0] -> code 1.
  const double inf = std::numeric_limits<double>::infinity();
  AttrMap attrs = ensemble({{0, 0, "BRANCH_LEQ", 0, 0.5, 1, 2},
                            {0, 1, "BRANCH_LT", 0, -1.0, 3, 4},
                            {0, 2, "BRANCH_GTE", 0, 2.0, 5, 6, 1},
                            {0, 3, "LEAF"},
                            {0, 4, "LEAF"},
                            {0, 5, "LEAF"},
                            {0, 6, "LEAF"},
                            {1, 0, "BRANCH_GT", 0, 0.5, 1, 2},
                            {1, 1, "BRANCH_EQ", 1, 0.0, 3, 4},
                            {1, 2, "BRANCH_NEQ", 1, 0.0, 5, 6, 1},
                            {1, 3, "LEAF"},
                            {1, 4, "LEAF"},
                            {1, 5, "LEAF"},
                            {1, 6, "LEAF"}},
                           {{0, 3, 0, 1},
                            {0, 4, 0, 2},
                            {0, 5, 0, 4},
                            {0, 6, 0, 8},
                            {1, 3, 1, 16},
                            {1, 4, 1, 32},
                            {1, 5, 1, 64},
                            {1, 6, 1, 128}},
                           2);
  auto model = trees::read_model(AttrReader(OpKind::TreeEnsemble, attrs));
  ASSERT_TRUE(model.ok());
  auto tables = trees::make_quantized_tables(*model);
  ASSERT_TRUE(tables.ok()) << tables.error().str();
  std::map<std::string, std::vector<double>> got;
  for (const auto& [suffix, tensor] : *tables) got[suffix] = tensor.to_doubles();
  EXPECT_EQ(got["qoffsets"], (std::vector<double>{0, 3, 4}));
  EXPECT_EQ(got["qthresholds"], (std::vector<double>{-1, 0.5, 2, 0, /* padding */ 0}));
  EXPECT_EQ(got["qcodes"], (std::vector<double>{3, 1, 5, 0, 0, 0, 0, 3, 1, 1, 0, 0, 0, 0}));
  // Every threshold itself, values between and beyond them, +-inf and NaN, on both features.
  std::vector<double> values = {-inf, -2, -1, -0.5, 0, 0.5, 1, 2, 3, inf, kNaN};
  Tensor x(DType::F32, {static_cast<int64_t>(values.size() * values.size()), 2});
  for (size_t i = 0; i < values.size(); ++i)
    for (size_t j = 0; j < values.size(); ++j) {
      x.set_double(static_cast<int64_t>((i * values.size() + j) * 2), values[i]);
      x.set_double(static_cast<int64_t>((i * values.size() + j) * 2 + 1), values[j]);
    }
  for (DType dtype : {DType::F32, DType::F64}) {
    Module m;
    build(m, {dtype, {Dim::symbol("N"), 2}}, attrs, "tensorized-quantized");
    Tensor input(dtype, x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) input.set_double(i, x.get_double(i));
    // The loop evaluator against the interpreter, exactly (the scores are sums of distinct powers of 2,
    // so every routing difference shows).
    auto target = parse_target("x86-64-v3");
    auto kernel = lower_kernel(*m.entry(), Schedule{}, *target);
    ASSERT_TRUE(kernel.ok()) << kernel.error().str();
    auto lowered = loop::run_kernel(*kernel, {input}, m.constants());
    ASSERT_TRUE(lowered.ok()) << lowered.error().str();
    auto want = interpret(*m.entry(), {input});
    ASSERT_TRUE(want.ok());
    EXPECT_EQ((*lowered)[0].to_doubles(), (*want)[0].to_doubles());
    // Hand-checked rows: x0 = 0.5 (equal: LEQ true; LT -1 false) -> leaf 4: 2; GT 0.5 false -> node 2 of
    // tree 1: x1 = 0 -> NEQ false -> leaf 6: 128.
    size_t row = 5 * values.size() + 4;  // values[5] = 0.5, values[4] = 0
    EXPECT_EQ((*lowered)[0].get_double(static_cast<int64_t>(row * 2)), 2);
    EXPECT_EQ((*lowered)[0].get_double(static_cast<int64_t>(row * 2 + 1)), 128);
  }
  // TESSEL_TREE_QUANTIZE=1 quantizes what the environment makes tensorized.
  setenv("TESSEL_TREE_STRATEGY", "tensorized", 1);
  setenv("TESSEL_TREE_QUANTIZE", "1", 1);
  Module env;
  build(env, {DType::F32, {4, 2}}, two_trees(), "");
  unsetenv("TESSEL_TREE_STRATEGY");
  unsetenv("TESSEL_TREE_QUANTIZE");
  const Op* op = env.entry()->ops().back();
  EXPECT_EQ(op->attr().s("tree_strategy"), "tensorized-quantized");
  EXPECT_TRUE(env.constant(op->attr().s("tree_tables") + "_qcodes"));
  check(env, kSchedules, {rows()});
  // A NaN threshold cannot be ordered among the others: refused, naming the op.
  Module nan;
  Builder b(nan.add_function("main"));
  AttrMap nan_attrs = tree_test::one_split("BRANCH_LEQ");
  nan_attrs.insert_or_assign("nodes_values", std::vector<double>{kNaN, 0, 0});
  nan_attrs.insert_or_assign("tree_strategy", "tensorized-quantized");
  b.output(b.op(OpKind::TreeEnsemble, {b.input("x", {DType::F32, {2, 1}})}, nan_attrs));
  PassContext context;
  auto pass = choose_tree_strategy(nan, context);
  ASSERT_FALSE(pass.ok());
  EXPECT_THAT(pass.error().str(), HasSubstr("the tensorized-quantized tree strategy cannot lower this ensemble: a "
                                            "node's threshold is NaN"));
}

TEST(LowerCoupling, PairwiseCouplingMatchesTheInterpreter) {
  for (int64_t classes : {2, 3, 5})
    for (DType dtype : {DType::F32, DType::F64}) {
      SCOPED_TRACE(std::to_string(classes) + " " + std::string(dtype_name(dtype)));
      Module m;
      Builder b(m.add_function("main"));
      int64_t pairs = classes * (classes - 1) / 2;
      Value* r = b.input("r", {dtype, {Dim::symbol("N"), pairs}});
      b.output(b.op(OpKind::PairwiseCoupling, {r}, {{"classes", classes}}));
      ASSERT_TRUE(b.status().ok());
      for (int64_t n : {0, 1, 9}) check(m, kSchedules, {random_tensor(dtype, {n, pairs}, 31, 0.02, 0.98)});
    }
}

TEST(LowerCoupling, HandComputedTwoClasses) {
  // Two classes: p = [r, 1 - r] is the fixed point (Q p = pqp at once for r = 0.5; in general libsvm's
  // updates converge to it): r = 0.5 gives [0.5, 0.5] exactly without an update.
  Module m;
  Builder b(m.add_function("main"));
  Value* r = b.input("r", {DType::F64, {1, 1}});
  b.output(b.op(OpKind::PairwiseCoupling, {r}, {{"classes", int64_t{2}}}));
  auto target = parse_target("x86-64-v3");
  auto kernel = lower_kernel(*m.entry(), Schedule{}, *target);
  ASSERT_TRUE(kernel.ok()) << kernel.error().str();
  auto got = loop::run_kernel(*kernel, {tensor(DType::F64, {1, 1}, {0.5})}, m.constants());
  ASSERT_TRUE(got.ok()) << got.error().str();
  EXPECT_EQ((*got)[0].get_double(0), 0.5);
  EXPECT_EQ((*got)[0].get_double(1), 0.5);
}

}  // namespace
}  // namespace tessel
