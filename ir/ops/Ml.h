// The parsed form of a tree_ensemble op's attributes (ir/ops/Ml.cpp describes the op and its numeric
// choices). One parser and one set of messages: the interpreter's shape rule and kernel read it, and
// so does the loop lowering (passes/LowerTreesModel.cpp), which builds its own view from it.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "ir/Error.h"
#include "ir/OpTable.h"

namespace tessel::ops::tree {

enum class NodeMode { BranchLeq, BranchLt, BranchGte, BranchGt, BranchEq, BranchNeq, Leaf };
enum class Aggregate { Sum, Average, Min, Max };
enum class PostTransform { None, Softmax, Logistic, SoftmaxZero, Probit };

struct TreeNode {
  int64_t tree = 0, id = 0;
  NodeMode mode = NodeMode::Leaf;
  int64_t feature = 0;
  double threshold = 0.0;  ///< the attribute rounded to f32
  bool missing_tracks_true = false;
  size_t true_child = 0, false_child = 0;           ///< indices into Ensemble::nodes
  std::vector<std::pair<int64_t, double>> targets;  ///< a leaf's (target id, weight) entries, in attribute order
};

struct Ensemble {
  std::vector<TreeNode> nodes;
  std::vector<size_t> roots;  ///< first node of each tree, by ascending tree id
  int64_t n_targets = 1;
  int64_t max_feature = -1;  ///< largest feature id a branch reads
  std::vector<double> base_values;
  Aggregate aggregate = Aggregate::Sum;
  PostTransform post_transform = PostTransform::None;
};

/// Parses and validates every attribute of a tree_ensemble op: array lengths, modes, unique node ids,
/// children that exist, feature ids >= 0, targets on leaves within n_targets, base_values, aggregate and
/// post transform names. (Cycles are found when a walk is longer than the node count.)
Expected<Ensemble> build_ensemble(const AttrReader& attrs);

}  // namespace tessel::ops::tree
