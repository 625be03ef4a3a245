// The gemm tree strategy (Hummingbird's GEMM form, Nakandala et al., OSDI 2020): every branch node of a
// tree is evaluated at once, and the leaf is found by matrix products instead of a walk. Per tree, with
// I branch nodes and L root-to-leaf paths (padded to the ensemble's largest tree):
//
//   S = (X A) cmp B        [rows x I]  node conditions: A one-hot (feature of each node), B thresholds
//   P = S C                [rows x L]  C[i, l] = +1 / -1 when path l takes node i's true / false branch
//   hit = (P == D)         [rows x L]  D[l] = the true branches on path l: only the taken path matches
//   acc += hit E           [rows x T]  E[l] = the leaf values of path l
//
// The two one-hot products are done as the gathers they are: X A as x[row, feature[i]] (a real product
// would turn 0 * inf and 0 * NaN into NaN), hit E as E[path] with path = sum_l (hit[l] ? l : 0) (one
// vector op per path and one gather per target instead of paths x targets multiply-adds: 1.2x to 1.6x
// faster on the depth-3 boosting fixtures). S is 0 / 1 and C is -1 / 0 / +1, so P is an exact small
// integer in f32, and each tree adds its leaf's value once, in tree order, as the interpreter does (0.0
// for a target the leaf does not name leaves the f64 sum unchanged). Paths rather than leaves make the
// form exact for shared subtrees too: exactly one path is taken. The rows of a block of kGemmLanes are
// the vector lanes:
//
//   for d0 < ceil(N / lanes):                            (parallel when the schedule says so)
//     allocate gemm_s f32[I * lanes], gemm_p f32[L * lanes], gemm_path i32[lanes], gemm_acc f64[T * lanes] {
//       gemm_acc = 0
//       for t < trees:
//         for i < I:           for r < lanes (vectorized): gemm_s[i][r] = cond(row r, node t*I+i)
//         for l < L:           for r: gemm_p[l][r] = 0
//         for i < I: for l < L: for r: gemm_p[l][r] += C[t][i][l] * gemm_s[i][r]
//         for r: gemm_path[r] = 0;  for l < L: for r: gemm_path[r] += select(gemm_p[l][r] == D[t][l], l, 0)
//         for j < T: for r: gemm_acc[j][r] += E[t][gemm_path[r]][j]
//       for r < lanes: if d0 * lanes + r < N: tree_row(copy gemm_acc[.][r] into acc)
//     }
//
// Rows past N in the last block read row N - 1 (loads stay in bounds) and are never stored. MIN / MAX
// aggregates and leaves that name a target twice are refused (the dense E would change what is added).
#include <algorithm>

#include <fmt/format.h>

#include "passes/LowerTrees.h"

