// The tree_ensemble model as the lowerings see it: read from the attributes (the shape rule has checked
// lengths, ids, modes and targets; reading again here keeps the lowering safe on its own), the cost model
// that chooses a strategy, and the node tables of the tensorized strategy.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "passes/LowerTrees.h"

namespace tessel::trees {
namespace {

constexpr std::pair<std::string_view, Mode> kModes[] = {
    {"BRANCH_LEQ", Mode::Leq}, {"BRANCH_LT", Mode::Lt},   {"BRANCH_GTE", Mode::Gte}, {"BRANCH_GT", Mode::Gt},
    {"BRANCH_EQ", Mode::Eq},   {"BRANCH_NEQ", Mode::Neq}, {"LEAF", Mode::Leaf}};
constexpr std::pair<std::string_view, Aggregate> kAggregates[] = {
    {"SUM", Aggregate::Sum}, {"AVERAGE", Aggregate::Average}, {"MIN", Aggregate::Min}, {"MAX", Aggregate::Max}};
constexpr std::pair<std::string_view, Post> kPosts[] = {{"NONE", Post::None},
                                                        {"SOFTMAX", Post::Softmax},
                                                        {"LOGISTIC", Post::Logistic},
                                                        {"SOFTMAX_ZERO", Post::SoftmaxZero},
                                                        {"PROBIT", Post::Probit}};

template <typename E, size_t N>
Expected<E> lookup(const std::pair<std::string_view, E> (&table)[N], std::string_view attr, const std::string& name) {
  for (const auto& [text, value] : table)
    if (text == name) return value;
  return make_error("tree_ensemble {} is '{}', which the lowering does not know", attr, name);
}

/// Reads nodes_*: one Node per entry, children resolved to indices, roots in tree-id order.
Status read_nodes(const AttrReader& attrs, Model& model, std::map<std::pair<int64_t, int64_t>, size_t>& index) {
  const auto& trees = attrs.ints("nodes_treeids");
  const auto& ids = attrs.ints("nodes_nodeids");
  const auto& features = attrs.ints("nodes_featureids");
  const auto& values = attrs.floats("nodes_values");
  const auto& modes = attrs.strings("nodes_modes");
  const auto& trues = attrs.ints("nodes_truenodeids");
  const auto& falses = attrs.ints("nodes_falsenodeids");
  const auto& missing = attrs.ints("nodes_missing_value_tracks_true");
  size_t count = trees.size();
  if (count == 0 || ids.size() != count || features.size() != count || values.size() != count ||
      modes.size() != count || trues.size() != count || falses.size() != count ||
      (!missing.empty() && missing.size() != count))
    return make_error("tree_ensemble nodes_* arrays must be non-empty and of equal lengths (nodes_treeids has {})",
                      count);
  model.nodes.resize(count);
  for (size_t i = 0; i < count; ++i) {
    if (!index.emplace(std::pair{trees[i], ids[i]}, i).second)
      return make_error("tree_ensemble node (tree {}, id {}) is defined twice", trees[i], ids[i]);
    Node& node = model.nodes[i];
    TESSEL_ASSIGN(node.mode, lookup(kModes, "nodes_modes", modes[i]));
    node.feature = features[i];
    node.threshold = static_cast<float>(values[i]);
    node.missing_true = !missing.empty() && missing[i] == 1;
  }
  for (size_t i = 0; i < count; ++i) {
    Node& node = model.nodes[i];
    if (node.mode == Mode::Leaf) continue;
    if (node.feature < 0) return make_error("tree_ensemble node {} reads feature {}", i, node.feature);
    auto t = index.find({trees[i], trues[i]}), f = index.find({trees[i], falses[i]});
    if (t == index.end() || f == index.end())
      return make_error("tree_ensemble node (tree {}, id {}) has a child that tree {} does not define", trees[i],
                        ids[i], trees[i]);
    node.true_child = t->second;
    node.false_child = f->second;
  }
  std::map<int64_t, size_t> roots;
  for (size_t i = 0; i < count; ++i) roots.emplace(trees[i], i);
  for (const auto& [tree, root] : roots) model.roots.push_back(root);
  return Status::success();
}

Status read_targets(const AttrReader& attrs, Model& model, const std::map<std::pair<int64_t, int64_t>, size_t>& index) {
  const auto& trees = attrs.ints("target_treeids");
  const auto& nodes = attrs.ints("target_nodeids");
  const auto& targets = attrs.ints("target_ids");
  const auto& weights = attrs.floats("target_weights");
  if (nodes.size() != trees.size() || targets.size() != trees.size() || weights.size() != trees.size())
    return make_error("tree_ensemble target_* arrays must have equal lengths");
  for (size_t i = 0; i < trees.size(); ++i) {
    auto it = index.find({trees[i], nodes[i]});
    if (it == index.end() || model.nodes[it->second].mode != Mode::Leaf || targets[i] < 0 ||
        targets[i] >= model.n_targets)
      return make_error("tree_ensemble target entry {} (tree {}, node {}, target {}) names no leaf or target", i,
                        trees[i], nodes[i], targets[i]);
    model.nodes[it->second].targets.emplace_back(targets[i], weights[i]);
  }
  return Status::success();
}

/// Depths by an explicit walk from every root; a path longer than the node count is a cycle.
Status measure_depths(Model& model) {
  double path_sum = 0;
  for (size_t root : model.roots) {
    std::vector<std::pair<size_t, int64_t>> stack{{root, 0}};
    double leaves = 0, lengths = 0;
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
      stack.push_back({node.true_child, depth + 1});
      stack.push_back({node.false_child, depth + 1});
    }
    path_sum += lengths / leaves;
  }
  model.mean_path = path_sum / static_cast<double>(model.roots.size());
  return Status::success();
}

}  // namespace

