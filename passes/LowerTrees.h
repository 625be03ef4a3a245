// Private to the tree_ensemble lowering (passes/LowerTrees*.cpp) and the choose-tree-strategy pass: the
// ensemble read from the op's attributes in the form the lowerings use, the strategies, the cost model
// that picks one, and the node tables of the tensorized strategy. The op's semantics are the
// interpreter's (ir/ops/Ml.cpp); docs/classical-ml.md describes the strategies and the cost model.
#pragma once

#include <cstdint>
#include <map>
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
/// immediates; `tensorized` walks all trees level by level, reading node tables (constant buffers);
/// `gemm` evaluates every node of a tree at once and finds the leaf with path matrices (Hummingbird's
/// GEMM form), vectorized over a block of rows. (Tensorized may also compare quantized thresholds:
/// StrategySpec.)
enum class Strategy { Branch, Tensorized, Gemm };

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
  int64_t max_internal = 0;        ///< most branch nodes reachable from one root
  int64_t max_paths = 0;           ///< most root-to-leaf paths of one tree (its leaves, for a tree)
  int64_t features = 0;            ///< 1 + the largest feature id a branch reads
};

/// The model of a tree_ensemble, from the interpreter's parser (ops::tree::build_ensemble, ir/ops/Ml.h) and
/// its messages; also errors on a cycle.
Expected<Model> read_model(const AttrReader& attrs);

std::string_view strategy_name(Strategy strategy);  ///< "branch", "tensorized", "gemm"
/// Parses "branch" / "tensorized" / "gemm"; the error lists the accepted names.
Expected<Strategy> parse_strategy(std::string_view name);

/// A strategy and whether its thresholds are quantized ("tensorized-quantized": every feature value is
/// mapped once per row to a small integer code, and nodes compare codes; LowerTreesQuantize.cpp).
struct StrategySpec {
  Strategy strategy = Strategy::Branch;
  bool quantized = false;
};
/// Parses "branch", "tensorized", "gemm" or "tensorized-quantized".
Expected<StrategySpec> parse_strategy_spec(std::string_view name);
std::string strategy_spec_name(const StrategySpec& spec);

/// Why thresholds cannot be quantized (a feature with too many distinct thresholds for u16 codes), or
/// an empty string.
std::string quantize_refusal(const Model& model);
/// The quantization tables, by suffix: "qoffsets" (i64 [features + 1]: where each feature's thresholds
/// start in "qthresholds"), "qthresholds" (f32: each feature's distinct thresholds, ascending, then one
/// padding value) and "qcodes" (u16 [nodes]: 2k + 1 for a node comparing with its feature's k-th
/// threshold). A value x codes as 2 * #{thresholds < x} + (x is a threshold), which orders against
/// every threshold's code exactly as x orders against the threshold; NaN codes as kNanCode.
Expected<std::vector<std::pair<std::string, Tensor>>> make_quantized_tables(const Model& model);
inline constexpr const char* kQuantizedTableSuffixes[] = {"qoffsets", "qthresholds", "qcodes"};
inline constexpr int64_t kNanCode = 65535;

/// Estimated cycles per row of each strategy (the cost model, docs/classical-ml.md); gemm is 0 when
/// gemm_refusal refuses the model.
struct Costs {
  double branch = 0, tensorized = 0, gemm = 0;
};
Costs estimate_costs(const Model& model);
/// The cheapest strategy by estimate_costs among those that can express the model; tensorized or gemm
/// when branch code would have more than kMaxBranchLeafEntries leaf additions (LLVM's compile time
/// grows much faster than linearly with them).
Strategy choose_strategy(const Model& model);
inline constexpr int64_t kMaxBranchLeafEntries = 8192;

/// Why the gemm strategy cannot lower `model` (MIN / MAX aggregates, a leaf naming a target twice, path
/// matrices over the size limits), or an empty string when it can.
std::string gemm_refusal(const Model& model);
/// Per tree, the path matrix holds max_internal x max_paths cells; at most this many.
inline constexpr int64_t kMaxGemmTreeCells = 65536;
/// All path matrices together, in cells (4 bytes each).
inline constexpr int64_t kMaxGemmCells = int64_t{1} << 24;
/// Rows a gemm step evaluates at once (the vector lanes of its inner loops).
inline constexpr int64_t kGemmLanes = 8;

