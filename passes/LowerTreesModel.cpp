// The tree_ensemble model as the lowerings see it: built from the interpreter's parsed ensemble
// (ir/ops/Ml.h: one parser, one set of messages) plus what the lowerings and the cost model measure
// (depths, cycles, path counts), the cost model that chooses a strategy, and the node tables of the
// tensorized strategy.
#include <algorithm>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "ir/ops/Ml.h"
#include "passes/LowerTrees.h"

namespace tessel::trees {
namespace {

// The lowering's enums follow the interpreter's order, so they convert by value.
static_assert(static_cast<int>(Mode::Leaf) == static_cast<int>(ops::tree::NodeMode::Leaf) &&
              static_cast<int>(Mode::Neq) == static_cast<int>(ops::tree::NodeMode::BranchNeq));
static_assert(static_cast<int>(Aggregate::Max) == static_cast<int>(ops::tree::Aggregate::Max));
static_assert(static_cast<int>(Post::Probit) == static_cast<int>(ops::tree::PostTransform::Probit) &&
              static_cast<int>(Post::SoftmaxZero) == static_cast<int>(ops::tree::PostTransform::SoftmaxZero));

/// Depths by an explicit walk from every root; a path longer than the node count is a cycle.
Status measure_depths(Model& model) {
  double path_sum = 0;
  for (size_t root : model.roots) {
    std::vector<std::pair<size_t, int64_t>> stack{{root, 0}};
    double leaves = 0, lengths = 0;
    std::set<size_t> internal;
    while (!stack.empty()) {
      auto [i, depth] = stack.back();
      stack.pop_back();
      if (depth > static_cast<int64_t>(model.nodes.size()))
        return make_error("tree_ensemble tree with root node {} has a cycle", root);
      const Node& node = model.nodes[i];
      if (node.mode == Mode::Leaf) {
        model.depth = std::max(model.depth, depth);
        leaves += 1;
        lengths += static_cast<double>(depth);
        continue;
      }
      internal.insert(i);
      stack.push_back({node.true_child, depth + 1});
      stack.push_back({node.false_child, depth + 1});
    }
    path_sum += lengths / leaves;
    model.max_internal = std::max(model.max_internal, static_cast<int64_t>(internal.size()));
    model.max_paths = std::max(model.max_paths, static_cast<int64_t>(leaves));
  }
  model.mean_path = path_sum / static_cast<double>(model.roots.size());
  return Status::success();
}

}  // namespace

Expected<Model> read_model(const AttrReader& attrs) {
  TESSEL_ASSIGN(ops::tree::Ensemble ensemble, ops::tree::build_ensemble(attrs));
  Model model;
  model.n_targets = ensemble.n_targets;
  model.base_values = std::move(ensemble.base_values);
  model.aggregate = static_cast<Aggregate>(ensemble.aggregate);
  model.post = static_cast<Post>(ensemble.post_transform);
  model.roots = std::move(ensemble.roots);
  model.features = ensemble.max_feature + 1;
  model.nodes.reserve(ensemble.nodes.size());
  for (ops::tree::TreeNode& parsed : ensemble.nodes) {
    Node& node = model.nodes.emplace_back();
    node.mode = static_cast<Mode>(parsed.mode);
    node.feature = parsed.feature;
    node.threshold = static_cast<float>(parsed.threshold);  // exact: the parser rounded it to f32
    node.missing_true = parsed.missing_tracks_true;
    node.true_child = parsed.true_child;
    node.false_child = parsed.false_child;
    node.targets = std::move(parsed.targets);
  }
  TESSEL_TRY(measure_depths(model));
  for (const Node& node : model.nodes) {
    std::set<int64_t> seen;
    for (const auto& [target, weight] : node.targets)
      if (!seen.insert(target).second) model.duplicate_targets = true;
    model.leaf_entries += static_cast<int64_t>(node.targets.size());
  }
  return model;
}

std::string_view strategy_name(Strategy strategy) {
  switch (strategy) {
    case Strategy::Branch: return "branch";
    case Strategy::Tensorized: return "tensorized";
    case Strategy::Gemm: return "gemm";
  }
  return "branch";
}

Expected<Strategy> parse_strategy(std::string_view name) {
  for (Strategy strategy : {Strategy::Branch, Strategy::Tensorized, Strategy::Gemm})
    if (name == strategy_name(strategy)) return strategy;
  return make_error("tree strategy '{}' is not one of branch, tensorized, gemm", name);
}

Expected<StrategySpec> parse_strategy_spec(std::string_view name) {
  constexpr std::string_view kQuantized = "tensorized-quantized";
  if (name == kQuantized) return StrategySpec{Strategy::Tensorized, true};
  auto strategy = parse_strategy(name);
  if (!strategy)
    return make_error("tree strategy '{}' is not one of branch, tensorized, gemm, tensorized-quantized", name);
  return StrategySpec{*strategy, false};
}

std::string strategy_spec_name(const StrategySpec& spec) {
  return std::string(strategy_name(spec.strategy)) + (spec.quantized ? "-quantized" : "");
}

// The cost model, in estimated cycles per row. The constants are fitted to bench/ml_bench.py on the
// fixtures (x86-64, one thread; docs/classical-ml.md):
// - branch: every tree walks its mean root-to-leaf path; a step (load, compare, jump) costs ~4 cycles
//   while the code fits the L2 cache; code (about 24 bytes per node) beyond 1 MiB costs a miss
//   (~40 cycles) per step.
// - tensorized: every tree walks the full depth (leaves loop on themselves) without jumps; a step of
//   four dependent table loads measured ~6 cycles; each tree then adds its leaf's n_targets values
//   (~2 cycles each).
// - gemm: per tree and block of kGemmLanes rows (vector code), I feature gathers and compares (~8
//   cycles each), I x L multiply-adds of the path matrix (~0.8), L compares that find the path (~2.5)
//   and one gather and add per target (~15), divided by the rows of the block.
Costs estimate_costs(const Model& model) {
  double trees = static_cast<double>(model.roots.size());
  double code_bytes = 24.0 * static_cast<double>(model.nodes.size());
  double step = code_bytes > 1024.0 * 1024.0 ? 4.0 + 40.0 : 4.0;
  Costs costs;
  costs.branch = trees * model.mean_path * step;
  costs.tensorized =
      trees * static_cast<double>(model.depth) * 6.0 + trees * static_cast<double>(model.n_targets) * 2.0;
  if (gemm_refusal(model).empty()) {
    double inner = static_cast<double>(model.max_internal), paths = static_cast<double>(model.max_paths);
    double block = inner * 8.0 + inner * paths * 0.8 + paths * 2.5 + static_cast<double>(model.n_targets) * 15.0;
    costs.gemm = trees * block / static_cast<double>(kGemmLanes);
  }
  return costs;
}

Strategy choose_strategy(const Model& model) {
  Costs costs = estimate_costs(model);
  bool gemm = gemm_refusal(model).empty(), tensorized = !model.duplicate_targets;
  Strategy best = Strategy::Branch;
  double best_cost = costs.branch;
  if (model.leaf_entries > kMaxBranchLeafEntries && (tensorized || gemm))
    best_cost = std::numeric_limits<double>::infinity();
  if (tensorized && costs.tensorized < best_cost) {
    best = Strategy::Tensorized;
    best_cost = costs.tensorized;
  }
  if (gemm && costs.gemm < best_cost) best = Strategy::Gemm;
  return best;
}

Expected<std::vector<std::pair<std::string, Tensor>>> make_tables(const Model& model) {
  if (model.duplicate_targets)
    return make_error("the tensorized tree strategy needs every leaf to name each target at most once")
        .with_hint("use tree_strategy = \"branch\"");
  int64_t n = static_cast<int64_t>(model.nodes.size()), t = model.n_targets;
  Tensor feature(DType::I64, {n}), threshold(DType::F32, {n}), true_child(DType::I64, {n}),
      false_child(DType::I64, {n}), mode(DType::I64, {n}), missing(DType::Bool, {n}),
      roots(DType::I64, {static_cast<int64_t>(model.roots.size())}), values(DType::F64, {n * t}),
      hits(DType::Bool, {n * t});
  for (int64_t i = 0; i < n; ++i) {
    const Node& node = model.nodes[static_cast<size_t>(i)];
    bool leaf = node.mode == Mode::Leaf;
    feature.data<int64_t>()[i] = leaf ? 0 : node.feature;
    threshold.data<float>()[i] = node.threshold;
    true_child.data<int64_t>()[i] = leaf ? i : static_cast<int64_t>(node.true_child);
    false_child.data<int64_t>()[i] = leaf ? i : static_cast<int64_t>(node.false_child);
    mode.data<int64_t>()[i] = static_cast<int64_t>(node.mode);
    missing.data<uint8_t>()[i] = node.missing_true ? 1 : 0;
    for (int64_t j = 0; j < t; ++j) {
      values.data<double>()[i * t + j] = 0.0;
      hits.data<uint8_t>()[i * t + j] = 0;
    }
    for (const auto& [target, weight] : node.targets) {
      values.data<double>()[i * t + target] = weight;
      hits.data<uint8_t>()[i * t + target] = 1;
    }
  }
  for (size_t k = 0; k < model.roots.size(); ++k)
    roots.data<int64_t>()[static_cast<int64_t>(k)] = static_cast<int64_t>(model.roots[k]);
  Tensor tensors[] = {feature, threshold, true_child, false_child, mode, missing, roots, values, hits};
  std::vector<std::pair<std::string, Tensor>> tables;
  for (size_t k = 0; k < std::size(kTableSuffixes); ++k) tables.emplace_back(kTableSuffixes[k], tensors[k]);
  return tables;
}

}  // namespace tessel::trees