Expected<Model> read_model(const AttrReader& attrs) {
  Model model;
  model.n_targets = attrs.i("n_targets");
  if (model.n_targets < 1) return make_error("tree_ensemble n_targets must be at least 1, got {}", model.n_targets);
  std::map<std::pair<int64_t, int64_t>, size_t> index;
  TESSEL_TRY(read_nodes(attrs, model, index));
  TESSEL_TRY(read_targets(attrs, model, index));
  model.base_values = attrs.floats("base_values");
  if (!model.base_values.empty() && static_cast<int64_t>(model.base_values.size()) != model.n_targets)
    return make_error("tree_ensemble base_values has {} values for {} targets", model.base_values.size(),
                      model.n_targets);
  TESSEL_ASSIGN(model.aggregate, lookup(kAggregates, "aggregate_function", attrs.s("aggregate_function")));
  TESSEL_ASSIGN(model.post, lookup(kPosts, "post_transform", attrs.s("post_transform")));
  TESSEL_TRY(measure_depths(model));
  for (const Node& node : model.nodes) {
    std::set<int64_t> seen;
    for (const auto& [target, weight] : node.targets)
      if (!seen.insert(target).second) model.duplicate_targets = true;
    model.leaf_entries += static_cast<int64_t>(node.targets.size());
  }
  return model;
}

std::string_view strategy_name(Strategy strategy) { return strategy == Strategy::Branch ? "branch" : "tensorized"; }

Expected<Strategy> parse_strategy(std::string_view name) {
  if (name == "branch") return Strategy::Branch;
  if (name == "tensorized") return Strategy::Tensorized;
  return make_error("tree strategy '{}' is not one of branch, tensorized", name);
}

// The cost model, in estimated cycles per row. The constants are fitted to bench/ml_bench.py on the
// fixtures (x86-64, one thread; docs/classical-ml.md):
// - branch: every tree walks its mean root-to-leaf path; a step (load, compare, jump) costs ~4 cycles
//   while the code fits the L2 cache; code (about 24 bytes per node) beyond 1 MiB costs a miss
//   (~40 cycles) per step.
// - tensorized: every tree walks the full depth (leaves loop on themselves) without jumps; a step of
//   four dependent table loads measured ~6 cycles; each tree then adds its leaf's n_targets values
//   (~2 cycles each).
Costs estimate_costs(const Model& model) {
  double trees = static_cast<double>(model.roots.size());
  double code_bytes = 24.0 * static_cast<double>(model.nodes.size());
  double step = code_bytes > 1024.0 * 1024.0 ? 4.0 + 40.0 : 4.0;
  Costs costs;
  costs.branch = trees * model.mean_path * step;
  costs.tensorized =
      trees * static_cast<double>(model.depth) * 6.0 + trees * static_cast<double>(model.n_targets) * 2.0;
  return costs;
}

Strategy choose_strategy(const Model& model) {
  if (model.duplicate_targets) return Strategy::Branch;
  if (model.leaf_entries > kMaxBranchLeafEntries) return Strategy::Tensorized;
  Costs costs = estimate_costs(model);
  return costs.tensorized < costs.branch ? Strategy::Tensorized : Strategy::Branch;
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
