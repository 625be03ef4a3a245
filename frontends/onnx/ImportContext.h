// Private to the ONNX importer: the state of one import and the NodeContext that every op importer
// (Import*.cpp) receives. A NodeContext reads the node's inputs and attributes (applying defaults),
// emits IR ops through the builder -- folding them when their operands are known -- and binds the
// node's outputs. Like the Builder, it keeps the first error (a bad attribute, a missing constant) and
// the driver reports it after the op importer returns, so importers read as straight-line code.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "frontends/onnx/Importer.h"
#include "frontends/onnx/OnnxProto.h"
#include "ir/Builder.h"

namespace tessel::onnx {

/// What one import knows so far.
struct ImportState {
  ImportState(const ImportOptions& options, ImportReport& report, Builder& b)
      : options(options), report(report), b(b) {}
  const ImportOptions& options;
  ImportReport& report;
  Builder& b;
  std::unordered_map<std::string, Value*> values;  ///< ONNX value name -> IR value
  /// Integer tensors of rank 0 or 1 whose elements are known as dims (e.g. Shape(x) = [N, 3]); what
  /// lets Shape -> Gather -> Concat -> Reshape fold into a reshape with symbolic dims.
  std::unordered_map<const Value*, Shape> shape_vectors;
  std::map<std::string, int64_t> opsets;  ///< domain ("" for ai.onnx) -> imported version
  std::string model_dir;
  int depth = 0;               ///< subgraph nesting while inlining control flow
  int64_t unrolled_nodes = 0;  ///< nodes imported from subgraphs so far
  int64_t constants_made = 0;  ///< numbers the constants importers make, so their names are unique at once
};

/// Imports one node into the current function (the driver's step, also used for subgraphs).
Status import_node(ImportState& state, const pb::NodeProto& node, int index);
/// Imports the nodes of `graph` inline, with its inputs bound to `inputs` and outer names visible;
/// returns its outputs. How If, Loop and Scan are unrolled.
Expected<std::vector<Value*>> import_subgraph(ImportState& state, const pb::GraphProto& graph,
                                              const std::vector<Value*>& inputs);

/// The value of `value` if it is a constant (a `const` op's result), else null.
const Tensor* constant_of(const Value* value);

class NodeContext {
 public:
  NodeContext(ImportState& state, const pb::NodeProto& node, int64_t opset);

  const pb::NodeProto& node() const { return node_; }
  const std::string& op_type() const { return node_.op_type(); }
  int64_t opset() const { return opset_; }
  Builder& b() { return state_.b; }
  ImportState& state() { return state_; }
  const ImportOptions& options() const { return state_.options; }

  // ---- Errors (the first one is kept; see status()) ----
  /// Records an error about the model or the node; returns null for use in expressions.
  Value* fail(Error error);
  /// Records an error about something Tessel does not support.
  Value* fail_unsupported(Error error);
  Status status() const;
  bool failed() const { return failed_ || !state_.b.status().ok(); }

  // ---- Inputs ----
  int num_inputs() const { return node_.input_size(); }
  /// Whether optional input `i` is present (listed with a non-empty name).
  bool has_input(int i) const { return i < num_inputs() && !node_.input(i).empty(); }
  /// Input `i` as an IR value; null (with an error recorded) when a required input is absent.
  Value* input(int i);
  /// Input `i`, or null when it is absent (no error).
  Value* optional_input(int i) { return has_input(i) ? input(i) : nullptr; }
  const TensorType& type(int i) { return input(i)->type(); }
  /// The value of input `i` when known at import time, else null.
  const Tensor* constant(int i);
  /// Input `i` as a tensor known at import time; records an error (naming `what` and any graph input it
  /// depends on) when it is not.
  std::optional<Tensor> require_constant(int i, std::string_view what);
  /// Input `i` as integers known at import time.
  std::optional<std::vector<int64_t>> require_ints(int i, std::string_view what);
  /// Input `i` as dims: integers known at import time, or a shape vector with symbols.
  std::optional<Shape> require_dims(int i, std::string_view what);
  /// The elements of `value` as dims when known (constant ints, or a tracked shape vector).
  std::optional<Shape> dims_of(const Value* value) const;
  /// Input `i` as a scalar double when it is a known one-element tensor.
  std::optional<double> constant_scalar(int i);

  // ---- Attributes (defaults when absent; a present attribute of the wrong kind is an error) ----
  bool has_attr(std::string_view name) const { return find_attr(name) != nullptr; }
  int64_t attr_i(std::string_view name, int64_t default_value);
  double attr_f(std::string_view name, double default_value);
  std::string attr_s(std::string_view name, std::string default_value = {});
  std::vector<int64_t> attr_ints(std::string_view name, std::vector<int64_t> default_value = {});
  std::vector<double> attr_floats(std::string_view name, std::vector<double> default_value = {});
  std::vector<std::string> attr_strings(std::string_view name, std::vector<std::string> default_value = {});
  std::optional<Tensor> attr_tensor(std::string_view name);
  /// Records an error for any attribute outside `known` (catches attributes Tessel would ignore).
  void reject_attr(std::string_view name, std::string_view why);
  const pb::AttributeProto* find_attr(std::string_view name) const;

  // ---- Emitting IR (operands known at import time are folded, size-bounded) ----
  std::vector<Value*> create(OpKind kind, std::vector<Value*> operands, AttrMap attrs = {}, int num_results = 1);
  Value* op(OpKind kind, std::vector<Value*> operands, AttrMap attrs = {});
  Value* constant(Tensor value, const std::string& name_hint = "const");
  /// A scalar of `dtype` holding `value` (rounded as the dtype requires).
  Value* scalar(double value, DType dtype);
  /// `x` cast to `dtype`, or `x` itself when it already has that dtype.
  Value* cast(Value* x, DType dtype);
  /// Records `dims` as the known elements of `value` (an integer tensor of rank <= 1).
  void set_shape_vector(Value* value, Shape dims);

  // ---- Outputs ----
  int num_outputs() const { return node_.output_size(); }
  bool has_output(int i) const { return i < num_outputs() && !node_.output(i).empty(); }
  /// Binds output `i` (ignored when the output is absent).
  void set_output(int i, Value* value);

 private:
  std::optional<std::vector<Tensor>> try_fold(OpKind kind, const std::vector<Value*>& operands, const AttrMap& attrs,
                                              int num_results);
  std::optional<Shape> propagate_dims(OpKind kind, const std::vector<Value*>& operands, const AttrMap& attrs,
                                      const Value* result) const;
  const pb::AttributeProto* typed_attr(std::string_view name, int type, std::string_view kind_name);
  void record_needed_inputs(const Value* value);

  ImportState& state_;
  const pb::NodeProto& node_;
  int64_t opset_;
  std::unordered_map<std::string_view, const pb::AttributeProto*> attrs_;
  Error error_;
  bool failed_ = false;
};

/// An op importer: reads one ONNX node through `ctx` and binds its outputs.
using ImportFn = void (*)(NodeContext& ctx);

}  // namespace tessel::onnx