namespace tessel::trees {

std::string gemm_refusal(const Model& model) {
  if (model.aggregate == Aggregate::Min || model.aggregate == Aggregate::Max)
    return "it takes aggregate_function SUM or AVERAGE, not MIN or MAX";
  if (model.duplicate_targets) return "a leaf names one target twice";
  int64_t cells = model.max_internal * model.max_paths;
  if (cells > kMaxGemmTreeCells)
    return fmt::format("its largest tree needs a {} x {} path matrix, over the limit of {} cells", model.max_internal,
                       model.max_paths, kMaxGemmTreeCells);
  int64_t trees = static_cast<int64_t>(model.roots.size());
  if (cells * trees > kMaxGemmCells)
    return fmt::format("its {} trees need {} path-matrix cells, over the limit of {}", trees, cells * trees,
                       kMaxGemmCells);
  return {};
}

namespace {

/// One tree in gemm form: its branch nodes (model indices) and its paths as (local node, +1 / -1) turns.
struct GemmTree {
  std::vector<size_t> internal;
  std::vector<std::vector<std::pair<int64_t, float>>> paths;
  std::vector<size_t> leaves;  ///< the leaf each path ends at
};

GemmTree gemm_tree(const Model& model, size_t root) {
  GemmTree tree;
  std::map<size_t, int64_t> local;
  std::vector<std::pair<size_t, std::vector<std::pair<int64_t, float>>>> stack{{root, {}}};
  while (!stack.empty()) {
    auto [i, turns] = std::move(stack.back());
    stack.pop_back();
    const Node& node = model.nodes[i];
    if (node.mode == Mode::Leaf) {
      tree.paths.push_back(std::move(turns));
      tree.leaves.push_back(i);
      continue;
    }
    auto [it, added] = local.emplace(i, static_cast<int64_t>(tree.internal.size()));
    if (added) tree.internal.push_back(i);
    auto false_turns = turns;
    false_turns.emplace_back(it->second, -1.0f);
    turns.emplace_back(it->second, 1.0f);
    stack.push_back({node.false_child, std::move(false_turns)});
    stack.push_back({node.true_child, std::move(turns)});  // popped first: true-branch paths come first
  }
  return tree;
}

}  // namespace

Expected<std::vector<std::pair<std::string, Tensor>>> make_gemm_tables(const Model& model) {
  std::string refusal = gemm_refusal(model);
  if (!refusal.empty())
    return make_error("the gemm tree strategy cannot lower this ensemble: {}", refusal)
        .with_hint("use tree_strategy = \"branch\" or \"tensorized\"");
  int64_t trees = static_cast<int64_t>(model.roots.size()), inner = model.max_internal, paths = model.max_paths,
          targets = model.n_targets;
  Tensor feature(DType::I64, {trees * inner}), threshold(DType::F32, {trees * inner}),
      mode(DType::I64, {trees * inner}), missing(DType::Bool, {trees * inner}),
      path_matrix(DType::F32, {trees * inner * paths}), turns(DType::F32, {trees * paths}),
      leaves(DType::F64, {trees * paths * targets});
  for (int64_t k = 0; k < trees * inner; ++k) {  // padding nodes: feature 0, no path through them
    feature.data<int64_t>()[k] = 0;
    threshold.data<float>()[k] = 0;
    mode.data<int64_t>()[k] = static_cast<int64_t>(Mode::Leq);
    missing.data<uint8_t>()[k] = 0;
  }
  for (int64_t k = 0; k < trees * inner * paths; ++k) path_matrix.data<float>()[k] = 0;
  for (int64_t k = 0; k < trees * paths; ++k) turns.data<float>()[k] = -1;  // a zero column never sums to -1
  for (int64_t k = 0; k < trees * paths * targets; ++k) leaves.data<double>()[k] = 0;
  for (int64_t t = 0; t < trees; ++t) {
    GemmTree tree = gemm_tree(model, model.roots[static_cast<size_t>(t)]);
    for (size_t i = 0; i < tree.internal.size(); ++i) {
      const Node& node = model.nodes[tree.internal[i]];
      int64_t k = t * inner + static_cast<int64_t>(i);
      feature.data<int64_t>()[k] = node.feature;
      threshold.data<float>()[k] = node.threshold;
      mode.data<int64_t>()[k] = static_cast<int64_t>(node.mode);
      missing.data<uint8_t>()[k] = node.missing_true ? 1 : 0;
    }
    for (size_t p = 0; p < tree.paths.size(); ++p) {
      int64_t l = static_cast<int64_t>(p), true_turns = 0;
      for (const auto& [i, turn] : tree.paths[p]) {
        path_matrix.data<float>()[(t * inner + i) * paths + l] = turn;
        true_turns += turn > 0 ? 1 : 0;
      }
      turns.data<float>()[t * paths + l] = static_cast<float>(true_turns);
      for (const auto& [target, weight] : model.nodes[tree.leaves[p]].targets)
        leaves.data<double>()[(t * paths + l) * targets + target] = weight;
    }
  }
  Tensor tensors[] = {feature, threshold, mode, missing, path_matrix, turns, leaves};
  std::vector<std::pair<std::string, Tensor>> tables;
  for (size_t k = 0; k < std::size(kGemmTableSuffixes); ++k) tables.emplace_back(kGemmTableSuffixes[k], tensors[k]);
  return tables;
}

}  // namespace tessel::trees

