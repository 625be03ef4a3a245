// Lowering tests of the classical-ML ops: OpKind::TreeEnsemble under both strategies (branch code and
// tensorized traversal) and OpKind::PairwiseCoupling, run in the loop evaluator and compared with the
// tensor interpreter (lower_test::check), plus hand-computed values, the choose-tree-strategy pass, its
// cost model and the errors of a tensorized op without its tables.
#include <cmath>
#include <cstdlib>
#include <limits>

#include "passes/LowerTrees.h"
#include "passes/Passes.h"
#include "tests/unit/LowerTestUtil.h"

namespace tessel {
namespace {

using lower_test::check;
using lower_test::random_tensor;
using ::testing::HasSubstr;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

struct NodeSpec {
  int64_t tree, id;
  std::string mode;
  int64_t feature = 0;
  double value = 0;
  int64_t true_id = 0, false_id = 0, missing_true = 0;
};

struct WeightSpec {
  int64_t tree, id, target;
  double weight;
};

AttrMap ensemble(const std::vector<NodeSpec>& nodes, const std::vector<WeightSpec>& weights, int64_t n_targets,
                 AttrMap extra = {}) {
  std::vector<int64_t> trees, ids, features, trues, falses, missing, w_trees, w_ids, w_targets;
  std::vector<double> values, w_weights;
  std::vector<std::string> modes;
  for (const NodeSpec& n : nodes) {
    trees.push_back(n.tree);
    ids.push_back(n.id);
    modes.push_back(n.mode);
    features.push_back(n.feature);
    values.push_back(n.value);
    trues.push_back(n.true_id);
    falses.push_back(n.false_id);
    missing.push_back(n.missing_true);
  }
  for (const WeightSpec& w : weights) {
    w_trees.push_back(w.tree);
    w_ids.push_back(w.id);
    w_targets.push_back(w.target);
    w_weights.push_back(w.weight);
  }
  AttrMap attrs = {
      {"n_targets", n_targets},       {"nodes_treeids", trees},       {"nodes_nodeids", ids},
      {"nodes_featureids", features}, {"nodes_values", values},       {"nodes_modes", modes},
      {"nodes_truenodeids", trues},   {"nodes_falsenodeids", falses}, {"nodes_missing_value_tracks_true", missing},
      {"target_treeids", w_trees},    {"target_nodeids", w_ids},      {"target_ids", w_targets},
      {"target_weights", w_weights}};
  for (auto& [name, attr] : extra) attrs.insert_or_assign(name, attr);
  return attrs;
}

// Two trees, two targets (the interpreter tests' ensemble). Tree 0: x0 <= 1 ? leaf 1 {t0: 1, t1: -1}
//   : (x1 < 0.5, NaN -> true) ? leaf 3 {t0: 4} : leaf 4 {t0: 8, t1: 2}.
// Tree 1 (root id 10): x1 >= 2 ? leaf 11 {t1: 3} : leaf 12 {t0: 0.5}.
AttrMap two_trees(AttrMap extra = {}) {
  return ensemble({{0, 0, "BRANCH_LEQ", 0, 1.0, 1, 2},
                   {0, 1, "LEAF"},
                   {0, 2, "BRANCH_LT", 1, 0.5, 3, 4, 1},
                   {0, 3, "LEAF"},
                   {0, 4, "LEAF"},
                   {1, 10, "BRANCH_GTE", 1, 2.0, 11, 12},
                   {1, 11, "LEAF"},
                   {1, 12, "LEAF"}},
                  {{0, 1, 0, 1.0},
                   {0, 1, 1, -1.0},
                   {0, 3, 0, 4.0},
                   {0, 4, 0, 8.0},
                   {0, 4, 1, 2.0},
                   {1, 11, 1, 3.0},
                   {1, 12, 0, 0.5}},
                  2, std::move(extra));
}

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

const std::vector<std::string> kStrategies = {"branch", "tensorized"};
const std::vector<std::string> kSchedules = {"", "parallel=d0"};

TEST(LowerTrees, HandComputedScoresBothStrategies) {
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
  std::vector<NodeSpec> nodes;
  std::vector<WeightSpec> weights;
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

TEST(LowerTrees, RandomForestAgreesUnderBothStrategies) {
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
  std::string chosen(trees::strategy_name(trees::choose_strategy(*model)));
  EXPECT_EQ(op->attr().s("tree_strategy"), chosen);
  trees::Costs costs = trees::estimate_costs(*model);
  EXPECT_EQ(chosen, costs.tensorized < costs.branch ? "tensorized" : "branch");
  // Tables exist exactly for tensorized ops.
  EXPECT_EQ(op->attr().s("tree_tables").empty(), chosen == "branch");
  // 70 trees x 64 leaves x 2 targets = 8960 leaf additions > kMaxBranchLeafEntries: tensorized whatever
  // the per-row estimate says (branch code that large takes minutes to compile).
  AttrMap big_attrs = random_forest(70, 6, 6, 2, 4);
  auto big = trees::read_model(AttrReader(OpKind::TreeEnsemble, big_attrs));
  ASSERT_TRUE(big.ok());
  EXPECT_GT(big->leaf_entries, trees::kMaxBranchLeafEntries);
  EXPECT_EQ(trees::choose_strategy(*big), trees::Strategy::Tensorized);
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
    attrs.insert_or_assign("tree_strategy", "gemm");
    b.output(b.op(OpKind::TreeEnsemble, {x}, attrs));
    auto kernel = lower_kernel(*m.entry(), Schedule{}, *target);
    ASSERT_FALSE(kernel.ok());
    EXPECT_THAT(kernel.error().str(), HasSubstr("tree strategy 'gemm' is not one of branch, tensorized"));
    PassContext context;
    auto pass = choose_tree_strategy(m, context);
    ASSERT_FALSE(pass.ok());
    EXPECT_THAT(pass.error().str(), HasSubstr("tree strategy 'gemm'"));
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
