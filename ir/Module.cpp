#include "ir/Module.h"

#include <algorithm>
#include <cassert>

namespace tessel {

Value* Function::add_input(std::string input_name, TensorType type) {
  auto value = std::make_unique<Value>();
  value->name_ = std::move(input_name);
  value->type_ = std::move(type);
  value->index_ = static_cast<int>(inputs_.size());
  inputs_.push_back(value.get());
  values_.push_back(std::move(value));
  return inputs_.back();
}

std::unique_ptr<Op> Function::make_op(OpKind kind, std::vector<Value*> operands, std::vector<TensorType> result_types,
                                      AttrMap attrs, std::string location) {
  auto op = std::make_unique<Op>();
  op->kind_ = kind;
  op->operands_ = std::move(operands);
  op->attrs_ = std::move(attrs);
  op->location_ = std::move(location);
  op->parent_ = this;
  for (size_t i = 0; i < result_types.size(); ++i) {
    auto value = std::make_unique<Value>();
    value->type_ = std::move(result_types[i]);
    value->producer_ = op.get();
    value->index_ = static_cast<int>(i);
    op->results_.push_back(value.get());
    values_.push_back(std::move(value));
  }
  return op;
}

Op* Function::append(OpKind kind, std::vector<Value*> operands, std::vector<TensorType> result_types, AttrMap attrs,
                     std::string location) {
  ops_.push_back(make_op(kind, std::move(operands), std::move(result_types), std::move(attrs), std::move(location)));
  return ops_.back().get();
}

Op* Function::insert_before(const Op* position, OpKind kind, std::vector<Value*> operands,
                            std::vector<TensorType> result_types, AttrMap attrs, std::string location) {
  auto it = std::find_if(ops_.begin(), ops_.end(), [&](const auto& op) { return op.get() == position; });
  assert(it != ops_.end() && "insert_before: position not in this function");
  auto op = make_op(kind, std::move(operands), std::move(result_types), std::move(attrs), std::move(location));
  return ops_.insert(it, std::move(op))->get();
}

void Function::erase(Op* op) {
  auto it = std::find_if(ops_.begin(), ops_.end(), [&](const auto& candidate) { return candidate.get() == op; });
  assert(it != ops_.end() && "erase: op not in this function");
  // Result values stay owned by values_ (cheap) so stale pointers never dangle.
  for (Value* result : op->results_) result->producer_ = nullptr;
  ops_.erase(it);
}

void Function::replace_all_uses(Value* from, Value* to) {
  for (auto& op : ops_)
    for (auto& operand : op->operands_)
      if (operand == from) operand = to;
  for (auto& output : outputs_)
    if (output == from) output = to;
}

std::vector<Op*> Function::ops() const {
  std::vector<Op*> list;
  list.reserve(ops_.size());
  for (const auto& op : ops_) list.push_back(op.get());
  return list;
}

void Function::set_outputs(std::vector<Value*> values, std::vector<std::string> names) {
  outputs_ = std::move(values);
  output_names_ = std::move(names);
  output_names_.resize(outputs_.size());
  for (size_t i = 0; i < outputs_.size(); ++i)
    if (output_names_[i].empty()) output_names_[i] = "output" + std::to_string(i);
}

Function* Module::add_function(std::string name) {
  functions_.push_back(std::make_unique<Function>(this, std::move(name)));
  return functions_.back().get();
}

Function* Module::function(std::string_view name) const {
  for (const auto& function : functions_)
    if (function->name() == name) return function.get();
  return nullptr;
}

Function* Module::entry() const {
  if (Function* main = function("main")) return main;
  return functions_.empty() ? nullptr : functions_.front().get();
}

std::string Module::add_constant(const std::string& name_hint, Tensor value) {
  std::string name = name_hint.empty() ? "c" : name_hint;
  for (int suffix = 1; constants_.count(name); ++suffix) name = name_hint + "_" + std::to_string(suffix);
  constants_.emplace(name, std::move(value));
  return name;
}

const Tensor* Module::constant(const std::string& name) const {
  auto it = constants_.find(name);
  return it == constants_.end() ? nullptr : &it->second;
}

}  // namespace tessel
