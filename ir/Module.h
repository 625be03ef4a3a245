// The tensor IR's containers. A Module owns functions and a constant pool; a
// Function owns its values and a topologically ordered list of ops; an Op
// refers to operand Values and defines result Values (SSA: each value has one
// definition, an op result or a function input).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/Attr.h"
#include "ir/OpTable.h"
#include "ir/Tensor.h"
#include "ir/Type.h"

namespace tessel {

class Op;
class Function;
class Module;

class Value {
 public:
  const TensorType& type() const { return type_; }
  void set_type(TensorType type) { type_ = std::move(type); }
  /// The source name ("x", "conv1.out"); empty for anonymous values, which print as numbers.
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  /// The defining op, or null for a function input.
  Op* producer() const { return producer_; }
  /// Result index within the producer, or input index within the function.
  int index() const { return index_; }

 private:
  friend class Function;
  TensorType type_;
  std::string name_;
  Op* producer_ = nullptr;
  int index_ = 0;
};

class Op {
 public:
  OpKind kind() const { return kind_; }
  const OpInfo& info() const { return op_info(kind_); }
  std::string_view name() const { return info().name; }

  const std::vector<Value*>& operands() const { return operands_; }
  size_t num_operands() const { return operands_.size(); }
  /// Null if the optional operand is absent.
  Value* operand(size_t i) const { return i < operands_.size() ? operands_[i] : nullptr; }
  void set_operand(size_t i, Value* value) { operands_[i] = value; }

  const std::vector<Value*>& results() const { return results_; }
  size_t num_results() const { return results_.size(); }
  Value* result(size_t i = 0) const { return results_[i]; }

  const AttrMap& attrs() const { return attrs_; }
  AttrReader attr() const { return AttrReader(kind_, attrs_); }
  void set_attr(const std::string& attr_name, Attr value) { attrs_.insert_or_assign(attr_name, std::move(value)); }

  /// Where the op came from (an ONNX node name, a builder label); used in errors.
  const std::string& location() const { return location_; }
  void set_location(std::string location) { location_ = std::move(location); }
  Function* parent() const { return parent_; }

 private:
  friend class Function;
  OpKind kind_ = OpKind::Const;
  std::vector<Value*> operands_;
  std::vector<Value*> results_;
  AttrMap attrs_;
  std::string location_;
  Function* parent_ = nullptr;
};

class Function {
 public:
  Function(Module* parent, std::string name) : parent_(parent), name_(std::move(name)) {}
  Function(const Function&) = delete;
  Function& operator=(const Function&) = delete;

  const std::string& name() const { return name_; }
  Module* module() const { return parent_; }

  Value* add_input(std::string input_name, TensorType type);
  const std::vector<Value*>& inputs() const { return inputs_; }

  /// Appends an op whose result types are given (no inference; see Builder for that).
  Op* append(OpKind kind, std::vector<Value*> operands, std::vector<TensorType> result_types, AttrMap attrs = {},
             std::string location = {});
  /// Inserts an op before `position` (which must belong to this function).
  Op* insert_before(const Op* position, OpKind kind, std::vector<Value*> operands, std::vector<TensorType> result_types,
                    AttrMap attrs = {}, std::string location = {});
  /// Removes an op; its results must be unused.
  void erase(Op* op);
  /// Redirects every use of `from` (operands and outputs) to `to`.
  void replace_all_uses(Value* from, Value* to);

  /// Ops in execution order.
  std::vector<Op*> ops() const;
  size_t num_ops() const { return ops_.size(); }

  void set_outputs(std::vector<Value*> values, std::vector<std::string> names);
  const std::vector<Value*>& outputs() const { return outputs_; }
  const std::vector<std::string>& output_names() const { return output_names_; }

 private:
  std::unique_ptr<Op> make_op(OpKind kind, std::vector<Value*> operands, std::vector<TensorType> result_types,
                              AttrMap attrs, std::string location);
  Module* parent_;
  std::string name_;
  std::vector<std::unique_ptr<Value>> values_;
  std::vector<Value*> inputs_;
  std::vector<std::unique_ptr<Op>> ops_;
  std::vector<Value*> outputs_;
  std::vector<std::string> output_names_;
};

class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  Function* add_function(std::string name);
  /// The function named `name`, or null.
  Function* function(std::string_view name) const;
  /// The entry point: "main" if present, else the first function; null if none.
  Function* entry() const;
  const std::vector<std::unique_ptr<Function>>& functions() const { return functions_; }

  /// Adds a constant under a unique name derived from `name_hint`; returns the name used.
  std::string add_constant(const std::string& name_hint, Tensor value);
  /// The constant named `name`, or null.
  const Tensor* constant(const std::string& name) const;
  const std::map<std::string, Tensor>& constants() const { return constants_; }
  void remove_constant(const std::string& name) { constants_.erase(name); }

 private:
  std::vector<std::unique_ptr<Function>> functions_;
  std::map<std::string, Tensor> constants_;
};

}  // namespace tessel
