// Private to the tree_ensemble lowering (passes/LowerTrees*.cpp) and the choose-tree-strategy pass: the
// ensemble read from the op's attributes in the form the lowerings use, the strategies, the cost model
// that picks one, and the node tables of the tensorized strategy. The op's semantics are the
// interpreter's (ir/ops/Ml.cpp); docs/classical-ml.md describes the strategies and the cost model.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ir/Error.h"
#include "ir/OpTable.h"
#include "ir/Tensor.h"
#include "passes/LowerImpl.h"

namespace tessel::trees {

enum class Mode { Leq, Lt, Gte, Gt, Eq, Neq, Leaf };
enum class Aggregate { Sum, Average, Min, Max };
enum class Post { None, Softmax, Logistic, SoftmaxZero, Probit };

/// How a tree_ensemble becomes loops: `branch` emits each tree as nested if/else with the thresholds as
/// immediates; `tensorized` walks all trees level by level, reading node tables (constant buffers).
enum class Strategy { Branch, Tensorized };

struct Node {
  Mode mode = Mode::Leaf;
  int64_t feature = 0;
  float threshold = 0;  ///< the attribute rounded to f32, as the interpreter compares
  bool missing_true = false;
  size_t true_child = 0, false_child = 0;           ///< indices into Model::nodes
  std::vector<std::pair<int64_t, double>> targets;  ///< a leaf's (target, weight) entries, in attribute order
};

struct Model {
  std::vector<Node> nodes;
  std::vector<size_t> roots;  ///< first node of each tree, by ascending tree id (the interpreter's order)
  int64_t n_targets = 1;
  std::vector<double> base_values;
  Aggregate aggregate = Aggregate::Sum;
  Post post = Post::None;
  int64_t depth = 0;               ///< the longest root-to-leaf path over all trees, in edges
  double mean_path = 0;            ///< root-to-leaf path length averaged over leaves and trees
  bool duplicate_targets = false;  ///< some leaf names one target twice
  int64_t leaf_entries = 0;        ///< (target, weight) entries over all leaves
};

/// Reads and checks a tree_ensemble's attributes; errors on a cycle or a dangling child.
Expected<Model> read_model(const AttrReader& attrs);

std::string_view strategy_name(Strategy strategy);  ///< "branch", "tensorized"
/// Parses "branch" / "tensorized"; the error lists the accepted names.
Expected<Strategy> parse_strategy(std::string_view name);

/// Estimated cycles per row of each strategy (the cost model, docs/classical-ml.md).
struct Costs {
  double branch = 0, tensorized = 0;
};
Costs estimate_costs(const Model& model);
/// The cheaper strategy by estimate_costs; tensorized when branch code would have more than
/// kMaxBranchLeafEntries leaf additions (LLVM's compile time grows much faster than linearly with them);
/// branch when tensorized cannot express the model.
Strategy choose_strategy(const Model& model);
inline constexpr int64_t kMaxBranchLeafEntries = 8192;

/// The tables of the tensorized strategy, by suffix: "feature" (i64), "threshold" (f32), "true" and
/// "false" (i64 node indices; a leaf points at itself), "mode" (i64, Mode values), "missing" (bool),
/// "roots" (i64), "values" (f64 [nodes * n_targets]) and "hits" (bool, same shape). Errors when a
/// leaf names a target twice (the table would change the order of the additions).
Expected<std::vector<std::pair<std::string, Tensor>>> make_tables(const Model& model);
inline constexpr const char* kTableSuffixes[] = {"feature", "threshold", "true",   "false", "mode",
                                                 "missing", "roots",     "values", "hits"};

}  // namespace tessel::trees

// ---- Shared by the two traversals (passes/LowerTrees.cpp, passes/LowerTreesTensorized.cpp) ----------

namespace tessel::lower {

/// One row's score buffers: `acc` (f64 [n_targets]) and, under MIN / MAX, `hit` (bool [n_targets]:
/// whether a leaf reached the target yet). `row` is the row's loop variable.
struct TreeRow {
  Expr row;
  std::string acc = "tree_acc", hit = "tree_hit";
};

/// Combines `weight` (f64) into acc[target] under the aggregate, the interpreter's way; `has` (bool, or
/// null for true) says whether the leaf names the target at all.
Stmt tree_accumulate(const trees::Model& model, const TreeRow& row, const Expr& target, const Expr& weight,
                     const Expr& has);
/// Feature `feature` of the row, in the dtype thresholds compare in: f32 for f32 X, f64 otherwise.
Expected<Expr> tree_feature(const Value* x, Inliner& inliner, const TreeRow& row, const Expr& feature);
/// `x mode threshold` for a branch mode (x and threshold of one float dtype).
Expr tree_compare(trees::Mode mode, const Expr& x, const Expr& threshold);
/// Every tree, level by level, over the node tables of `op` (tree_tables); adds each leaf to the row.
Expected<Stmt> tensorized_traversal(const Op& op, const trees::Model& model, Inliner& inliner, const TreeRow& row);

}  // namespace tessel::lower