/// The tables of the tensorized strategy, by suffix: "feature" (i64), "threshold" (f32), "true" and
/// "false" (i64 node indices; a leaf points at itself), "mode" (i64, Mode values), "missing" (bool),
/// "roots" (i64), "values" (f64 [nodes * n_targets]) and "hits" (bool, same shape). Errors when a
/// leaf names a target twice (the table would change the order of the additions).
Expected<std::vector<std::pair<std::string, Tensor>>> make_tables(const Model& model);
inline constexpr const char* kTableSuffixes[] = {"feature", "threshold", "true",   "false", "mode",
                                                 "missing", "roots",     "values", "hits"};

/// The tables of the gemm strategy (Hummingbird's A..E), every tree padded to I = max_internal branch
/// nodes and L = max_paths paths, by suffix: "feature" (i64 [trees * I]: the one-hot matrix A as the
/// index of its 1), "threshold" (f32, B), "mode" (i64), "missing" (bool), "paths" (f32 [trees * I * L],
/// C: +1 when the path takes the node's true branch, -1 its false branch, 0 off the path), "turns" (f32
/// [trees * L], D: the true branches of each path; -1 for a padding path, whose zero column always sums
/// to 0) and "leaves" (f64 [trees * L * n_targets], E: the path's leaf values). Errors with
/// gemm_refusal's reason.
Expected<std::vector<std::pair<std::string, Tensor>>> make_gemm_tables(const Model& model);
inline constexpr const char* kGemmTableSuffixes[] = {"feature", "threshold", "mode",  "missing",
                                                     "paths",   "turns",     "leaves"};

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
/// `quantized`: nodes compare the row's feature codes (quantized_codes) with the "qcodes" table.
Expected<Stmt> tensorized_traversal(const Op& op, const trees::Model& model, Inliner& inliner, const TreeRow& row,
                                    bool quantized);
/// The buffer `codes` (u16 [features], allocated around `body`) filled with the row's feature codes by a
/// binary search per feature over the quantization tables `tables` (make_quantized_tables).
Expected<Stmt> quantized_codes(const Op& op, const trees::Model& model, Inliner& inliner, const TreeRow& row,
                               const std::map<std::string, std::string>& tables, const std::string& codes, Stmt body);

/// The table buffers of `op` (tree_tables prefix + each of `suffixes`), checked to have the element
/// counts `sizes` gives by suffix; registers them as constant buffers. Maps suffix -> buffer name.
Expected<std::map<std::string, std::string>> bind_tree_tables(const Op& op, Inliner& inliner,
                                                              const std::vector<std::string>& suffixes,
                                                              const std::map<std::string, int64_t>& sizes);
/// The branch condition of the node at table index `k` (i64) for the row, from the tables "feature",
/// "threshold", "mode" and "missing" (a NaN feature reads "missing" when the model tracks it).
Expected<Expr> table_condition(const Op& op, const trees::Model& model, Inliner& inliner, const TreeRow& row,
                               const std::map<std::string, std::string>& tables, const Expr& k);

/// The row's epilogue shared by every strategy, inside the row's acc / hit / stat buffers: zero acc,
/// `fill` (the traversal, which adds the leaves into acc), then AVERAGE, base values, the post
/// transform and the stores of the results.
Expected<Stmt> tree_row(const trees::Model& model, const TreeRow& row, std::vector<Stmt> fill,
                        const StoreFn& store_result);
/// The gemm strategy's whole nest: blocks of kGemmLanes rows (the `d0` loop, parallel when the schedule
/// says so), each tree's node conditions, path sums and leaf values computed for all rows of the block
/// by vectorized loops, then tree_row per row.
Expected<Stmt> gemm_nest(const Op& op, const trees::Model& model, Inliner& inliner, const Schedule& schedule,
                         const StoreFn& store_result);

}  // namespace tessel::lower
