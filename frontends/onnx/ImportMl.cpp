// Importers for the ai.onnx.ml domain. Tree ensembles map to the IR's tree_ensemble op, whose node
// arrays follow TreeEnsembleRegressor; TreeEnsemble (ml opset 5) is converted to that form, its
// set-membership nodes becoming chains of equality tests. Binarizer and ArrayFeatureExtractor are
// compositions; LabelEncoder and CategoryMapper are label_encode ops (numbers and strings alike).
#include <algorithm>
#include <cmath>

#include "frontends/onnx/ImportMlUtil.h"
#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

constexpr std::string_view kModeNames[] = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE",
                                           "BRANCH_GT",  "BRANCH_EQ", "BRANCH_NEQ"};
constexpr std::string_view kAggregates[] = {"AVERAGE", "SUM", "MIN", "MAX"};
constexpr std::string_view kPostTransforms[] = {"NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT"};

// The node arrays of tree_ensemble (TreeEnsembleRegressor's layout), built tree by tree.
struct RegressorArrays {
  std::vector<int64_t> treeids, nodeids, featureids, truenodeids, falsenodeids, missing_true;
  std::vector<double> values;
  std::vector<std::string> modes;
  std::vector<int64_t> target_treeids, target_nodeids, target_ids;
  std::vector<double> target_weights;

  int64_t add_node(int64_t tree, int64_t id, std::string_view mode, int64_t feature, double value, bool missing) {
    treeids.push_back(tree);
    nodeids.push_back(id);
    modes.emplace_back(mode);
    featureids.push_back(feature);
    values.push_back(value);
    missing_true.push_back(missing ? 1 : 0);
    truenodeids.push_back(0);
    falsenodeids.push_back(0);
    return static_cast<int64_t>(nodeids.size()) - 1;
  }

  AttrMap attrs(int64_t n_targets, std::string aggregate, std::string post_transform) const {
    return {{"n_targets", n_targets},
            {"nodes_treeids", treeids},
            {"nodes_nodeids", nodeids},
            {"nodes_featureids", featureids},
            {"nodes_values", values},
            {"nodes_modes", modes},
            {"nodes_truenodeids", truenodeids},
            {"nodes_falsenodeids", falsenodeids},
            {"nodes_missing_value_tracks_true", missing_true},
            {"target_treeids", target_treeids},
            {"target_nodeids", target_nodeids},
            {"target_ids", target_ids},
            {"target_weights", target_weights},
            {"aggregate_function", std::move(aggregate)},
            {"post_transform", std::move(post_transform)}};
  }
};

// Converts TreeEnsemble (ml opset 5) trees into RegressorArrays, depth first.
class TreeConverter {
 public:
  TreeConverter(NodeContext& ctx) : ctx_(ctx) {}

  std::optional<RegressorArrays> run() {
    auto splits = ctx_.attr_tensor("nodes_splits");
    auto modes = ctx_.attr_tensor("nodes_modes");
    auto weights = ctx_.attr_tensor("leaf_weights");
    if (!splits || !modes || !weights) return fail("needs nodes_splits, nodes_modes and leaf_weights");
    splits_ = *splits;
    modes_ = *modes;
    weights_ = *weights;
    features_ = ctx_.attr_ints("nodes_featureids");
    true_ids_ = ctx_.attr_ints("nodes_truenodeids");
    false_ids_ = ctx_.attr_ints("nodes_falsenodeids");
    true_leafs_ = ctx_.attr_ints("nodes_trueleafs");
    false_leafs_ = ctx_.attr_ints("nodes_falseleafs");
    leaf_targets_ = ctx_.attr_ints("leaf_targetids");
    missing_ = ctx_.attr_ints("nodes_missing_value_tracks_true");
    auto n = static_cast<size_t>(splits_.numel());
    if (features_.size() != n || true_ids_.size() != n || false_ids_.size() != n || true_leafs_.size() != n ||
        false_leafs_.size() != n || static_cast<size_t>(modes_.numel()) != n ||
        (!missing_.empty() && missing_.size() != n) || leaf_targets_.size() != static_cast<size_t>(weights_.numel()))
      return fail("node or leaf attribute arrays have different lengths");
    if (!read_membership()) return std::nullopt;
    std::vector<int64_t> roots = ctx_.attr_ints("tree_roots");
    for (size_t tree = 0; tree < roots.size(); ++tree) {
      next_id_ = 0;
      if (!emit(static_cast<int64_t>(tree), roots[tree], false, 0)) return std::nullopt;
    }
    return out_;
  }

