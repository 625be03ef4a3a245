// Private to the ai.onnx.ml importers (ImportMl.cpp, ImportMlLinear.cpp, ImportSvm.cpp): the steps their
// classifiers share -- post transforms of a score matrix, class labels from a class index -- and the
// reading of the attributes they have in common.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "frontends/onnx/ImportContext.h"

namespace tessel::onnx {

/// Applies an ONNX-ML post_transform to scores [N, C] along the classes: NONE, LOGISTIC (sigmoid),
/// SOFTMAX, SOFTMAX_ZERO (entries exactly 0 stay 0, softmax over the others; a row of zeros stays 0,
/// as tree_ensemble does). PROBIT has no IR composition and is refused as unsupported. Null after
/// recording an error.
Value* ml_post_transform(NodeContext& ctx, Value* scores, const std::string& transform);

/// The class labels of a classifier node: classlabels_int64s / classlabels_ints (whichever `ints_attr`
/// names) or classlabels_strings. Records an error when both are given.
struct ClassLabels {
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  bool empty() const { return ints.empty() && strings.empty(); }
  int64_t size() const { return static_cast<int64_t>(strings.empty() ? ints.size() : strings.size()); }
};
std::optional<ClassLabels> read_class_labels(NodeContext& ctx, const char* ints_attr);

/// The label of each row from its class index [N] (i64): labels.ints[index] (i64), labels.strings[index]
/// (str), or the index itself when the node gives no labels.
Value* label_of_index(NodeContext& ctx, Value* index, const ClassLabels& labels);

/// label_of_index of the first maximum of each row of scores [N, C].
Value* label_of_argmax(NodeContext& ctx, Value* scores, const ClassLabels& labels);

/// The constant feature count F of a [N, F] input, or nullopt after recording an error naming `what`.
std::optional<int64_t> feature_count(NodeContext& ctx, Value* x, std::string_view what);

}  // namespace tessel::onnx