namespace tessel::lower {

using namespace loop;  // NOLINT

namespace {

constexpr char kS[] = "gemm_s", kP[] = "gemm_p", kPath[] = "gemm_path", kAcc[] = "gemm_acc";

/// `body` for every row r of the block, as a vectorized loop over the lanes.
Stmt over_lanes(Stmt body) {
  return for_loop("tree_r", int_imm(0), int_imm(trees::kGemmLanes), ForKind::Vectorized, std::move(body));
}

Stmt serial(const char* name, int64_t extent, Stmt body) {
  return for_loop(name, int_imm(0), int_imm(extent), ForKind::Serial, std::move(body));
}

}  // namespace

Expected<Stmt> gemm_nest(const Op& op, const trees::Model& model, Inliner& inliner, const Schedule& schedule,
                         const StoreFn& store_result) {
  std::string refusal = trees::gemm_refusal(model);
  if (!refusal.empty())
    return op_error(op, "has tree_strategy \"gemm\", which cannot lower this ensemble: " + refusal)
        .with_hint("use tree_strategy = \"branch\" or \"tensorized\"");
  int64_t trees_count = static_cast<int64_t>(model.roots.size()), inner = model.max_internal, paths = model.max_paths,
          targets = model.n_targets, lanes = trees::kGemmLanes;
  TESSEL_ASSIGN(
      auto tables,
      bind_tree_tables(op, inliner, {std::begin(trees::kGemmTableSuffixes), std::end(trees::kGemmTableSuffixes)},
                       {{"feature", trees_count * inner},
                        {"threshold", trees_count * inner},
                        {"mode", trees_count * inner},
                        {"missing", trees_count * inner},
                        {"paths", trees_count * inner * paths},
                        {"turns", trees_count * paths},
                        {"leaves", trees_count * paths * targets}}));
  const Value* x = op.operand(0);
  Expr n = dim_expr(x->type().shape[0]), block_row = var("d0") * int_imm(lanes);
  Expr t = var("tree_t"), i = var("tree_i"), l = var("tree_l"), j = var("tree_j"), r = var("tree_r");
  TreeRow lane_row{min(block_row + r, n - int_imm(1))};  // lanes past N read the last row
  TESSEL_ASSIGN(Expr cond, table_condition(op, model, inliner, lane_row, tables, t * int_imm(inner) + i));

  Expr s_at = i * int_imm(lanes) + r, p_at = l * int_imm(lanes) + r, acc_at = j * int_imm(lanes) + r;
  Stmt zero_acc = serial("tree_j", targets, over_lanes(store(kAcc, acc_at, float_imm(0, DType::F64))));
  Stmt conditions = serial("tree_i", inner, over_lanes(store(kS, s_at, select(cond, float_imm(1), float_imm(0)))));
  Stmt zero_p = serial("tree_l", paths, over_lanes(store(kP, p_at, float_imm(0))));
  Expr c = load(tables.at("paths"), DType::F32, (t * int_imm(inner) + i) * int_imm(paths) + l);
  Stmt product =
      serial("tree_i", inner,
             serial("tree_l", paths,
                    over_lanes(store(kP, p_at, load(kP, DType::F32, p_at) + c * load(kS, DType::F32, s_at)))));
  Expr hit = eq(load(kP, DType::F32, p_at), load(tables.at("turns"), DType::F32, t * int_imm(paths) + l));
  // The path index in i32, the lane width of P: no mask widening per path.
  Stmt zero_path = over_lanes(store(kPath, r, int_imm(0, DType::I32)));
  Stmt find_path = serial(
      "tree_l", paths,
      over_lanes(store(kPath, r,
                       load(kPath, DType::I32, r) + select(hit, cast(Type{DType::I32}, l), int_imm(0, DType::I32)))));
  Expr path = cast(Type{DType::I64}, load(kPath, DType::I32, r));
  Expr value = load(tables.at("leaves"), DType::F64, (t * int_imm(paths) + path) * int_imm(targets) + j);
  Stmt add = serial("tree_j", targets, over_lanes(store(kAcc, acc_at, load(kAcc, DType::F64, acc_at) + value)));
  Stmt per_tree = serial("tree_t", trees_count, block({conditions, zero_p, product, zero_path, find_path, add}));

  TreeRow row{block_row + r};
  std::vector<Stmt> copy;
  for (int64_t target = 0; target < targets; ++target)
    copy.push_back(store(row.acc, int_imm(target), load(kAcc, DType::F64, int_imm(target * lanes) + r)));
  TESSEL_ASSIGN(Stmt finish, tree_row(model, row, copy, store_result));
  Stmt rows = serial("tree_r", lanes, if_then_else(row.row < n, finish));

  Stmt body = block({zero_acc, per_tree, rows});
  body = allocate(kAcc, DType::F64, int_imm(targets * lanes), MemoryKind::Local, body);
  body = allocate(kPath, DType::I32, int_imm(lanes), MemoryKind::Local, body);
  body = allocate(kP, DType::F32, int_imm(std::max<int64_t>(paths, 1) * lanes), MemoryKind::Local, body);
  body = allocate(kS, DType::F32, int_imm(std::max<int64_t>(inner, 1) * lanes), MemoryKind::Local, body);
  bool parallel = std::find(schedule.parallel.begin(), schedule.parallel.end(), "d0") != schedule.parallel.end();
  Expr blocks = (n + int_imm(lanes - 1)) / int_imm(lanes);
  return for_loop("d0", int_imm(0), blocks, parallel ? ForKind::Parallel : ForKind::Serial, body);
}

}  // namespace tessel::lower
