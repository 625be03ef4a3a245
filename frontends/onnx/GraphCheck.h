// Structural checks of an ONNX graph before anything is imported: every name defined once (no duplicate
// outputs, inputs or initializers), every node input and graph output defined somewhere, no cycles. The
// result is an execution order (the file's own order when it is already topological).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "frontends/onnx/OnnxProto.h"
#include "ir/Error.h"

namespace tessel::onnx {

/// "node 'conv1' (Conv)", or "node #3 (Conv)" for an unnamed node; what errors call a node.
std::string node_label(const pb::NodeProto& node, int index);

/// Names visible to a subgraph from the graphs around it (null: none, for the main graph).
using OuterScope = std::function<bool(const std::string&)>;

/// Checks names and order; returns node indices in a topological order. Errors name the node and value.
/// A subgraph may read names its `outer` scope defines.
Expected<std::vector<int>> check_graph(const pb::GraphProto& graph, const OuterScope& outer = nullptr);

}  // namespace tessel::onnx
