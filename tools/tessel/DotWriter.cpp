// Graphviz output for `tessel dump --format=dot`. Node ids are generated
// ("f0_op3"), so only labels carry user text, and every label goes through
// dot_escape: value names in the IR may hold any characters.
#include "tools/tessel/DotWriter.h"

#include <unordered_map>

#include <fmt/format.h>

#include "ir/ValueNames.h"

namespace tessel::cli {
namespace {

/// Attribute values longer than this are cut, so that one huge list cannot swamp the graph.
constexpr size_t kMaxAttrChars = 48;

std::string truncate(std::string text) {
  if (text.size() <= kMaxAttrChars) return text;
  return text.substr(0, kMaxAttrChars - 3) + "...";
}

/// Where a value comes from: the node that draws its producer, and which result it is.
struct Source {
  std::string node;
  size_t result = 0;
  size_t num_results = 1;
};

class FunctionWriter {
 public:
  FunctionWriter(const Function& function, size_t index, std::string& out)
      : function_(function), names_(function), prefix_(fmt::format("f{}_", index)), out_(out) {}

  void write() {
    out_ += fmt::format("  subgraph cluster_{} {{\n", prefix_);
    out_ += fmt::format("    label=\"@{}\";\n", dot_escape(function_.name()));
    write_inputs();
    std::vector<Op*> ops = function_.ops();
    for (size_t i = 0; i < ops.size(); ++i) write_op(*ops[i], i);
    write_outputs();
    out_ += "  }\n";
  }

 private:
  void write_inputs() {
    const auto& inputs = function_.inputs();
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::string node = fmt::format("{}in{}", prefix_, i);
      sources_[inputs[i]] = {node, 0, 1};
      std::string label = fmt::format("input {}\n{}", names_(inputs[i]), inputs[i]->type().str());
      out_ += fmt::format("    {} [shape=invhouse, style=filled, fillcolor=\"#dbe9f6\", label=\"{}\"];\n", node,
                          dot_escape(label));
    }
  }

  void write_op(const Op& op, size_t index) {
    std::string node = fmt::format("{}op{}", prefix_, index);
    for (size_t r = 0; r < op.num_results(); ++r) sources_[op.result(r)] = {node, r, op.num_results()};
    out_ += fmt::format(
        "    {} [{}label=\"{}\"];\n", node,
        op.kind() == OpKind::Const ? "shape=cylinder, style=filled, fillcolor=\"#eeeeee\", " : "shape=box, ",
        dot_escape(op_label(op)));
    for (size_t i = 0; i < op.num_operands(); ++i) {
      const Value* operand = op.operand(i);
      if (!operand) continue;  // an absent optional operand
      std::string label = operand_label(operand);
      if (op.num_operands() > 1) label = fmt::format("{}: {}", i, label);  // order matters (sub, matmul)
      edge(operand, node, label);
    }
  }

  void write_outputs() {
    const auto& outputs = function_.outputs();
    const auto& names = function_.output_names();
    for (size_t i = 0; i < outputs.size(); ++i) {
      std::string node = fmt::format("{}out{}", prefix_, i);
      std::string name = i < names.size() && !names[i].empty() ? names[i] : fmt::format("#{}", i);
      out_ += fmt::format("    {} [shape=house, style=filled, fillcolor=\"#ddf2dd\", label=\"{}\"];\n", node,
                          dot_escape("output " + name));
      edge(outputs[i], node, operand_label(outputs[i]));
    }
  }

  std::string op_label(const Op& op) const {
    std::string label(op.name());
    if (op.kind() == OpKind::Const && op.attrs().count("name")) {
      label += " @" + op.attrs().at("name").as_string();
    }
    for (const auto& [name, value] : op.attrs()) {
      if (op.kind() == OpKind::Const && name == "name") continue;
      label += fmt::format("\n{} = {}", name, truncate(attr_value_str(value)));
    }
    for (const Value* result : op.results()) label += fmt::format("\n{}: {}", names_(result), result->type().str());
    return label;
  }

  std::string operand_label(const Value* value) const {
    auto it = sources_.find(value);
    if (it != sources_.end() && it->second.num_results > 1)
      return fmt::format("[{}] {}", it->second.result, value->type().str());
    return value->type().str();
  }

  void edge(const Value* value, const std::string& to, const std::string& label) {
    auto it = sources_.find(value);
    // The verifier guarantees every operand is defined earlier; an unverified module may not.
    std::string from = it != sources_.end() ? it->second.node : missing_node(value);
    out_ += fmt::format("    {} -> {} [label=\"{}\"];\n", from, to, dot_escape(label));
  }

  std::string missing_node(const Value* value) {
    std::string node = fmt::format("{}undef{}", prefix_, undefined_++);
    out_ += fmt::format("    {} [shape=octagon, color=red, label=\"{}\"];\n", node,
                        dot_escape("undefined " + names_(value)));
    return node;
  }

  const Function& function_;
  ValueNames names_;
  std::string prefix_;
  std::string& out_;
  std::unordered_map<const Value*, Source> sources_;
  size_t undefined_ = 0;
};

}  // namespace

std::string dot_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out;
}

std::string write_dot(const Module& module) {
  std::string out =
      "digraph tessel {\n  node [fontname=\"monospace\"];\n  edge [fontname=\"monospace\", fontsize=10];\n";
  const auto& functions = module.functions();
  for (size_t i = 0; i < functions.size(); ++i) FunctionWriter(*functions[i], i, out).write();
  out += "}\n";
  return out;
}

}  // namespace tessel::cli