 private:
  std::nullopt_t fail(std::string_view why) {
    ctx_.fail(make_error("TreeEnsemble: {}", why));
    return std::nullopt;
  }

  // membership_values: one NaN-terminated set per MEMBER node, in node order.
  bool read_membership() {
    sets_.assign(static_cast<size_t>(splits_.numel()), {});
    auto values = ctx_.has_attr("membership_values") ? ctx_.attr_tensor("membership_values") : std::optional<Tensor>();
    int64_t cursor = 0;
    for (int64_t i = 0; i < modes_.numel(); ++i) {
      if (modes_.get_int(i) != 6) continue;
      if (!values) {
        fail("a MEMBER node needs membership_values");
        return false;
      }
      for (; cursor < values->numel() && !std::isnan(values->get_double(cursor)); ++cursor)
        sets_[i].push_back(values->get_double(cursor));
      ++cursor;  // the NaN that ends this set
    }
    return true;
  }

  // Emits node or leaf `index` of tree `tree`; returns its id in the tree (or nullopt on error).
  std::optional<int64_t> emit(int64_t tree, int64_t index, bool leaf, int depth) {
    if (depth > 10000) return fail("a tree is deeper than 10000 (a cycle?)");
    int64_t id = next_id_++;
    if (leaf) {
      if (index < 0 || index >= weights_.numel()) return fail("a leaf index is out of range");
      out_.add_node(tree, id, "LEAF", 0, 0.0, false);
      out_.target_treeids.push_back(tree);
      out_.target_nodeids.push_back(id);
      out_.target_ids.push_back(leaf_targets_[index]);
      out_.target_weights.push_back(weights_.get_double(index));
      return id;
    }
    if (index < 0 || index >= splits_.numel()) return fail("a node index is out of range");
    int64_t mode = modes_.get_int(index);
    bool missing = !missing_.empty() && missing_[index] != 0;
    if (mode < 0 || mode > 6) return fail("unknown node mode");
    if (mode == 6) return emit_member(tree, index, id, missing, depth);
    int64_t slot = out_.add_node(tree, id, kModeNames[mode], features_[index], splits_.get_double(index), missing);
    auto t = emit(tree, true_ids_[index], true_leafs_[index] != 0, depth + 1);
    if (!t) return std::nullopt;
    auto f = emit(tree, false_ids_[index], false_leafs_[index] != 0, depth + 1);
    if (!f) return std::nullopt;
    out_.truenodeids[slot] = *t;
    out_.falsenodeids[slot] = *f;
    return id;
  }

  // x in {v1..vk}: BRANCH_EQ v1 -> true subtree, else BRANCH_EQ v2 -> a copy of it, ..., else the false subtree.
  std::optional<int64_t> emit_member(int64_t tree, int64_t index, int64_t id, bool missing, int depth) {
    const auto& set = sets_[index];
    if (set.empty()) return fail("a MEMBER node has an empty set");
    int64_t current_id = id;
    for (size_t k = 0; k < set.size(); ++k) {
      int64_t slot = out_.add_node(tree, current_id, "BRANCH_EQ", features_[index], set[k], missing);
      auto t = emit(tree, true_ids_[index], true_leafs_[index] != 0, depth + 1);
      if (!t) return std::nullopt;
      out_.truenodeids[slot] = *t;
      if (k + 1 == set.size()) {
        auto f = emit(tree, false_ids_[index], false_leafs_[index] != 0, depth + 1);
        if (!f) return std::nullopt;
        out_.falsenodeids[slot] = *f;
      } else {
        current_id = next_id_++;
        out_.falsenodeids[slot] = current_id;
      }
    }
    return id;
  }

