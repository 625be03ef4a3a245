// Rewriter: shape-rule-typed op creation at a position inside a function.
#include "passes/Rewriter.h"

#include <algorithm>

#include <fmt/format.h>

namespace tessel {

std::vector<Value*> Rewriter::create(OpKind kind, std::vector<Value*> operands, AttrMap attrs, int num_results) {
  const OpInfo& info = op_info(kind);
  if (failed_) return std::vector<Value*>(num_results, nullptr);
  for (int i = 0; i < info.min_operands && i < static_cast<int>(operands.size()); ++i)
    if (!operands[i]) {
      if (!failed_) error_ = make_error("{}: operand {} is missing (an earlier op failed)", info.name, i);
      failed_ = true;
      return std::vector<Value*>(num_results, nullptr);
    }
  ShapeContext ctx{kind, {}, AttrReader(kind, attrs), num_results, function_.module()};
  for (const Value* operand : operands) ctx.operands.push_back(operand ? &operand->type() : nullptr);
  auto types = info.infer(ctx);
  if (!types) {
    error_ = types.error();
    error_.message = fmt::format("cannot create {}: {}", info.name, error_.message);
    failed_ = true;
    return std::vector<Value*>(num_results, nullptr);
  }
  Op* op =
      function_.insert_before(position_, kind, std::move(operands), std::move(*types), std::move(attrs), location_);
  return op->results();
}

Value* Rewriter::op(OpKind kind, std::vector<Value*> operands, AttrMap attrs) {
  return create(kind, std::move(operands), std::move(attrs), 1)[0];
}

Value* Rewriter::constant(Tensor value, const std::string& name_hint) {
  if (failed_) return nullptr;
  TensorType type{value.dtype(), to_shape(value.shape())};
  std::string name = module().add_constant(name_hint, std::move(value));
  Op* op = function_.insert_before(position_, OpKind::Const, {}, {type}, {{"name", name}}, location_);
  created_.push_back(op);
  return op->result();
}

Value* Rewriter::scalar(double value, DType dtype) {
  return constant(Tensor::from_doubles(dtype, {}, {value}), "scalar");
}

int count_uses(const Function& function, const Value* value) {
  int uses = 0;
  for (const Op* op : function.ops())
    for (const Value* operand : op->operands()) uses += operand == value;
  for (const Value* output : function.outputs()) uses += output == value;
  return uses;
}

void carry_name(const Value* from, Value* to) {
  const std::string& name = from->name();
  if (!to->name().empty() || name.empty()) return;
  if (std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) return;
  to->set_name(name);
}

const Tensor* constant_of(const Value* value) {
  if (!value || !value->producer() || value->producer()->kind() != OpKind::Const) return nullptr;
  const Op* op = value->producer();
  return op->parent()->module()->constant(op->attr().s("name"));
}

}  // namespace tessel
