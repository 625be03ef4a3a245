// Structural checks of an ONNX graph before anything is imported: every name defined once (no duplicate
// outputs, inputs or initializers), every node input and graph output defined somewhere, no cycles. The
// result is an execution order (the file's own order when it is already topological).
#pragma once

#include <string>
#include <vector>

#include "frontends/onnx/OnnxProto.h"
#include "ir/Error.h"

namespace tessel::onnx {

/// "node 'conv1' (Conv)", or "node #3 (Conv)" for an unnamed node; what errors call a node.
std::string node_label(const pb::NodeProto& node, int index);

/// Checks names and order; returns node indices in a topological order. Errors name the node and value.
Expected<std::vector<int>> check_graph(const pb::GraphProto& graph);

}  // namespace tessel::onnx