  NodeContext& ctx_;
  Tensor splits_, modes_, weights_;
  std::vector<int64_t> features_, true_ids_, false_ids_, true_leafs_, false_leafs_, leaf_targets_, missing_;
  std::vector<std::vector<double>> sets_;
  RegressorArrays out_;
  int64_t next_id_ = 0;
};

template <size_t N>
std::optional<std::string> enum_name(NodeContext& ctx, const char* attr, int64_t value,
                                     const std::string_view (&names)[N]) {
  if (value < 0 || value >= static_cast<int64_t>(N)) {
    ctx.fail(make_error("attribute '{}' has unknown value {}", attr, value));
    return std::nullopt;
  }
  return std::string(names[value]);
}

// The regressor-layout attributes that TreeEnsembleRegressor and TreeEnsembleClassifier share.
AttrMap legacy_tree_attrs(NodeContext& ctx, std::string_view prefix, int64_t n_targets) {
  std::string p(prefix);
  std::vector<double> values = ctx.attr_floats("nodes_values");
  if (ctx.has_attr("nodes_values_as_tensor")) {
    if (auto tensor = ctx.attr_tensor("nodes_values_as_tensor")) values = tensor->to_doubles();
  }
  std::vector<double> weights = ctx.attr_floats(p + "_weights");
  if (ctx.has_attr(p + "_weights_as_tensor")) {
    if (auto tensor = ctx.attr_tensor(p + "_weights_as_tensor")) weights = tensor->to_doubles();
  }
  std::vector<double> base = ctx.attr_floats("base_values");
  if (ctx.has_attr("base_values_as_tensor")) {
    if (auto tensor = ctx.attr_tensor("base_values_as_tensor")) base = tensor->to_doubles();
  }
  return {{"n_targets", n_targets},
          {"nodes_treeids", ctx.attr_ints("nodes_treeids")},
          {"nodes_nodeids", ctx.attr_ints("nodes_nodeids")},
          {"nodes_featureids", ctx.attr_ints("nodes_featureids")},
          {"nodes_values", values},
          {"nodes_modes", ctx.attr_strings("nodes_modes")},
          {"nodes_truenodeids", ctx.attr_ints("nodes_truenodeids")},
          {"nodes_falsenodeids", ctx.attr_ints("nodes_falsenodeids")},
          {"nodes_missing_value_tracks_true", ctx.attr_ints("nodes_missing_value_tracks_true")},
          {"target_treeids", ctx.attr_ints(p + "_treeids")},
          {"target_nodeids", ctx.attr_ints(p + "_nodeids")},
          {"target_ids", ctx.attr_ints(p + "_ids")},
          {"target_weights", weights},
          {"base_values", base},
          {"aggregate_function", ctx.attr_s("aggregate_function", "SUM")},
          {"post_transform", ctx.attr_s("post_transform", "NONE")}};
}

}  // namespace

void import_tree_ensemble(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  auto aggregate = enum_name(ctx, "aggregate_function", ctx.attr_i("aggregate_function", 1), kAggregates);
  auto post = enum_name(ctx, "post_transform", ctx.attr_i("post_transform", 0), kPostTransforms);
  if (!aggregate || !post) return;
  auto arrays = TreeConverter(ctx).run();
  if (!arrays) return;
  Value* scores = ctx.op(OpKind::TreeEnsemble, {x}, arrays->attrs(ctx.attr_i("n_targets", 1), *aggregate, *post));
  // TreeEnsemble's output has the input's type; the IR op computes in double and gives f32.
  ctx.set_output(0, ctx.cast(scores, x->type().dtype));
}

void import_tree_ensemble_regressor(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  ctx.set_output(0, ctx.op(OpKind::TreeEnsemble, {x}, legacy_tree_attrs(ctx, "target", ctx.attr_i("n_targets", 1))));
}

