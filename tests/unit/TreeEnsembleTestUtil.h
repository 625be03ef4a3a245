// Small tree_ensemble attribute builders shared by the interpreter tests (InterpMlTest.cpp) and the
// lowering tests (LowerTreesTest.cpp): nodes and leaf weights written as rows, and the hand-checked
// two-tree, two-target ensemble both suites compute by hand.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ir/Attr.h"

namespace tessel::tree_test {

/// One nodes_* entry; a LEAF needs only tree, id and mode.
struct NodeSpec {
  int64_t tree, id;
  std::string mode;
  int64_t feature = 0;
  double value = 0;
  int64_t true_id = 0, false_id = 0, missing_true = 0;
};

/// One target_* entry: leaf (tree, id) adds `weight` to `target`.
struct WeightSpec {
  int64_t tree, id, target;
  double weight;
};

/// The attributes of a tree_ensemble with these nodes and weights; `extra` adds or replaces attributes.
inline AttrMap ensemble(const std::vector<NodeSpec>& nodes, const std::vector<WeightSpec>& weights, int64_t n_targets,
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

/// One split on feature 0 against 1.0 under `mode`: the true leaf scores 1, the false leaf 2.
inline AttrMap one_split(const std::string& mode, int64_t missing_true = 0) {
  return ensemble({{0, 0, mode, 0, 1.0, 1, 2, missing_true}, {0, 1, "LEAF"}, {0, 2, "LEAF"}},
                  {{0, 1, 0, 1.0}, {0, 2, 0, 2.0}}, 1);
}

// Two trees, two targets. Tree 0: x0 <= 1 ? leaf 1 {t0: 1, t1: -1}
//                                  : (x1 < 0.5, NaN -> true) ? leaf 3 {t0: 4} : leaf 4 {t0: 8, t1: 2}.
// Tree 1 (root id 10): x1 >= 2 ? leaf 11 {t1: 3} : leaf 12 {t0: 0.5}.
inline AttrMap two_trees(AttrMap extra = {}) {
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

}  // namespace tessel::tree_test
