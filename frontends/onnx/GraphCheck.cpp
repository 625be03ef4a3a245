// ONNX graph structure checks and topological ordering (see GraphCheck.h).
#include "frontends/onnx/GraphCheck.h"

#include <functional>
#include <queue>
#include <unordered_map>

namespace tessel::onnx {
namespace {

// Where a name is defined: a graph input, an initializer or a node output (node index >= 0).
struct Definition {
  int node = -1;
  std::string what;  ///< "graph input", "initializer" or a node label
};

using Definitions = std::unordered_map<std::string, Definition>;

Status define(Definitions& defs, const std::string& name, Definition def) {
  auto [it, inserted] = defs.emplace(name, def);
  if (inserted) return Status::success();
  // An initializer may double as a graph input of the same name (IR < 4 lists initializers as inputs).
  bool input_and_initializer = (it->second.what == "graph input" && def.what == "initializer") ||
                               (it->second.what == "initializer" && def.what == "graph input");
  if (input_and_initializer) return Status::success();
  return make_error("duplicate definition of '{}': {} and {} both produce it", name, it->second.what, def.what);
}

// Names some nodes on a cycle among `left` (nodes never scheduled), following unscheduled producers.
std::string describe_cycle(const pb::GraphProto& graph, const Definitions& defs, const std::vector<int>& pending) {
  int start = -1;
  for (int i = 0; i < graph.node_size(); ++i)
    if (pending[i] > 0) {
      start = i;
      break;
    }
  std::vector<int> path;
  std::vector<bool> on_path(graph.node_size(), false);
  int current = start;
  // Walk to any unscheduled producer until a node repeats: that repetition closes a cycle.
  while (current >= 0 && !on_path[current]) {
    on_path[current] = true;
    path.push_back(current);
    int next = -1;
    for (const std::string& input : graph.node(current).input()) {
      auto it = defs.find(input);
      if (it != defs.end() && it->second.node >= 0 && pending[it->second.node] > 0) {
        next = it->second.node;
        break;
      }
    }
    current = next;
  }
  std::vector<std::string> labels;
  bool in_cycle = false;
  for (int node : path) {
    in_cycle = in_cycle || node == current;
    if (in_cycle) labels.push_back(node_label(graph.node(node), node));
  }
  if (labels.empty()) labels.push_back(node_label(graph.node(start), start));
  return fmt::format("{}", fmt::join(labels, " <- "));
}

}  // namespace

std::string node_label(const pb::NodeProto& node, int index) {
  if (node.name().empty()) return fmt::format("node #{} ({})", index, node.op_type());
  return fmt::format("node '{}' ({})", node.name(), node.op_type());
}

Expected<std::vector<int>> check_graph(const pb::GraphProto& graph, const OuterScope& outer) {
  Definitions defs;
  for (const auto& input : graph.input()) {
    if (input.name().empty()) return make_error("a graph input has an empty name");
    TESSEL_TRY(define(defs, input.name(), {-1, "graph input"}));
  }
  std::unordered_map<std::string, int> initializers;
  for (const auto& init : graph.initializer()) {
    if (init.name().empty()) return make_error("an initializer has an empty name");
    if (!initializers.emplace(init.name(), 0).second)
      return make_error("duplicate definition of '{}': two initializers have that name", init.name());
    TESSEL_TRY(define(defs, init.name(), {-1, "initializer"}));
  }
  for (int i = 0; i < graph.node_size(); ++i)
    for (const std::string& output : graph.node(i).output())
      if (!output.empty()) TESSEL_TRY(define(defs, output, {i, node_label(graph.node(i), i)}));

  // Kahn's algorithm, always taking the lowest-numbered ready node so a sorted file keeps its order.
  std::vector<int> pending(graph.node_size(), 0);
  std::vector<std::vector<int>> users(graph.node_size());
  for (int i = 0; i < graph.node_size(); ++i) {
    for (const std::string& input : graph.node(i).input()) {
      if (input.empty()) continue;
      auto it = defs.find(input);
      if (it == defs.end() && outer && outer(input)) continue;
      if (it == defs.end())
        return make_error("{}: input '{}' is not produced by any node, initializer or graph input",
                          node_label(graph.node(i), i), input);
      if (it->second.node < 0) continue;
      ++pending[i];
      users[it->second.node].push_back(i);
    }
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < graph.node_size(); ++i)
    if (pending[i] == 0) ready.push(i);
  std::vector<int> order;
  while (!ready.empty()) {
    int node = ready.top();
    ready.pop();
    order.push_back(node);
    for (int user : users[node])
      if (--pending[user] == 0) ready.push(user);
  }
  if (static_cast<int>(order.size()) != graph.node_size())
    return make_error("the graph has a cycle: {}", describe_cycle(graph, defs, pending));

  for (const auto& output : graph.output())
    if (!defs.count(output.name()) && !(outer && outer(output.name())))
      return make_error("graph output '{}' is not produced by any node, initializer or graph input", output.name());
  return order;
}

}  // namespace tessel::onnx