// TreeEnsembleClassifier: scores from tree_ensemble (one target per class), labels by argmax. The binary
// form (two labels, every weight on class 0) scores one value s per row and gives [1 - s, s] (NONE) or
// the transform of [-s, s], as the ONNX reference does.
void import_tree_ensemble_classifier(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  auto labels = read_class_labels(ctx, "classlabels_int64s");
  if (!labels) return;
  if (labels->empty())
    return (void)ctx.fail(make_error("TreeEnsembleClassifier needs one of classlabels_int64s and classlabels_strings"));
  auto class_ids = ctx.attr_ints("class_ids");
  bool binary = labels->size() == 2 && !class_ids.empty() &&
                std::all_of(class_ids.begin(), class_ids.end(), [](int64_t id) { return id == 0; });
  if (!binary) {
    Value* scores = ctx.op(OpKind::TreeEnsemble, {x}, legacy_tree_attrs(ctx, "class", labels->size()));
    ctx.set_output(0, label_of_argmax(ctx, scores, *labels));
    return ctx.set_output(1, scores);
  }
  AttrMap attrs = legacy_tree_attrs(ctx, "class", 1);
  std::string transform = ctx.attr_s("post_transform", "NONE");
  if (transform == "PROBIT")
    return (void)ctx.fail_unsupported(make_error("TreeEnsembleClassifier: post_transform PROBIT on a binary ensemble"));
  attrs.insert_or_assign("post_transform", std::string("NONE"));
  auto base = ctx.attr_floats("base_values");
  if (auto tensor = ctx.has_attr("base_values_as_tensor") ? ctx.attr_tensor("base_values_as_tensor") : std::nullopt)
    base = tensor->to_doubles();
  // The reference adds base_values[0] to the one score.
  attrs.insert_or_assign("base_values", base.empty() ? std::vector<double>{} : std::vector<double>{base[0]});
  Value* s = ctx.op(OpKind::TreeEnsemble, {x}, std::move(attrs));
  Value* first = transform == "NONE" ? ctx.op(OpKind::Sub, {ctx.scalar(1.0, DType::F32), s}) : ctx.op(OpKind::Neg, {s});
  Value* scores = ml_post_transform(ctx, ctx.op(OpKind::Concat, {first, s}, {{"axis", int64_t{1}}}), transform);
  ctx.set_output(0, label_of_argmax(ctx, scores, *labels));
  ctx.set_output(1, scores);
}

// Binarizer: 1 where x > threshold, else 0.
void import_binarizer(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  DType dtype = x->type().dtype;
  Value* above = ctx.op(OpKind::Greater, {x, ctx.scalar(ctx.attr_f("threshold", 0.0), dtype)});
  ctx.set_output(0, ctx.op(OpKind::Where, {above, ctx.scalar(1, dtype), ctx.scalar(0, dtype)}));
}

// ArrayFeatureExtractor: x[..., indices] with the indices flattened; a 1-D x gives one row.
void import_array_feature_extractor(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* indices = ctx.input(1);
  if (!x || !indices) return;
  Value* flat = ctx.op(OpKind::Reshape, {indices}, {{"shape", Shape{shape_numel(indices->type().shape)}}});
  Value* picked = ctx.op(OpKind::Gather, {x, flat}, {{"axis", int64_t{-1}}});
  if (picked && x->type().rank() == 1)
    picked = ctx.op(OpKind::Reshape, {picked}, {{"shape", Shape{1, picked->type().shape[0]}}});
  ctx.set_output(0, picked);
}

