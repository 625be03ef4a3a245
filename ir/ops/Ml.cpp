// The ml family: tree_ensemble, label_encode and pairwise_coupling. tree_ensemble is the normalized form
// of ONNX-ML TreeEnsembleRegressor and TreeEnsembleClassifier (a classifier imports as its per-class
// scores, followed by argmax and a label lookup as separate ops). Nodes are named by (tree id, node id);
// each tree's root is its first node in array order, as in the ONNX reference and onnxruntime. Per row
// of X [N, F]: every tree routes the row to a leaf, the leaves' (target, weight) entries are aggregated
// per target (SUM, AVERAGE = sum / number of trees, MIN, MAX), base_values are added and post_transform
// is applied; the result is f32 [N, n_targets].
//
// Numeric choices, stated once:
// - Thresholds are rounded to f32 before comparing, as onnxruntime does. Features are read as double
//   (exact for f32, f64 and i32; i64 rounds to the nearest double) and compared with that f32 value.
// - A NaN feature takes the true branch when nodes_missing_value_tracks_true is 1, else the false one
//   (also for BRANCH_NEQ), as the ONNX reference does.
// - Scores accumulate in double and round to f32 once. Under MIN / MAX a target that no leaf reaches
//   scores 0 (before base_values), as in onnxruntime.
// - SOFTMAX_ZERO leaves entries that are exactly 0 at 0 and takes the softmax over the others (a row
//   of zeros stays zero). PROBIT is the exact inverse standard normal CDF (onnxruntime uses a
//   closed-form approximation, so its results can differ slightly); outside [0, 1] it gives NaN.
//
// label_encode (ONNX-ML LabelEncoder and CategoryMapper) maps each element of x through the parallel
// 1-D tensors keys -> values, else to the scalar default. Keys compare like `equal` (strings by bytes),
// except that a NaN key matches every NaN input; a repeated key maps to its last value (as ONNX says).
//
// pairwise_coupling (the probability step of ONNX-ML SVMClassifier) turns the pairwise probabilities of a
// one-vs-one classifier into class probabilities with libsvm's multiclass_probability (Wu, Lin and Weng
// 2004, method 2): the same start, update order, stopping rule (max error < 0.005 / classes) and
// iteration cap (max(100, classes)), computed in double as libsvm (and so scikit-learn) does, then
// rounded to the operand's dtype. It is an op rather than a composition because its iteration count
// depends on the data.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "ir/ops/Families.h"
#include "ir/ops/Ml.h"
#include "ir/ops/OpUtil.h"