namespace {

// One of LabelEncoder's parallel key or value lists, from whichever attribute form the node uses.
std::optional<Tensor> read_list(NodeContext& ctx, const std::string& stem) {
  if (ctx.has_attr(stem + "_tensor")) return ctx.attr_tensor(stem + "_tensor");
  if (ctx.has_attr(stem + "_int64s")) {
    auto v = ctx.attr_ints(stem + "_int64s");
    return Tensor::of<int64_t>({static_cast<int64_t>(v.size())}, v);
  }
  if (ctx.has_attr(stem + "_floats")) {
    auto v = ctx.attr_floats(stem + "_floats");
    return Tensor::from_doubles(DType::F32, {static_cast<int64_t>(v.size())}, v);
  }
  if (ctx.has_attr(stem + "_strings")) {
    auto v = ctx.attr_strings(stem + "_strings");
    return Tensor::of<std::string>({static_cast<int64_t>(v.size())}, v);
  }
  ctx.fail(make_error("LabelEncoder needs one of {0}_int64s, {0}_floats, {0}_strings or {0}_tensor", stem));
  return std::nullopt;
}

// ONNX's defaults: "_Unused" for strings, -1 for integers, -0.0 for floats.
std::optional<Tensor> read_default(NodeContext& ctx, DType dtype) {
  if (ctx.has_attr("default_tensor")) {
    auto t = ctx.attr_tensor("default_tensor");
    if (!t) return std::nullopt;
    if (t->numel() != 1) {
      ctx.fail(make_error("LabelEncoder default_tensor must hold one element, got {}", t->type_str()));
      return std::nullopt;
    }
    return t->reshaped({});
  }
  if (dtype == DType::String) return Tensor::of<std::string>({}, {ctx.attr_s("default_string", "_Unused")});
  if (is_float(dtype)) return Tensor::from_doubles(dtype, {}, {ctx.attr_f("default_float", -0.0)});
  return Tensor::from_doubles(dtype, {}, {static_cast<double>(ctx.attr_i("default_int64", -1))});
}

/// `t` in `dtype`: numeric lists convert (attribute lists are i64 or f32 whatever the tensor's type);
/// strings and numbers do not mix.
std::optional<Tensor> as_dtype(NodeContext& ctx, const Tensor& t, DType dtype, std::string_view what) {
  if (t.dtype() == dtype) return t;
  if (t.dtype() == DType::String || dtype == DType::String) {
    ctx.fail(make_error("{} {} does not match {}", what, t.type_str(), dtype_name(dtype)));
    return std::nullopt;
  }
  return Tensor::from_doubles(dtype, t.shape(), t.to_doubles());
}

// label_encode(x, keys, values, default).
void emit_label_encode(NodeContext& ctx, Value* x, const Tensor& keys, const Tensor& values, const Tensor& fallback) {
  auto k = as_dtype(ctx, keys, x->type().dtype, "the keys");
  auto d = as_dtype(ctx, fallback, values.dtype(), "the default");
  if (!k || !d) return;
  if (k->numel() != values.numel())
    return (void)ctx.fail(make_error("{} needs keys and values of equal length, got {} and {}", ctx.op_type(),
                                     k->numel(), values.numel()));
  ctx.set_output(0, ctx.op(OpKind::LabelEncode,
                           {x, ctx.constant(*k, "keys"), ctx.constant(values, "values"), ctx.constant(*d, "default")}));
}

}  // namespace

// LabelEncoder: keys and values from attributes (lists or tensors), as one label_encode op.
void import_label_encoder(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  auto keys = read_list(ctx, "keys");
  auto values = read_list(ctx, "values");
  if (!keys || !values) return;
  auto fallback = read_default(ctx, values->dtype());
  if (!fallback) return;
  emit_label_encode(ctx, x, keys->reshaped({keys->numel()}), values->reshaped({values->numel()}), *fallback);
}

// CategoryMapper: strings -> int64 (cats_strings -> cats_int64s, default_int64) for a string input, the
// reverse (default_string) for an int64 input.
void import_category_mapper(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  auto strings = ctx.attr_strings("cats_strings");
  auto ints = ctx.attr_ints("cats_int64s");
  Tensor names = Tensor::of<std::string>({static_cast<int64_t>(strings.size())}, strings);
  Tensor numbers = Tensor::of<int64_t>({static_cast<int64_t>(ints.size())}, ints);
  DType dtype = x->type().dtype;
  if (dtype == DType::String)
    return emit_label_encode(ctx, x, names, numbers, Tensor::of<int64_t>({}, {ctx.attr_i("default_int64", -1)}));
  if (dtype == DType::I64)
    return emit_label_encode(ctx, x, numbers, names,
                             Tensor::of<std::string>({}, {ctx.attr_s("default_string", "_Unused")}));
  ctx.fail(make_error("CategoryMapper needs a string or int64 input, got {}", x->type().str()));
}

}  // namespace tessel::onnx