namespace tessel::ops {

using namespace tree;  // NOLINT: the parsed ensemble (ir/ops/Ml.h)

namespace {

constexpr std::pair<std::string_view, NodeMode> kModes[] = {{"BRANCH_LEQ", NodeMode::BranchLeq},
                                                            {"BRANCH_LT", NodeMode::BranchLt},
                                                            {"BRANCH_GTE", NodeMode::BranchGte},
                                                            {"BRANCH_GT", NodeMode::BranchGt},
                                                            {"BRANCH_EQ", NodeMode::BranchEq},
                                                            {"BRANCH_NEQ", NodeMode::BranchNeq},
                                                            {"LEAF", NodeMode::Leaf}};
constexpr std::pair<std::string_view, Aggregate> kAggregates[] = {
    {"SUM", Aggregate::Sum}, {"AVERAGE", Aggregate::Average}, {"MIN", Aggregate::Min}, {"MAX", Aggregate::Max}};
constexpr std::pair<std::string_view, PostTransform> kPostTransforms[] = {{"NONE", PostTransform::None},
                                                                          {"SOFTMAX", PostTransform::Softmax},
                                                                          {"LOGISTIC", PostTransform::Logistic},
                                                                          {"SOFTMAX_ZERO", PostTransform::SoftmaxZero},
                                                                          {"PROBIT", PostTransform::Probit}};

/// Looks `name` up in a (name, value) table; error naming the attribute and the accepted names.
template <typename E, size_t N>
Expected<E> parse_name(const std::pair<std::string_view, E> (&table)[N], std::string_view attr,
                       const std::string& name) {
  std::string accepted;
  for (const auto& [text, value] : table) {
    if (text == name) return value;
    accepted += (accepted.empty() ? "" : ", ") + std::string(text);
  }
  return make_error("{} is '{}'; expected one of {}", attr, name, accepted);
}

std::string node_str(const TreeNode& node) { return fmt::format("node (tree {}, id {})", node.tree, node.id); }

/// Reads the nodes_* arrays: lengths, modes, unique ids, existing children, feature ids.
Status build_nodes(const AttrReader& attrs, Ensemble& ensemble, std::map<std::pair<int64_t, int64_t>, size_t>& index) {
  const auto& trees = attrs.ints("nodes_treeids");
  const auto& ids = attrs.ints("nodes_nodeids");
  const auto& features = attrs.ints("nodes_featureids");
  const auto& values = attrs.floats("nodes_values");
  const auto& modes = attrs.strings("nodes_modes");
  const auto& trues = attrs.ints("nodes_truenodeids");
  const auto& falses = attrs.ints("nodes_falsenodeids");
  const auto& missing = attrs.ints("nodes_missing_value_tracks_true");
  size_t count = trees.size();
  if (count == 0) return make_error("nodes_treeids is empty; the ensemble needs at least one tree");
  std::pair<std::string_view, size_t> lengths[] = {
      {"nodes_nodeids", ids.size()}, {"nodes_featureids", features.size()}, {"nodes_values", values.size()},
      {"nodes_modes", modes.size()}, {"nodes_truenodeids", trues.size()},   {"nodes_falsenodeids", falses.size()}};
  for (const auto& [name, length] : lengths)
    if (length != count)
      return make_error("{} has {} values but nodes_treeids has {}; every nodes_* array needs one value per node", name,
                        length, count);
  if (!missing.empty() && missing.size() != count)
    return make_error(
        "nodes_missing_value_tracks_true has {} values but there are {} nodes (give one per node, or none)",
        missing.size(), count);
  ensemble.nodes.resize(count);
  for (size_t i = 0; i < count; ++i) {
    TreeNode& node = ensemble.nodes[i];
    node.tree = trees[i];
    node.id = ids[i];
    if (!index.emplace(std::pair{node.tree, node.id}, i).second)
      return make_error("{} is defined twice", node_str(node));
    TESSEL_ASSIGN(node.mode, parse_name(kModes, fmt::format("nodes_modes[{}]", i), modes[i]));
    node.feature = features[i];
    node.threshold = static_cast<double>(static_cast<float>(values[i]));
    int64_t tracks = missing.empty() ? 0 : missing[i];
    if (tracks != 0 && tracks != 1)
      return make_error("nodes_missing_value_tracks_true[{}] is {}; it must be 0 or 1", i, tracks);
    node.missing_tracks_true = tracks == 1;
  }
  for (size_t i = 0; i < count; ++i) {
    TreeNode& node = ensemble.nodes[i];
    if (node.mode == NodeMode::Leaf) continue;
    if (node.feature < 0)
      return make_error("{} reads feature {}; feature ids must be >= 0", node_str(node), node.feature);
    ensemble.max_feature = std::max(ensemble.max_feature, node.feature);
    for (auto [child, slot, which] :
         {std::tuple{trues[i], &node.true_child, "true"}, std::tuple{falses[i], &node.false_child, "false"}}) {
      auto it = index.find({node.tree, child});
      if (it == index.end())
        return make_error("{} has {} child id {}, which tree {} does not define", node_str(node), which, child,
                          node.tree);
      *slot = it->second;
    }
  }
  std::map<int64_t, size_t> roots;
  for (size_t i = 0; i < count; ++i) roots.emplace(ensemble.nodes[i].tree, i);  // keeps the first node of each tree
  for (const auto& [tree, root] : roots) ensemble.roots.push_back(root);
  return Status::success();
}

/// Reads the target_* arrays onto the leaves they name.
Status build_targets(const AttrReader& attrs, Ensemble& ensemble,
                     const std::map<std::pair<int64_t, int64_t>, size_t>& index) {
  const auto& trees = attrs.ints("target_treeids");
  const auto& nodes = attrs.ints("target_nodeids");
  const auto& targets = attrs.ints("target_ids");
  const auto& weights = attrs.floats("target_weights");
  size_t count = trees.size();
  if (nodes.size() != count || targets.size() != count || weights.size() != count)
    return make_error(
        "target_treeids, target_nodeids, target_ids and target_weights must have equal lengths, got {}, {}, {} "
        "and {}",
        count, nodes.size(), targets.size(), weights.size());
  for (size_t i = 0; i < count; ++i) {
    auto it = index.find({trees[i], nodes[i]});
    if (it == index.end())
      return make_error("target entry {} names node (tree {}, id {}), which nodes_* do not define", i, trees[i],
                        nodes[i]);
    TreeNode& node = ensemble.nodes[it->second];
    if (node.mode != NodeMode::Leaf)
      return make_error("target entry {} names {}, which is not a LEAF", i, node_str(node));
    if (targets[i] < 0 || targets[i] >= ensemble.n_targets)
      return make_error("target_ids[{}] is {}, outside [0, n_targets = {})", i, targets[i], ensemble.n_targets);
    node.targets.emplace_back(targets[i], weights[i]);
  }
  return Status::success();
}

Status check_input(const TensorType& x, const Ensemble& ensemble) {
  if (x.rank() != 2 ||
      (x.dtype != DType::F32 && x.dtype != DType::F64 && x.dtype != DType::I64 && x.dtype != DType::I32))
    return type_error("X as [N, F] of f32, f64, i64 or i32", x);
  auto features = x.shape[1].as_const();
  if (features && ensemble.max_feature >= *features)
    return make_error("a node reads feature {}, but X has {} features ({})", ensemble.max_feature, *features, x.str());
  return Status::success();
}

// ---- Kernel -------------------------------------------------------------------------------------

bool goes_true(const TreeNode& node, double x) {
  if (std::isnan(x)) return node.missing_tracks_true;
  double t = node.threshold;
  switch (node.mode) {
    case NodeMode::BranchLeq: return x <= t;
    case NodeMode::BranchLt: return x < t;
    case NodeMode::BranchGte: return x >= t;
    case NodeMode::BranchGt: return x > t;
    case NodeMode::BranchEq: return x == t;
    case NodeMode::BranchNeq: return x != t;
    case NodeMode::Leaf: break;
  }
  return false;
}

/// The leaf `row` reaches from `root`; a walk longer than the node count means a cycle.
Expected<const TreeNode*> find_leaf(const Ensemble& ensemble, size_t root, const double* row) {
  const TreeNode* node = &ensemble.nodes[root];
  for (size_t steps = 0; steps <= ensemble.nodes.size(); ++steps) {
    if (node->mode == NodeMode::Leaf) return node;
    node = &ensemble.nodes[goes_true(*node, row[node->feature]) ? node->true_child : node->false_child];
  }
  return make_error("tree {} has a cycle (through {})", ensemble.nodes[root].tree, node_str(*node));
}

/// Inverse of the standard normal CDF: a rational first guess (Abramowitz & Stegun 26.2.23), refined by
/// Newton steps on Phi(x) = q, computed for the lower tail q = min(p, 1 - p).
double probit(double p) {
  if (!(p >= 0.0 && p <= 1.0)) return std::numeric_limits<double>::quiet_NaN();
  if (p == 0.0) return -std::numeric_limits<double>::infinity();
  if (p == 1.0) return std::numeric_limits<double>::infinity();
  double q = std::min(p, 1.0 - p);
  double t = std::sqrt(-2.0 * std::log(q));
  double x = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                       (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
  const double inv_sqrt_2pi = 0.3989422804014327;
  for (int i = 0; i < 20; ++i) {
    double error = 0.5 * std::erfc(-x / std::sqrt(2.0)) - q;
    double step = error / (inv_sqrt_2pi * std::exp(-0.5 * x * x));
    x -= step;
    if (std::abs(step) <= 1e-15 * (1.0 + std::abs(x))) break;
  }
  return p > 0.5 ? -x : x;
}

void post_transform(PostTransform transform, std::vector<double>& scores) {
  switch (transform) {
    case PostTransform::None: return;
    case PostTransform::Logistic:
      for (double& v : scores) v = 1.0 / (1.0 + std::exp(-v));
      return;
    case PostTransform::Probit:
      for (double& v : scores) v = probit(v);
      return;
    case PostTransform::Softmax:
    case PostTransform::SoftmaxZero: {
      bool skip_zeros = transform == PostTransform::SoftmaxZero;
      double max = -std::numeric_limits<double>::infinity(), sum = 0.0;
      for (double v : scores)
        if (!(skip_zeros && v == 0.0)) max = std::max(max, v);
      for (double& v : scores) {
        if (skip_zeros && v == 0.0) continue;
        v = std::exp(v - max);
        sum += v;
      }
      for (double& v : scores) v = v == 0.0 && skip_zeros ? 0.0 : v / sum;
      return;
    }
  }
}

Status score_row(const Ensemble& ensemble, const double* row, std::vector<double>& scores) {
  std::vector<bool> reached(scores.size(), false);
  std::fill(scores.begin(), scores.end(), 0.0);
  for (size_t root : ensemble.roots) {
    TESSEL_ASSIGN(const TreeNode* leaf, find_leaf(ensemble, root, row));
    for (const auto& [target, weight] : leaf->targets) {
      double& score = scores[static_cast<size_t>(target)];
      bool first = !reached[static_cast<size_t>(target)];
      reached[static_cast<size_t>(target)] = true;
      if (ensemble.aggregate == Aggregate::Min)
        score = first ? weight : std::min(score, weight);
      else if (ensemble.aggregate == Aggregate::Max)
        score = first ? weight : std::max(score, weight);
      else
        score += weight;
    }
  }
  for (size_t j = 0; j < scores.size(); ++j) {
    if (ensemble.aggregate == Aggregate::Average) scores[j] /= static_cast<double>(ensemble.roots.size());
    if (!ensemble.base_values.empty()) scores[j] += ensemble.base_values[j];
  }
  post_transform(ensemble.post_transform, scores);
  return Status::success();
}

// ---- label_encode -----------------------------------------------------------------------------------

Expected<std::vector<TensorType>> infer_label_encode(const ShapeContext& ctx) {
  const TensorType &x = ctx.operand(0), &keys = ctx.operand(1), &values = ctx.operand(2), &fallback = ctx.operand(3);
  if (keys.dtype != x.dtype)
    return make_error("label_encode keys must have the input's dtype, got keys {} for input {}", keys.str(), x.str());
  if (keys.rank() != 1 || values.rank() != 1)
    return make_error("label_encode keys and values must be 1-D, got {} and {}", keys.str(), values.str());
  if (keys.shape[0] != values.shape[0])
    return make_error("label_encode keys and values must have the same length, got {} and {}", keys.str(),
                      values.str());
  if (fallback.dtype != values.dtype || fallback.rank() != 0)
    return make_error("label_encode default must be a scalar of the values' dtype, got {} for values {}",
                      fallback.str(), values.str());
  return std::vector<TensorType>{{values.dtype, x.shape}};
}

/// For each element of x, the index of its key in `keys` (the last one if repeated), or -1.
std::vector<int64_t> key_indices(const Tensor& x, const Tensor& keys) {
  std::vector<int64_t> found(static_cast<size_t>(x.numel()), -1);
  if (x.dtype() == DType::String) {
    std::unordered_map<std::string_view, int64_t> index;
    for (int64_t k = 0; k < keys.numel(); ++k) index[keys.data<std::string>()[k]] = k;
    for (int64_t i = 0; i < x.numel(); ++i)
      if (auto it = index.find(x.data<std::string>()[i]); it != index.end()) found[i] = it->second;
    return found;
  }
  if (is_float(x.dtype())) {
    // Exact for every float dtype; -0 and +0 are one key, as they are equal.
    std::map<double, int64_t> index;
    int64_t nan_key = -1;
    for (int64_t k = 0; k < keys.numel(); ++k) {
      double key = keys.get_double(k);
      if (std::isnan(key))
        nan_key = k;
      else
        index[key] = k;
    }
    for (int64_t i = 0; i < x.numel(); ++i) {
      double value = x.get_double(i);
      if (std::isnan(value)) {
        found[i] = nan_key;
      } else if (auto it = index.find(value); it != index.end()) {
        found[i] = it->second;
      }
    }
    return found;
  }
  std::unordered_map<int64_t, int64_t> index;  // integers and bool: exact as int64 bit patterns
  for (int64_t k = 0; k < keys.numel(); ++k) index[keys.get_int(k)] = k;
  for (int64_t i = 0; i < x.numel(); ++i)
    if (auto it = index.find(x.get_int(i)); it != index.end()) found[i] = it->second;
  return found;
}

Expected<std::vector<Tensor>> eval_label_encode(const EvalContext& ctx) {
  const Tensor &x = ctx.input(0), &keys = ctx.input(1), &values = ctx.input(2), &fallback = ctx.input(3);
  if (keys.dtype() != x.dtype() || keys.rank() != 1 || values.rank() != 1 || keys.numel() != values.numel() ||
      fallback.dtype() != values.dtype() || fallback.rank() != 0)
    return make_error("label_encode got keys {}, values {} and default {} for input {}", keys.type_str(),
                      values.type_str(), fallback.type_str(), x.type_str());
  std::vector<int64_t> found = key_indices(x, keys);
  Tensor result(values.dtype(), x.shape());
  if (values.dtype() == DType::String) {
    for (int64_t i = 0; i < x.numel(); ++i)
      result.data<std::string>()[i] =
          found[i] < 0 ? fallback.data<std::string>()[0] : values.data<std::string>()[found[i]];
    return std::vector<Tensor>{result};
  }
  // Other dtypes: copy the element's bytes, so that every dtype (f16 and bool included) is kept exactly.
  const size_t size = dtype_size(values.dtype());
  auto* dst = static_cast<unsigned char*>(result.raw_data());
  const auto* from_values = static_cast<const unsigned char*>(values.raw_data());
  const auto* from_default = static_cast<const unsigned char*>(fallback.raw_data());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const unsigned char* src = found[i] < 0 ? from_default : from_values + static_cast<size_t>(found[i]) * size;
    std::memcpy(dst + static_cast<size_t>(i) * size, src, size);
  }
  return std::vector<Tensor>{result};
}

// ---- pairwise_coupling ------------------------------------------------------------------------------

Expected<std::vector<TensorType>> infer_pairwise_coupling(const ShapeContext& ctx) {
  int64_t classes = ctx.attrs.i("classes");
  if (classes < 2) return make_error("pairwise_coupling needs classes >= 2, got {}", classes);
  const TensorType& r = ctx.operand(0);
  if (r.rank() != 2 || (r.dtype != DType::F32 && r.dtype != DType::F64))
    return type_error("pairwise probabilities as [N, pairs] of f32 or f64", r);
  int64_t pairs = classes * (classes - 1) / 2;
  if (r.shape[1] != Dim(pairs))
    return make_error("pairwise_coupling with {} classes needs {} pairwise probabilities per row, got {}", classes,
                      pairs, r.str());
  return std::vector<TensorType>{{r.dtype, {r.shape[0], Dim(classes)}}};
}

/// libsvm's multiclass_probability for one row: `r` is the k x k matrix of pairwise probabilities
/// (r[i][j] + r[j][i] = 1), `p` receives the k class probabilities.
void couple(int64_t k, const std::vector<double>& r, double* p) {
  auto at = [k](int64_t i, int64_t j) { return static_cast<size_t>(i * k + j); };
  std::vector<double> q(static_cast<size_t>(k * k), 0.0), qp(static_cast<size_t>(k), 0.0);
  for (int64_t t = 0; t < k; ++t) {
    p[t] = 1.0 / static_cast<double>(k);
    for (int64_t j = 0; j < t; ++j) {
      q[at(t, t)] += r[at(j, t)] * r[at(j, t)];
      q[at(t, j)] = q[at(j, t)];
    }
    for (int64_t j = t + 1; j < k; ++j) {
      q[at(t, t)] += r[at(j, t)] * r[at(j, t)];
      q[at(t, j)] = -r[at(j, t)] * r[at(t, j)];
    }
  }
  const double eps = 0.005 / static_cast<double>(k);
  for (int64_t iter = 0; iter < std::max<int64_t>(100, k); ++iter) {
    // Recomputed each round for accuracy, as libsvm does.
    double pqp = 0.0;
    for (int64_t t = 0; t < k; ++t) {
      qp[t] = 0.0;
      for (int64_t j = 0; j < k; ++j) qp[t] += q[at(t, j)] * p[j];
      pqp += p[t] * qp[t];
    }
    double max_error = 0.0;
    for (int64_t t = 0; t < k; ++t) max_error = std::max(max_error, std::abs(qp[t] - pqp));
    if (max_error < eps) return;
    for (int64_t t = 0; t < k; ++t) {
      double diff = (-qp[t] + pqp) / q[at(t, t)];
      p[t] += diff;
      pqp = (pqp + diff * (diff * q[at(t, t)] + 2 * qp[t])) / (1 + diff) / (1 + diff);
      for (int64_t j = 0; j < k; ++j) {
        qp[j] = (qp[j] + diff * q[at(t, j)]) / (1 + diff);
        p[j] /= (1 + diff);
      }
    }
  }
}

Expected<std::vector<Tensor>> eval_pairwise_coupling(const EvalContext& ctx) {
  const Tensor& r = ctx.input(0);
  int64_t k = ctx.attrs.i("classes"), pairs = k * (k - 1) / 2;
  if (r.rank() != 2 || r.dim(1) != pairs)
    return make_error("pairwise_coupling with {} classes got {}", k, r.type_str());
  std::vector<double> pairwise = r.to_doubles(), matrix(static_cast<size_t>(k * k), 0.0);
  std::vector<double> probabilities(static_cast<size_t>(r.dim(0) * k));
  for (int64_t n = 0; n < r.dim(0); ++n) {
    const double* row = pairwise.data() + n * pairs;
    for (int64_t i = 0, index = 0; i < k; ++i)
      for (int64_t j = i + 1; j < k; ++j, ++index) {
        matrix[static_cast<size_t>(i * k + j)] = row[index];
        matrix[static_cast<size_t>(j * k + i)] = 1.0 - row[index];
      }
    couple(k, matrix, probabilities.data() + n * k);
  }
  return std::vector<Tensor>{Tensor::from_doubles(r.dtype(), {r.dim(0), k}, probabilities)};
}

}  // namespace

namespace tree {

Expected<Ensemble> build_ensemble(const AttrReader& attrs) {
  Ensemble ensemble;
  ensemble.n_targets = attrs.i("n_targets");
  if (ensemble.n_targets < 1) return make_error("n_targets must be at least 1, got {}", ensemble.n_targets);
  std::map<std::pair<int64_t, int64_t>, size_t> index;
  TESSEL_TRY(build_nodes(attrs, ensemble, index));
  TESSEL_TRY(build_targets(attrs, ensemble, index));
  ensemble.base_values = attrs.floats("base_values");
  if (!ensemble.base_values.empty() && static_cast<int64_t>(ensemble.base_values.size()) != ensemble.n_targets)
    return make_error("base_values has {} values; it must be empty or have n_targets = {}", ensemble.base_values.size(),
                      ensemble.n_targets);
  TESSEL_ASSIGN(ensemble.aggregate, parse_name(kAggregates, "aggregate_function", attrs.s("aggregate_function")));
  TESSEL_ASSIGN(ensemble.post_transform, parse_name(kPostTransforms, "post_transform", attrs.s("post_transform")));
  return ensemble;
}

}  // namespace tree

Expected<std::vector<TensorType>> infer_ml(const ShapeContext& ctx) {
  if (ctx.kind == OpKind::LabelEncode) return infer_label_encode(ctx);
  if (ctx.kind == OpKind::PairwiseCoupling) return infer_pairwise_coupling(ctx);
  TESSEL_ASSIGN(Ensemble ensemble, build_ensemble(ctx.attrs));
  if (!ctx.has_operand(0)) return make_error("tree_ensemble needs its operand X");
  const TensorType& x = ctx.operand(0);
  TESSEL_TRY(check_input(x, ensemble));
  return std::vector<TensorType>{{DType::F32, {x.shape[0], Dim(ensemble.n_targets)}}};
}

Expected<std::vector<Tensor>> eval_ml(const EvalContext& ctx) {
  if (ctx.kind == OpKind::LabelEncode) return eval_label_encode(ctx);
  if (ctx.kind == OpKind::PairwiseCoupling) return eval_pairwise_coupling(ctx);
  TESSEL_ASSIGN(Ensemble ensemble, build_ensemble(ctx.attrs));
  const Tensor& x = ctx.input(0);
  TESSEL_TRY(check_input({x.dtype(), to_shape(x.shape())}, ensemble));
  int64_t rows = x.dim(0), features = x.dim(1);
  std::vector<double> values = x.to_doubles();
  Tensor result(DType::F32, {rows, ensemble.n_targets});
  std::vector<double> scores(static_cast<size_t>(ensemble.n_targets));
  for (int64_t n = 0; n < rows; ++n) {
    TESSEL_TRY(score_row(ensemble, values.data() + n * features, scores));
    for (size_t j = 0; j < scores.size(); ++j)
      result.data<float>()[n * ensemble.n_targets + static_cast<int64_t>(j)] = static_cast<float>(scores[j]);
  }
  return std::vector<Tensor>{result};
}

}  // namespace tessel::ops
